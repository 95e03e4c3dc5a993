"""Evaluating one claim: consistency of the source, measurement, comparability, then the verdict.

Order: a source that contradicts itself is INCONSISTENT whatever is measured (the band decision against the
stated value is still recorded and shown); a measurement that cannot run is NOT_RUN; different conditions are
NOT_COMPARABLE; else the band. A ``statistic`` that differs from the claim's ("one published checkpoint" for
a "median of 5 seeds") caps REPRODUCED and NOT_REPRODUCED at INCONCLUSIVE: the measured interval holds no
seed-variance component, so it cannot decide either way. The hook: a measurement whose ``details`` carry a
``seed_component`` (the uncertainty budget of the statistics work) is not capped. Ordering claims
(``inequalities``) are judged in ``harness.measure.ordering``.
"""

from __future__ import annotations

import math
from typing import Any

from harness.core.errors import MeasurementError, NotRunError
from harness.measure.comparability import Comparability, comparability
from harness.measure.labels import SMOKE_TAG, SYNTHETIC_TAG, provenance_of, reduced_scale_tag, tolerance_of
from harness.measure.measurement import Context, Measurement
from harness.measure.ordering import evaluate_ordering
from harness.spec import Claim
from harness.verdict import (
    ClaimResult,
    Decision,
    InvalidInterval,
    Verdict,
    check_consistency,
    claim_band,
    decide,
    deviation,
    unjudgeable,
)
from harness.verdict.bands import Band, limited
from harness.verdict.power import band_power
from harness.verdict.readings import alternative_decisions, point_comparison


def evaluate(claim: Claim, context: Context, nodeid: str, reproduce: str) -> ClaimResult:
    """The claim's result (see the module docstring for the order of the decisions)."""
    if claim.inequalities:
        return evaluate_ordering(claim, context, nodeid, reproduce)
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
    compared: Comparability | None = None
    decision: Decision | None = None
    extra: dict[str, Any] = {}
    problem = None if measurement is None else _problem(measurement)
    needs: dict[str, str] = {} if not_run is None else dict(not_run.needs)
    if measurement is not None:
        compared = comparability(claim, measurement, context)
    if measurement is not None and problem is None:
        try:
            decision = decide(b, measurement.value, measurement.interval)
            extra["alternatives"] = alternative_decisions(claim, measurement.value, measurement.interval)
        except InvalidInterval as exc:
            raise MeasurementError(f"{claim.id}: {exc}") from None
        if claim.scale != "reduced":  # a reduced run measures another statistic: the paper's point is not shown
            extra["point_comparison"] = point_comparison(
                claim, b, consistency, components, measurement.value, measurement.interval
            )
    verdict: Verdict | str
    if consistency is not None and not consistency.decidable:
        verdict, reason = "ERROR", f"not judged: {consistency.reason}"
    elif consistency is not None and not consistency.consistent:
        verdict, reason = Verdict.INCONSISTENT, f"the source contradicts itself: {consistency.reason}"
        if decision is not None:
            reason += f"; against the stated value the measurement is {decision.verdict.value} ({decision.reason})"
    elif not_run is not None:
        verdict, reason, remedy = Verdict.NOT_RUN, not_run.reason, not_run.remedy
    elif problem is not None:
        verdict, reason = "ERROR", f"not judged: {problem}"
    elif compared is not None and not compared.comparable:
        verdict, reason = Verdict.NOT_COMPARABLE, f"measured under other conditions ({'; '.join(compared.reasons)})"
    else:
        assert measurement is not None and decision is not None and compared is not None
        verdict, reason = decision.verdict, decision.reason
        if compared.statistics and verdict in (Verdict.REPRODUCED, Verdict.NOT_REPRODUCED):
            if "seed_component" not in measurement.details and not _has_seed_component(measurement):
                reason = (
                    f"{verdict.value} on the dev-set interval alone, capped at INCONCLUSIVE: "
                    f"{'; '.join(compared.statistics)}, and no seed-variance component is declared, so the "
                    f"interval leaves out the spread over fine-tuning seeds ({reason})"
                )
                verdict = Verdict.INCONCLUSIVE
        verdict, reason = limited(verdict, reason, measurement.inconclusive, measurement.at_best_inconclusive)
    for alt in extra.get("alternatives", ()):
        reason += f"; against the alternative {alt['value']:g} ({alt['source']}): {alt['verdict']}"
    if extra.get("point_comparison"):
        reason += f"; {extra['point_comparison']['text']}"
    if measurement is not None and measurement.synthetic:
        reason += SYNTHETIC_TAG
    if measurement is not None and measurement.smoke:
        reason += SMOKE_TAG
    reason += reduced_scale_tag(claim)
    dev = dev_w = None
    if measurement is not None and problem is None and verdict != "ERROR" and claim.scale != "reduced":
        dev, dev_w = deviation(claim.value, measurement.value, b)
    return ClaimResult(
        id=claim.id,
        nodeid=nodeid,
        verdict=verdict if isinstance(verdict, str) else verdict.value,
        reason=reason,
        unit=claim.unit,
        claimed=claim.value,
        band=(b.lo, b.hi),
        tolerance=tolerance_of(claim),
        measured=None if measurement is None else measurement.value,
        interval=None if measurement is None else measurement.interval,
        deviation=dev,
        deviation_widths=dev_w,
        conditions_claimed=dict(claim.conditions),
        conditions_measured={} if measurement is None else dict(measurement.conditions),
        conditions_differing=() if compared is None else tuple(compared.differing),
        provenance=provenance_of(claim),
        evidence={} if measurement is None else dict(measurement.evidence),
        consistency=None
        if consistency is None
        else {
            "consistent": consistency.consistent,
            "recomputed": consistency.recomputed,
            "interval": consistency.interval,
            "reason": consistency.reason,
        },
        details=({} if measurement is None else {**measurement.details, **budget_details(claim, measurement, b)})
        | ({"statistic_mismatch": list(compared.statistics)} if compared and compared.statistics else {}),
        remedy=remedy,
        needs=needs if remedy is not None else {},
        smoke=bool(measurement is not None and measurement.smoke),
        reduced_scale=claim.scale == "reduced",
        reproduce=reproduce,
        claims_file=claim.path,
        synthetic=bool(measurement is not None and measurement.synthetic),
        derived_by=claim.derived_by,
        band_decision=None
        if decision is None
        else {"verdict": decision.verdict.value, "reason": decision.reason, "band": (b.lo, b.hi)},
        alternatives=tuple(extra.get("alternatives", ())),
        point_comparison=extra.get("point_comparison"),
    )


