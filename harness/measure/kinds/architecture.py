"""Architecture claims: parameter counts, weight sizes and configuration values, from the model's configuration.

``config_value`` reads one key of the resolved configuration (``num_hidden_layers``); ``module_parameters``
counts the parameters of the modules of one name (``pooler``, ``token_type_embeddings``): 0 when the
architecture has none, which is how "the pooler is removed" is measured.

Counting needs no weights: the model is built on the ``meta`` device. The serialized size does need
bytes on disk, so it writes randomly initialised weights to a temporary directory and sums the files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.ml.models import build_model, resolve_config
from harness.spec import Claim

DTYPES = ("float32", "float16", "bfloat16")


def _meta_model(claim: Claim, context: Context) -> tuple[Any, dict[str, Any]]:
    assert claim.measure is not None
    spec = context.file.models[claim.measure.params["model"]]
    resolved = resolve_config(spec, context.options.models_dir)
    model = context.cached(
        ("meta-model", spec.name, spec.auto_class, repr(sorted(resolved.config.items()))),
        lambda: build_model(spec, resolved.config),
    )
    evidence = {"path": "architecture from configuration (no weights)", "config": resolved.origin, "smoke": False}
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


@register("parameter_count", required=("model",))
def parameter_count(claim: Claim, context: Context) -> Measurement:
    """Unique parameters of the model (tied weights counted once)."""
    model, evidence = _meta_model(claim, context)
    count = sum(p.numel() for p in model.parameters())
    return Measurement(
        float(count), "parameters", conditions=_conditions(model), evidence=evidence, details={"parameters": count}
    )


@register("weight_bytes", required=("model",), optional=("dtype",))
def weight_bytes(claim: Claim, context: Context) -> Measurement:
    """Bytes of the parameters held in ``dtype`` (buffers excluded)."""
    model, evidence = _meta_model(claim, context)
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
    resolved = resolve_config(spec, context.options.models_dir)
    dtype = _dtype(claim)
    model = build_model(spec, resolved.config, device="cpu", dtype=dtype)
    with tempfile.TemporaryDirectory(prefix="claims-serialized-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        files = sorted(Path(tmp).glob("*.safetensors"))
        size = sum(f.stat().st_size for f in files)
    evidence = {"path": "random weights saved with save_pretrained", "config": resolved.origin, "smoke": False}
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
    resolved = resolve_config(spec, context.options.models_dir)
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
    model, evidence = _meta_model(claim, context)
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
