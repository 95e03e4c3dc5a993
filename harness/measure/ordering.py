"""Evaluating an ordering claim: each inequality's sides measured (or stated), then judged on intervals.

A side is a formula over claim ids. Each id is measured (its interval, or its point when it has none), or,
when the ordering claim lists it under ``stated``, taken at the source's own value ± precision/2 (ELMo's
numbers, "as reported by the authors", that nothing here can measure). A side's interval is the formula
over its ids' intervals by interval arithmetic (conservative). Verdict order as for any claim: a source whose
own numbers break the ordering is INCONSISTENT; a side that cannot be measured is NOT_RUN; a side measured
under other conditions than its claim states is NOT_COMPARABLE; else ``harness.verdict.ordering``.
"""

from __future__ import annotations

from typing import Any

from harness.core.errors import NotRunError
from harness.measure.comparability import comparability
from harness.measure.labels import SMOKE_TAG, SYNTHETIC_TAG, provenance_of, reduced_scale_tag, tolerance_of
from harness.measure.measurement import Context, Measurement
from harness.spec import Claim
from harness.spec.formula import Formula, Interval
from harness.spec.units import from_base, to_base
from harness.verdict import ClaimResult, Side, Verdict, decide_order, judge_inequality
from harness.verdict.bands import limited
from harness.verdict.ordering import AGREES


def _side(formula: Formula, values: dict[str, tuple[float, Interval]], unit: str, origin: str) -> Side:
    point = float(formula.evaluate({n: v[0] for n, v in values.items()}))
    reach = formula.evaluate({n: v[1] for n, v in values.items()})
    if not isinstance(reach, Interval):
        reach = Interval(float(reach), float(reach))
    return Side(from_base(point, unit), (from_base(reach.lo, unit), from_base(reach.hi, unit)), origin)


def _stated(claim: Claim) -> tuple[float, Interval]:
    half = 0.0 if claim.precision != claim.precision else claim.precision / 2.0  # NaN precision: exact
    return to_base(claim.value, claim.unit), Interval(
        to_base(claim.value - half, claim.unit), to_base(claim.value + half, claim.unit)
    )


def _measured(m: Measurement) -> tuple[float, Interval]:
    lo, hi = m.interval if m.interval is not None else (m.value, m.value)
    return to_base(m.value, m.unit), Interval(to_base(lo, m.unit), to_base(hi, m.unit))


def _capped(verdict: Verdict, reason: str, measured: dict[str, Measurement]) -> tuple[Verdict, str]:
    """An ordering is no surer than its parts: a part that is INCONCLUSIVE whatever it measures (drift) makes
    the ordering INCONCLUSIVE, and one that can be at best INCONCLUSIVE (one seed, no seed SD) caps REPRODUCED."""
    drifted = [f"{n}: {m.inconclusive}" for n, m in measured.items() if m.inconclusive]
    capped = [f"{n}: {m.at_best_inconclusive}" for n, m in measured.items() if m.at_best_inconclusive]
    at_best = "its parts can be at best INCONCLUSIVE (" + "; ".join(capped) + ")" if capped else None
    return limited(verdict, reason, "; ".join(drifted) or None, at_best)


def evaluate_ordering(claim: Claim, context: Context, nodeid: str, reproduce: str) -> ClaimResult:
    """The result of an ordering claim (see the module docstring)."""
    margin = claim.tolerance.value
    stated = {n: _stated(context.file.claim(n)) for n in claim.references}
    consistency_outcomes = []
    for inequality in claim.inequalities:
        left = _side(inequality.left, stated, claim.unit, "stated")
        right = _side(inequality.right, stated, claim.unit, "stated")
        points = (Side(left.point, (left.point, left.point), "stated"), Side(right.point, (right.point,) * 2, "stated"))
        consistency_outcomes.append(judge_inequality(inequality.text, inequality.relation, *points, margin))
    broken = [o for o in consistency_outcomes if o.status != AGREES]
    measured: dict[str, Measurement] = {}
    missing: dict[str, NotRunError] = {}
    for name in claim.references:
        if name in claim.stated:
            continue
        try:
            measured[name] = context.measure(context.file.claim(name))
        except NotRunError as exc:
            missing[name] = exc
    remedy = None
    outcomes = []
    reasons: list[str] = []
    for name, m in measured.items():
        reasons.extend(f"{name}: {r}" for r in comparability(context.file.claim(name), m, context).reasons)
    if broken:
        verdict = Verdict.INCONSISTENT
        reason = "the source's own numbers break the ordering: " + "; ".join(o.reason for o in broken)
    elif missing:
        verdict = Verdict.NOT_RUN
        reason = f"{len(missing)} of the claims it orders cannot be measured here ({', '.join(missing)})"
        remedy = next(iter(missing.values())).remedy
    elif reasons:
        verdict, reason = Verdict.NOT_COMPARABLE, "measured under other conditions (" + "; ".join(reasons) + ")"
    if not missing:
        values = {n: _measured(m) for n, m in measured.items()} | {n: stated[n] for n in claim.stated}
        for inequality in claim.inequalities:
            sides = []
            for formula in (inequality.left, inequality.right):
                origin = "stated" if all(n in claim.stated for n in formula.names) else "measured"
                sides.append(_side(formula, {n: values[n] for n in formula.names}, claim.unit, origin))
            outcomes.append(judge_inequality(inequality.text, inequality.relation, sides[0], sides[1], margin))
        decision = decide_order(outcomes)
        if not broken and not reasons:
            verdict, reason = decision.verdict, decision.reason
            verdict, reason = _capped(verdict, reason, measured)
    smoke = any(m.smoke for m in measured.values())
    synthetic = any(m.synthetic for m in measured.values())
    reason += (SYNTHETIC_TAG if synthetic else "") + (SMOKE_TAG if smoke else "") + reduced_scale_tag(claim)
    details: dict[str, Any] = {
        "inequalities": [
            {
                "text": o.text,
                "status": o.status,
                "left": {"point": o.left.point, "interval": o.left.interval, "origin": o.left.origin},
                "right": {"point": o.right.point, "interval": o.right.interval, "origin": o.right.origin},
            }
            for o in outcomes
        ],
        "stated": list(claim.stated),
        "margin": margin,
    }
    return ClaimResult(
        id=claim.id,
        nodeid=nodeid,
        verdict=verdict.value,
        reason=reason,
        unit=claim.unit,
        claimed=None,
        band=None,
        tolerance=tolerance_of(claim),
        conditions_claimed=dict(claim.conditions),
        provenance=provenance_of(claim),
        evidence={
            "path": "ordering over measured claims",
            "claims": {n: dict(m.evidence) for n, m in measured.items()},
        },
        consistency={
            "consistent": not broken,
            "reason": "; ".join(o.reason for o in consistency_outcomes),
        },
        details=details,
        remedy=remedy,
        smoke=smoke,
        reduced_scale=claim.scale == "reduced",
        reproduce=reproduce,
        claims_file=claim.path,
        synthetic=synthetic,
        derived_by=claim.derived_by,
    )
