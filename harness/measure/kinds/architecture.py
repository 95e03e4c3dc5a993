"""Architecture claims: parameter counts, weight sizes and configuration values, from the model's configuration.

``config_value`` reads one key of the resolved configuration (``num_hidden_layers``); ``module_parameters``
counts the parameters of the modules of one name (``pooler``, ``token_type_embeddings``): 0 when the
architecture has none, which is how "the pooler is removed" is measured.

Counting needs no weights: the model is built on the ``meta`` device. The serialized size does need
bytes on disk, so it writes randomly initialised weights to a temporary directory and sums the files.
Every measurement's evidence carries the resolved configuration (every field, defaults marked) and, when a
local checkpoint's config.json was used, the fields in which it differs from the claims file's config: such
a difference makes the claim ``NOT_COMPARABLE`` (``harness.measure.comparability``), the numbers still shown.
``parameter_count`` and ``parameter_ratio`` take a counting convention (``include`` / ``exclude`` glob
patterns over module names, ``harness.ml.parameters``), checked at load by ``check_counting``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from harness.core.errors import ClaimError
from harness.measure.kinds import params as measure_params
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.ml.errors import FieldError
from harness.ml.models import ResolvedConfig, build_model, resolve_config
from harness.spec import Claim, ClaimsFile, ModelSpec

DTYPES = ("float32", "float16", "bfloat16")
#: ``parameter_ratio``'s statistics: baseline / model ("7.5x smaller") or model / baseline ("28% parameters")
RATIO_STATISTICS = ("times_smaller", "fraction")


def config_evidence(spec: ModelSpec, resolved: ResolvedConfig) -> dict[str, Any]:
    """Where the config came from, every resolved field (given or default), and any checkpoint difference."""
    evidence: dict[str, Any] = {"config": resolved.origin}
    if resolved.checkpoint is None and spec.builder == "transformers":
        from harness.ml.configs import resolve_config_fields

        fields = resolve_config_fields(str(spec.config["model_type"]), spec.config)
        evidence["resolved_config"] = fields.as_evidence()
        evidence["defaulted_fields"] = list(fields.defaulted())
    if resolved.differences:
        evidence["config_differences"] = {
            k: {"claims_file": repr(d.declared), "checkpoint": repr(d.found)} for k, d in resolved.differences.items()
        }
    return evidence


def claim_model(claim: Claim, context: Context, key: str = "model") -> tuple[Any, dict[str, Any]]:
    """The model ``measure.<key>`` names, on the meta device (built once per session), and the evidence of
    its configuration."""
    assert claim.measure is not None
    spec = context.file.models[claim.measure.params[key]]
    resolved = resolve_config(spec, context.options.models_dir, context.scope)
    cache_key = ("meta-model", spec.name, spec.builder, spec.auto_class, repr(sorted(resolved.config.items())))
    try:
        model = context.cached(cache_key, lambda: build_model(spec, resolved.config))
    except FieldError as exc:
        raise exc.to_claim_error(claim.path, claim.id, f"models.{spec.name}.") from None
    evidence = {"path": "architecture from configuration (no weights)", "smoke": False}
    evidence.update(config_evidence(spec, resolved))
    return model, evidence


def _conditions(model: Any) -> dict[str, str | bool]:
    """The counted module, pinned: its class (which head) and whether it holds a pooler."""
    pooler = any("pooler" in name.split(".") for name, _ in model.named_parameters())
    return {"model_class": type(model).__name__, "pooler": pooler}


def _dtype(claim: Claim) -> Any:
    import torch

    assert claim.measure is not None
    name = claim.measure.params.get("dtype", "float32")
    if name not in DTYPES:
        from harness.core.errors import MeasurementError

        raise MeasurementError(f"measure.dtype {name!r} is not one of {', '.join(DTYPES)}")
    return getattr(torch, name)


def _patterns(claim: Claim, key: str) -> tuple[str, ...]:
    assert claim.measure is not None
    value = claim.measure.params.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClaimError(
            claim.path,
            claim.id,
            f"measure.{key}",
            "an array of module-name glob patterns",
            repr(value),
            f'write e.g. {key} = ["pooler*"]',
        )
    return tuple(value)


def _count(claim: Claim, context: Context, key: str = "model") -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(model, evidence, details) of the parameters of ``measure.<key>`` under the claim's convention."""
    from harness.ml.parameters import count_parameters

    model, evidence = claim_model(claim, context, key)
    try:
        counted = count_parameters(model, _patterns(claim, "include"), _patterns(claim, "exclude"))
    except FieldError as exc:
        raise exc.to_claim_error(claim.path, claim.id, "measure.") from None
    evidence["convention"] = counted.convention()
    details = {
        "parameters": counted.total,
        "by_module": dict(counted.by_module),
        "excluded": dict(counted.excluded),
        "pattern_matches": {k: dict(v) for k, v in counted.matches.items()},
        "tied": [list(t) for t in counted.tied],
    }
    return model, evidence, details


def check_counting(claim: Claim, declared: ClaimsFile) -> None:
    """At load: ``include`` / ``exclude`` are arrays of patterns; a ratio's statistic is known and its baseline
    is another model. (Whether a pattern matches a module is known only once the model is built.)"""
    assert claim.measure is not None
    _patterns(claim, "include")
    _patterns(claim, "exclude")
    if claim.measure.kind != "parameter_ratio":
        return
    measure_params.statistic(
        claim,
        "times_smaller",
        RATIO_STATISTICS,
        "use times_smaller (baseline / model) or fraction (model / baseline).",
    )
    measure_params.other_baseline(claim, "the ratio")


