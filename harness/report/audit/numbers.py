"""The report's numbers: verdicts through the same engine as a harness run, and its derived numbers recomputed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import NotRunError
from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Measurement, Options
from harness.report.audit.budget import ReportedBudget, number_budgets
from harness.report.audit.model import (
    DISAGREES,
    ERROR,
    OK,
    UNIT_ERROR,
    WITHIN_ROUNDING,
    AuditRow,
    Check,
    near,
    same_dimension,
    stated_text,
)
from harness.report.replications import PaperQuote, Replication, ReportedNumber
from harness.report.terminal import fmt_value
from harness.spec import Claim, ClaimsFile, Source, Tolerance
from harness.spec.formula import Formula
from harness.spec.units import convert
from harness.verdict import Band, ClaimResult, Verdict, check_consistency


class _ReportContext(Context):
    """A measurement context whose measurements are the report's numbers (never measured here)."""

    def __init__(self, claims_file: ClaimsFile, reported: Mapping[str, Measurement]) -> None:
        super().__init__(claims_file, Options())
        self._reported = dict(reported)

    def _measure(self, claim: Claim) -> Measurement:
        if claim.id in self._reported:
            return self._reported[claim.id]
        if claim.formula is not None:
            return self._measure_formula(claim)
        raise NotRunError(
            "the report gives no number for this claim", "nothing to do: the audit only judges what the report states"
        )


def _measurement(number: ReportedNumber, replication: Replication, shaped: ReportedBudget | None) -> Measurement:
    """The report's number as a measurement; with its budget (``budget.number_budgets``: a task score's from the
    split size and the declared seed SD, a derived number's through its formula), interval, replicates and, for a
    task score, its ``statistic`` (one run unless stated)."""
    report = replication.report
    conditions = dict(number.conditions)
    if shaped is not None and shaped.statistic is not None:
        conditions.setdefault("statistic", shaped.statistic)
    scored = None if shaped is None else shaped.scored
    return Measurement(
        value=number.value,
        unit=number.unit,
        interval=None if shaped is None else shaped.interval,
        replicates=None if shaped is None else shaped.replicates,
        budget=None if shaped is None else shaped.budget,
        at_best_inconclusive=None if shaped is None else shaped.at_best_inconclusive,
        conditions=conditions,
        evidence={
            "path": f'reported by {report.byline} in "{report.title}" ({report.dated}), {number.location}',
            "smoke": False,
            "quote": number.quote,
            "assumed_conditions": list(number.assumed),
            "note": number.note,
        },
        details={
            "reported": stated_text(number.value, number.unit, number.precision),
            "precision": number.precision,
            "replication": replication.path,
            "number": number.id,
            **({} if scored is None else {"examples": scored.examples, "metric": scored.metric}),
            **(
                {"statistic_read_as": shaped.statistic}
                if shaped is not None and shaped.statistic and "statistic" not in number.conditions
                else {}
            ),
        },
    )


def _claim_leaves(claims_file: ClaimsFile, claim_id: str) -> frozenset[str]:
    """The stated (non-formula) claims a claim's formula rests on, recursively; itself when it has none
    (or when it does not load: an invalid claim is reported as an ERROR row elsewhere)."""
    try:
        claim = claims_file.claim(claim_id)
    except KeyError:
        return frozenset({claim_id})
    if claim.formula is None:
        return frozenset({claim_id})
    return frozenset().union(*(_claim_leaves(claims_file, n) for n in claim.formula.names))


def _formula_leaves(formula: Formula, replication: Replication, claims_file: ClaimsFile) -> frozenset[str] | None:
    """The paper claims a report formula rests on, or None when one of its components maps to no claim."""
    out: set[str] = set()
    for name in formula.names:
        item = replication.item(name)
        if item.claim is not None:
            out |= _claim_leaves(claims_file, item.claim)
            continue
        inner = item.formula if isinstance(item, ReportedNumber) else item.paper_formula
        if inner is None:
            return None
        if isinstance(item, PaperQuote):
            out |= frozenset().union(*(_claim_leaves(claims_file, n) for n in inner.names))
            continue
        leaves = _formula_leaves(inner, replication, claims_file)
        if leaves is None:
            return None
        out |= leaves
    return frozenset(out)


def _shortlist(ids: frozenset[str], limit: int = 4) -> str:
    ordered = sorted(ids)
    return ", ".join(ordered[:limit]) + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def _refine(
    result: ClaimResult, number: ReportedNumber, claim: Claim, replication: Replication, claims_file: ClaimsFile
) -> ClaimResult:
    """What the audit adds to the engine's verdict: a different quantity, a unit-label hint, assumptions."""
    verdict, reason = result.verdict, result.reason
    if verdict not in (Verdict.INCONSISTENT.value, Verdict.NOT_RUN.value) and number.formula and claim.formula:
        theirs = _formula_leaves(number.formula, replication, claims_file)
        ours = _claim_leaves(claims_file, claim.id)
        if theirs is not None and theirs != ours:
            different = (
                f"a different quantity: the report's {number.id} = {number.formula.text} rests on "
                f"{_shortlist(theirs)} only; the paper's {claim.id} = {claim.formula.text} rests on "
                f"{len(ours)} numbers ({_shortlist(ours)})"
            )
            reason = different if verdict != Verdict.NOT_COMPARABLE.value else f"{different}; and {reason}"
            verdict = Verdict.NOT_COMPARABLE.value
    if verdict == Verdict.NOT_REPRODUCED.value and result.band is not None:
        band = Band(*result.band)
        for unit in same_dimension(number.unit):
            alt = convert(number.value, unit, claim.unit)
            if band.contains(alt):
                reason += (
                    f"; read as {number.value:g} {unit} (= {fmt_value(alt, claim.unit)}) it would be inside "
                    f"the band: is the report's unit label wrong?"
                )
                break
    if number.assumed:
        reason += f" (conditions assumed by the auditor, not stated in the report: {', '.join(number.assumed)})"
    if result.details.get("statistic_read_as"):
        reason += f" (the report states no number of runs: read as {result.details['statistic_read_as']})"
    return attrs.evolve(result, verdict=verdict, reason=reason)