def _problem(measurement: Measurement) -> str | None:
    """Why the measurement cannot be judged (NaN, infinity, a bad interval), with the formula's own note."""
    problem = unjudgeable(measurement.value, measurement.interval)
    if problem is None:
        return None
    note = measurement.details.get("formula_error")
    return f"{problem}; {note}" if note else problem


def budget_details(claim: Claim, measurement: Measurement, b: Band) -> dict[str, Any]:
    """``details.budget`` (components, their combination) and ``details.power`` (what the band can show)."""
    budget = measurement.budget
    if budget is None or math.isnan(measurement.value):
        return {}
    out: dict[str, Any] = {"budget": {"components": budget.rows(), **budget.summary()}}
    limits = {"at_best_inconclusive": measurement.at_best_inconclusive, "inconclusive": measurement.inconclusive}
    if any(limits.values()):
        out["limits"] = limits
    u = budget.combined_standard_uncertainty()
    if claim.value is not None and math.isfinite(claim.value) and u > 0:
        power = band_power(claim.value, b.lo, b.hi, u, budget.coverage_factor(), budget.can_reproduce)
        out["power"] = {
            "u": power.u,
            "interval_half_width": power.interval_half_width,
            "reachable": power.reachable,
            "probability_reproduced": power.probability_reproduced,
            "false_not_reproduced": power.false_not_reproduced,
            "minimum_detectable_deviation": power.minimum_detectable_deviation,
            "line": power.line,
        }
    return out


def _has_seed_component(measurement: Measurement) -> bool:
    """Whether the measurement's budget has a seed component (run here or declared)."""
    from harness.verdict.budget import SEED_COMPONENT

    budget = measurement.budget
    return budget is not None and any(c.name == SEED_COMPONENT for c in budget.components)
