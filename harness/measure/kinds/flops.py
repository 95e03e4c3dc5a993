"""The ``flops`` kind: forward FLOPs of a model at a declared sequence length and batch, under a stated convention.

Counted analytically from the module tree on the ``meta`` device and cross-checked against torch's
``FlopCounterMode`` (``harness.ml.flops``). The claim states the convention the paper used: FLOPs per
multiply-add (``multiply_add = 2``: "2 x MAC"; ``1``: MACs), whether the attention score and value products
count (``attention_scores``), whether linear layers inside the embeddings count (``embeddings``) and whether
the pooler and task head count (``head``). The evidence gives the convention in words, the count per
top-level module and what the convention left out.
"""

from __future__ import annotations

from typing import Any

from harness.measure.kinds.architecture import claim_model
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.ml.errors import FieldError
from harness.spec import Claim

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


@register("flops", required=("model", "seq_len"), optional=tuple(FLOP_OPTIONS))
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
    conditions = {"model_class": type(model).__name__, "seq_len": count.seq_len, "batch_size": count.batch}
    return Measurement(float(count.total), "FLOP", conditions=conditions, evidence=evidence, details=details)