def _error_row(
    number: ReportedNumber | None, claim_id: str, error: Exception, nodeid: str, reproduce: str, claims_path: str
) -> AuditRow:
    result = ClaimResult(
        id=claim_id,
        nodeid=nodeid,
        verdict="ERROR",
        unit="",
        claimed=None,
        band=None,
        tolerance={},
        reason=f"the claim cannot be loaded from {claims_path}: {error}",
        reproduce=reproduce,
        claims_file=claims_path,
    )
    return AuditRow(
        result,
        None if number is None else number.id,
        "" if number is None else stated_text(number.value, number.unit, number.precision),
    )


def verdicts(
    replication: Replication, claims_file: ClaimsFile, invalid: Mapping[str, Exception], reproduce: str
) -> list[AuditRow]:
    valid = {c.id: c for c in claims_file.claims}
    budgets = number_budgets(replication, claims_file, valid)
    measurements = {n.id: _measurement(n, replication, budgets.get(n.id)) for n in replication.numbers if n.claim}
    primary: dict[str, ReportedNumber] = {}
    for number in replication.numbers:
        if number.claim in valid:
            primary.setdefault(number.claim, number)
    base = {cid: measurements[n.id] for cid, n in primary.items()}
    rows: list[AuditRow] = []
    for number in replication.numbers:
        if number.claim is None:
            continue
        nodeid = f"{replication.path}::{number.id}"
        if number.claim in invalid:
            rows.append(_error_row(number, number.claim, invalid[number.claim], nodeid, reproduce, claims_file.path))
            continue
        claim = valid[number.claim]
        context = _ReportContext(claims_file, {**base, claim.id: measurements[number.id]})
        result = evaluate(claim, context, nodeid, reproduce)
        rows.append(
            AuditRow(
                _refine(result, number, claim, replication, claims_file),
                number.id,
                stated_text(number.value, number.unit, number.precision),
            )
        )
    context = _ReportContext(claims_file, base)
    for claim in claims_file.claims:
        if claim.id in primary or claim.formula is None:
            continue
        try:
            context.measure(claim)
        except NotRunError:
            continue
        result = evaluate(claim, context, f"{replication.path}::derived:{claim.id}", reproduce)
        reason = result.reason + " (derived by the audit from the report's numbers; the report does not state it)"
        rows.append(AuditRow(attrs.evolve(result, reason=reason), None, "derived"))
    return rows


# ---------------------------------------------------------------- 2. the report's own arithmetic


def _as_claim(item: ReportedNumber | PaperQuote, replication: Replication) -> Claim:
    """A report number as a claim, so that the engine's consistency check recomputes it unchanged."""
    report = replication.report
    assert item.value is not None and item.unit is not None and item.precision is not None
    return Claim(
        id=item.id,
        quote=item.quote,
        location=item.location,
        version=report.paper_version or "-",
        value=item.value,
        unit=item.unit,
        precision=item.precision,
        tolerance=Tolerance("precision", 0.0, "the report's own precision"),
        path=replication.path,
        source=Source(key=report.key, title=report.title, reference=report.byline, version=""),
        formula=item.formula if isinstance(item, ReportedNumber) else None,
    )


def recompute(number: ReportedNumber, replication: Replication) -> Check:
    assert number.formula is not None
    claim = _as_claim(number, replication)
    components = {n: _as_claim(replication.item(n), replication) for n in number.formula.names}
    consistency = check_consistency(claim, components)
    assert consistency is not None
    r, (lo, hi) = consistency.recomputed, consistency.interval
    stated = stated_text(number.value, number.unit, number.precision)
    shown = f"{number.formula.text} = {fmt_value(r, number.unit)}"
    common: dict[str, Any] = {
        "id": number.id,
        "quote": number.quote,
        "location": number.location,
        "stated": stated,
        "expected": shown,
        "claim": number.claim,
        "formula": number.formula.text,
    }
    if not consistency.decidable:  # a division by zero (or a divisor that may round to zero): no check at all
        return Check(status=ERROR, reason=consistency.reason, **common)
    if consistency.consistent and near(r, number.value, number.precision / 2):
        return Check(status=OK, reason=f"{shown}, which rounds to the stated {stated}", **common)
    if consistency.consistent:
        return Check(
            status=WITHIN_ROUNDING,
            reason=(
                f"{shown} rounds to {stated_text(r, number.unit, number.precision)}, not the stated {stated}; "
                f"{stated} is reachable only with the components at the edges of their reported rounding "
                f"(the formula spans {fmt_value(lo)} to {fmt_value(hi)} {number.unit}): within rounding, "
                "but only just"
            ),
            **common,
        )
    for unit in same_dimension(number.unit):
        alt = convert(r, number.unit, unit)
        if near(alt, number.value, number.precision / 2):
            return Check(
                status=UNIT_ERROR,
                reason=(
                    f"{shown} = {fmt_value(alt, unit)}: the stated {number.value:g} is in {unit}, "
                    f"labelled {number.unit}"
                ),
                **common,
            )
    return Check(
        status=DISAGREES,
        reason=f"{shown} (at most {fmt_value(lo)} to {fmt_value(hi)} with its components "
        f"rounded), not the stated {stated}",
        **common,
    )


# ---------------------------------------------------------------- 3. its quotes of the paper