@register("parameter_count", required=("model",), optional=("include", "exclude"), check=check_counting)
def parameter_count(claim: Claim, context: Context) -> Measurement:
    """Unique parameters of the model (tied weights counted once) under the claim's counting convention:
    ``include`` / ``exclude`` glob patterns over module and parameter names (``harness.ml.parameters``)."""
    model, evidence, details = _count(claim, context)
    return Measurement(
        float(details["parameters"]), "parameters", conditions=_conditions(model), evidence=evidence, details=details
    )


@register(
    "parameter_ratio",
    required=("model", "baseline"),
    optional=("include", "exclude", "statistic"),
    check=check_counting,
)
def parameter_ratio(claim: Claim, context: Context) -> Measurement:
    """How many times fewer parameters the model has than the baseline ("7.5x smaller"), both counted under
    the same convention; ``statistic = "fraction"``: the model's count over the baseline's ("28% parameters").
    For papers that print the ratio but not the counts."""
    assert claim.measure is not None
    statistic = claim.measure.params.get("statistic", "times_smaller")  # checked at load (check_counting)
    model, evidence, details = _count(claim, context)
    _, base_evidence, base_details = _count(claim, context, "baseline")
    n, b = details["parameters"], base_details["parameters"]
    value = b / n if statistic == "times_smaller" else n / b
    evidence = {**evidence, "baseline": base_evidence}
    names = (claim.measure.params["model"], claim.measure.params["baseline"])
    return Measurement(
        value,
        "ratio",
        conditions=_conditions(model),
        evidence=evidence,
        details={
            "statistic": statistic,
            "parameters": dict(zip(names, (n, b), strict=True)),
            names[0]: details,
            names[1]: base_details,
        },
    )


@register("weight_bytes", required=("model",), optional=("dtype",))
def weight_bytes(claim: Claim, context: Context) -> Measurement:
    """Bytes of the parameters held in ``dtype`` (buffers excluded)."""
    model, evidence = claim_model(claim, context)
    dtype = _dtype(claim)
    itemsize = dtype.itemsize
    count = sum(p.numel() for p in model.parameters())
    conditions = {**_conditions(model), "dtype": str(dtype).removeprefix("torch.")}
    return Measurement(
        float(count * itemsize),
        "bytes",
        conditions=conditions,
        evidence=evidence,
        details={"parameters": count, "bytes_per_parameter": itemsize},
    )


@register("serialized_bytes", required=("model",), optional=("dtype", "format"))
def serialized_bytes(claim: Claim, context: Context) -> Measurement:
    """Size on disk of the model saved with ``save_pretrained`` (safetensors), random weights."""
    assert claim.measure is not None
    spec = context.file.models[claim.measure.params["model"]]
    resolved = resolve_config(spec, context.options.models_dir, context.scope)
    dtype = _dtype(claim)
    model = build_model(spec, resolved.config, device="cpu", dtype=dtype)
    with tempfile.TemporaryDirectory(prefix="claims-serialized-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        files = sorted(Path(tmp).glob("*.safetensors"))
        size = sum(f.stat().st_size for f in files)
    evidence = {"path": "random weights saved with save_pretrained", "smoke": False, **config_evidence(spec, resolved)}
    conditions = {**_conditions(model), "dtype": str(dtype).removeprefix("torch."), "format": "safetensors"}
    return Measurement(
        float(size), "bytes", conditions=conditions, evidence=evidence, details={"files": [f.name for f in files]}
    )


@register("config_value", required=("model", "key"))
def config_value(claim: Claim, context: Context) -> Measurement:
    """One numeric value of the model's resolved configuration (e.g. the number of layers)."""
    from harness.core.errors import MeasurementError

    assert claim.measure is not None
    spec = context.file.models[claim.measure.params["model"]]
    resolved = resolve_config(spec, context.options.models_dir, context.scope)
    key = str(claim.measure.params["key"])
    value = resolved.config.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MeasurementError(
            f"{claim.path}: claim {claim.id}: measure.key {key!r}: expected a number in the configuration of "
            f"{spec.name} ({resolved.origin}), found {value!r}; fix: name a numeric key of that configuration"
        )
    evidence = {"path": f"configuration key {key!r}", "config": resolved.origin, "smoke": False}
    return Measurement(
        float(value), "count", conditions={"config_key": key}, evidence=evidence, details={"key": key, "value": value}
    )


@register("module_parameters", required=("model", "module"))
def module_parameters(claim: Claim, context: Context) -> Measurement:
    """Parameters held by modules named ``module`` (any depth): 0 when the architecture has no such module."""
    assert claim.measure is not None
    model, evidence = claim_model(claim, context)
    module = str(claim.measure.params["module"])
    names = [(n, p.numel()) for n, p in model.named_parameters() if module in n.split(".")]
    count = sum(n for _, n in names)
    return Measurement(
        float(count),
        "parameters",
        conditions={**_conditions(model), "module": module},
        evidence=evidence,
        details={"parameters": count, "matched": [n for n, _ in names]},
    )
