"""The built-in measurement kinds, one module (or package) each; importing one registers it.

``architecture`` (parameter_count, weight_bytes, serialized_bytes, config_value, module_parameters),
``latency`` (paired timing), ``task_score``
(with its evidence paths in ``task_evidence``, the teacher of a distillation recipe in ``teacher``, where
checkpoints and data are found in ``checkpoints``), ``reduced_scale_delta`` (the paper's method at reduced scale)
and ``unavailable`` (not_measurable). They are loaded on first
use of ``harness.spec.kinds.KINDS``, like third-party kinds (see docs/extending.md).
"""
