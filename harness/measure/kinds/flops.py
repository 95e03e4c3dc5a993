"""The ``flops`` kind: forward FLOPs of a model at a declared sequence length and batch, under a stated convention.

Counted analytically from the module tree on the ``meta`` device and cross-checked against torch's
``FlopCounterMode`` (``harness.ml.flops``). The claim states the convention the paper used: FLOPs per
multiply-add (``multiply_add = 2``: "2 x MAC"; ``1``: MACs), whether the attention score and value products
count (``attention_scores``), whether linear layers inside the embeddings count (``embeddings``) and whether
the pooler and task head count (``head``). The evidence gives the convention in words, the count per
top-level module and what the convention left out. At load (``check_flops_claim``) the convention, ``seq_len``
and ``batch`` are checked, and ``seq_len`` against the model's ``max_position_embeddings``.
"""

from __future__ import annotations

from typing import Any

from harness.core.errors import ClaimError
from harness.measure.kinds.architecture import claim_model
from harness.measure.measurement import Context, Measurement
from harness.measure.model_checks import max_positions
from harness.measure.registry import register
from harness.ml.errors import FieldError, require_positive_int
from harness.spec import Claim, ClaimsFile, Scalar

#: optional keys of [claims.measure] for kind "flops", with their defaults (None: from the model's config)
FLOP_OPTIONS: dict[str, Any] = {
    "batch": 1,
    "multiply_add": 2,
    "attention_scores": True,
    "embeddings": False,
    "head": True,
    "attention_layers": None,
    "attention_width": None,
}


def check_flops_claim(claim: Claim, declared: ClaimsFile) -> None:
    """At load: a valid convention, whole ``seq_len`` and ``batch`` >= 1, and a ``seq_len`` the model takes."""
    from harness.ml.flops import FlopConvention

    assert claim.measure is not None
    params = {**FLOP_OPTIONS, **claim.measure.params}
    try:
        FlopConvention(params["multiply_add"], params["attention_scores"], params["embeddings"], params["head"])
        seq_len = require_positive_int("seq_len", params["seq_len"])
        require_positive_int("batch", params["batch"])
        for key in ("attention_layers", "attention_width"):
            if params[key] is not None:
                require_positive_int(key, params[key])
    except FieldError as exc:
        raise exc.to_claim_error(claim.path, claim.id, "measure.") from None
    spec = declared.models[params["model"]]
    limit = max_positions(spec)
    if limit is not None and seq_len > limit:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure.seq_len",
            f"at most [models.{spec.name}]'s max_position_embeddings ({limit})",
            str(seq_len),
            f"count at a sequence length <= {limit}, or declare the config the paper used",
        )


@register("flops", required=("model", "seq_len"), optional=tuple(FLOP_OPTIONS), check=check_flops_claim)
def flops(claim: Claim, context: Context) -> Measurement:
    """Forward FLOPs of ``batch`` sequences of ``seq_len`` tokens under the claim's counting convention."""
    from harness.ml.flops import FlopConvention, forward_flops

    assert claim.measure is not None
    params = {**FLOP_OPTIONS, **claim.measure.params}
    model, evidence = claim_model(claim, context)
    try:
        convention = FlopConvention(
            multiply_add=params["multiply_add"],
            attention_scores=params["attention_scores"],
            embeddings=params["embeddings"],
            head=params["head"],
        )
        count = forward_flops(
            model,
            params["seq_len"],
            params["batch"],
            convention,
            attention_layers=params["attention_layers"],
            attention_width=params["attention_width"],
        )
    except FieldError as exc:
        raise exc.to_claim_error(claim.path, claim.id, "measure.") from None
    evidence["convention"] = convention.describe()
    details = {
        "flops": count.total,
        "seq_len": count.seq_len,
        "batch": count.batch,
        "by_module": dict(count.by_module),
        "excluded": dict(count.excluded),
        "flop_counter_mode_total": count.measured,
        "cross_check": "analytic count with everything included equals torch's FlopCounterMode",
    }
    conditions: dict[str, Scalar] = {
        "model_class": type(model).__name__,
        "seq_len": count.seq_len,
        "batch_size": count.batch,
    }
    return Measurement(float(count.total), "FLOP", conditions=conditions, evidence=evidence, details=details)
