"""What every claim result carries besides its verdict: the evidence tags, the tolerance and the provenance."""

from __future__ import annotations

from typing import Any

from harness.spec import Claim

SMOKE_TAG = " [SMOKE: tiny stand-in model; evidence about the machinery, not about the paper]"
SYNTHETIC_TAG = " [SYNTHETIC: timed on synthetic token lengths, not on the paper's data]"


def reduced_scale_tag(claim: Claim) -> str:
    """The tag of a ``scale = "reduced"`` claim's reason (empty for a paper-scale claim)."""
    if claim.scale != "reduced":
        return ""
    return (
        f" [REDUCED SCALE: {claim.budget}; a verdict about the direction and order of the effect at this budget, "
        "not about the paper's magnitude]"
    )


def tolerance_of(claim: Claim) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": claim.tolerance.kind,
        "value": claim.tolerance.value,
        "rationale": claim.tolerance.rationale,
    }
    if claim.tolerance.sign:
        out["sign"] = claim.tolerance.sign
    return out


def provenance_of(claim: Claim) -> dict[str, Any]:
    return {
        "source": claim.source.reference,
        "title": claim.source.title,
        "version": claim.version,
        "location": claim.location,
        "quote": claim.quote,
        "formula": claim.formula.text if claim.formula else None,
        "inequalities": [i.text for i in claim.inequalities],
        "value_is_derived": claim.value_is_derived,
        "derived_by": claim.derived_by,
        "precision": claim.precision,
        "metric": None
        if claim.metric is None
        else {"name": claim.metric.name, "split": claim.metric.split, "assumption": claim.metric.assumption},
        "note": claim.note,
        "headline": claim.headline,
        "scale": claim.scale,
        "budget": claim.budget,
    }
