"""Evaluating one claim: consistency of the source, measurement, comparability, then the verdict."""

from __future__ import annotations

import math

from harness.core.errors import NotRunError
from harness.measure.measurement import Context, Measurement
from harness.spec import Claim, Scalar
from harness.verdict import (
    ClaimResult,
    Verdict,
    check_consistency,
    claim_band,
    decide,
    deviation,
    differing_conditions,
)


def evaluate(claim: Claim, context: Context, nodeid: str, reproduce: str) -> ClaimResult:
    """The claim's result. Order: a source that contradicts itself is INCONSISTENT whatever is measured;
    a measurement that cannot run is NOT_RUN; different conditions are NOT_COMPARABLE; else the band."""
    components = {n: context.file.claim(n) for n in (claim.formula.names if claim.formula else ())}
    consistency = check_consistency(claim, components)
    measurement: Measurement | None = None
    not_run: NotRunError | None = None
    try:
        measurement = context.measure(claim)
    except NotRunError as exc:
        not_run = exc
    b = claim_band(claim)
    remedy = None
    differing: dict[str, tuple[Scalar, Scalar | None]] = {}
    if measurement is not None:
        differing = differing_conditions(claim, measurement.conditions)
        config_diff = measurement.evidence.get("config_differences")
        if config_diff:  # a checkpoint's config.json that is not the model the claims file declares
            found = ", ".join(f"{k} {v['claims_file']} -> {v['checkpoint']}" for k, v in config_diff.items())
            differing["config"] = ("the claims file's [models] config", f"a checkpoint config differing in {found}")
    if consistency is not None and not consistency.consistent:
        verdict, reason = Verdict.INCONSISTENT, f"the source contradicts itself: {consistency.reason}"
    elif not_run is not None:
        verdict, reason, remedy = Verdict.NOT_RUN, not_run.reason, not_run.remedy
    elif measurement is not None and differing:
        diffs = "; ".join(f"{k}: claimed {c!r}, measured {m!r}" for k, (c, m) in differing.items())
        verdict, reason = Verdict.NOT_COMPARABLE, f"measured under other conditions ({diffs})"
    else:
        assert measurement is not None
        decision = decide(b, measurement.value, measurement.interval)
        verdict, reason = decision.verdict, decision.reason
    dev = dev_w = None
    if measurement is not None and not math.isnan(measurement.value):
        dev, dev_w = deviation(claim.value, measurement.value, b)
    if measurement is not None and measurement.smoke:
        reason += " [SMOKE: tiny stand-in model; evidence about the machinery, not about the paper]"
    return ClaimResult(
        id=claim.id,
        nodeid=nodeid,
        verdict=verdict.value,
        reason=reason,
        unit=claim.unit,
        claimed=claim.value,
        band=(b.lo, b.hi),
        tolerance={
            "kind": claim.tolerance.kind,
            "value": claim.tolerance.value,
            "rationale": claim.tolerance.rationale,
        },
        measured=None if measurement is None else measurement.value,
        interval=None if measurement is None else measurement.interval,
        deviation=dev,
        deviation_widths=dev_w,
        conditions_claimed=dict(claim.conditions),
        conditions_measured={} if measurement is None else dict(measurement.conditions),
        conditions_differing=tuple(differing),
        provenance={
            "source": claim.source.reference,
            "title": claim.source.title,
            "version": claim.version,
            "location": claim.location,
            "quote": claim.quote,
            "formula": claim.formula.text if claim.formula else None,
            "value_is_derived": claim.value_is_derived,
            "precision": claim.precision,
            "metric": None
            if claim.metric is None
            else {"name": claim.metric.name, "split": claim.metric.split, "assumption": claim.metric.assumption},
            "note": claim.note,
        },
        evidence={} if measurement is None else dict(measurement.evidence),
        consistency=None
        if consistency is None
        else {
            "consistent": consistency.consistent,
            "recomputed": consistency.recomputed,
            "interval": consistency.interval,
            "reason": consistency.reason,
        },
        details={} if measurement is None else dict(measurement.details),
        remedy=remedy,
        smoke=bool(measurement is not None and measurement.smoke),
        reproduce=reproduce,
        claims_file=claim.path,
    )
