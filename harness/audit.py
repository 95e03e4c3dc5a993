"""Auditing a third party's reported numbers (``replications/*.toml``) against a paper's claims file.

Three checks, each a question a reviewer would ask of a replication report:

1. Verdicts: the paper's claims run through the same engine as a harness run (``harness.engine.evaluate``),
   with the report's numbers as the measurements. On top of the engine's condition check, a number derived
   from other claims than the paper's formula uses is a different quantity (NOT_COMPARABLE).
2. Arithmetic: the report's derived numbers (retentions, reductions, ratios) recomputed from its own
   components, within their reported precision; a mismatch that another unit explains is a unit error.
3. Quotes: what the report says the paper says (values, derived values, conditions) against the claims file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from harness.claims import Claim, ClaimsFile, Source, Tolerance
from harness.engine import evaluate
from harness.errors import NotRunError, did_you_mean
from harness.formula import Formula
from harness.measurement import Context, Measurement, Options
from harness.replications import PaperQuote, Replication, ReplicationError, ReportedNumber
from harness.reporting import fmt_value
from harness.results import ClaimResult, summary
from harness.units import UNITS, convert
from harness.verdict import Band, Verdict, check_consistency, condition_matches

AUDIT_SCHEMA = 1

OK = "OK"
DERIVED = "DERIVED"
WITHIN_ROUNDING = "WITHIN_ROUNDING"
UNIT_ERROR = "UNIT_ERROR"
DISAGREES = "DISAGREES"
WRONG_CONDITIONS = "WRONG_CONDITIONS"
UNSUPPORTED = "UNSUPPORTED"
ERROR = "ERROR"
#: check statuses that are findings (a mistake in the report, or a check that could not run)
PROBLEMS = (UNIT_ERROR, DISAGREES, WRONG_CONDITIONS, UNSUPPORTED, ERROR)
#: most severe first
STATUS_ORDER = (ERROR, UNIT_ERROR, DISAGREES, WRONG_CONDITIONS, UNSUPPORTED, WITHIN_ROUNDING, DERIVED, OK)
_SLACK = 1e-9


@attrs.frozen
class Check:
    """One check of the report's arithmetic, or of one of its quotes of the paper."""

    id: str
    status: str
    quote: str
    location: str
    stated: str
    expected: str
    reason: str
    claim: str | None = None
    formula: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class AuditRow:
    """A paper claim judged with one of the report's numbers (``number``), or derived by the audit from
    several of them (``number`` None); ``harness`` is this harness's own result for the claim, if given."""

    result: ClaimResult
    number: str | None = None
    reported: str = ""
    harness: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "reported": self.reported, "harness": self.harness, **self.result.to_dict()}


@attrs.frozen
class Audit:
    """The audit of one replication file against one claims file."""

    replication: Replication
    replication_sha256: str
    claims_path: str
    claims_sha256: str
    source: Source | None
    rows: tuple[AuditRow, ...]
    arithmetic: tuple[Check, ...]
    quotes: tuple[Check, ...]
    harness_results: str | None = None

    @property
    def findings(self) -> list[Check]:
        return [c for c in self.checks if c.status in PROBLEMS]

    @property
    def borderline(self) -> list[Check]:
        """Checks that pass only at the edge of the reported rounding: not mistakes, but worth a look."""
        return [c for c in self.checks if c.status == WITHIN_ROUNDING]

    @property
    def checks(self) -> tuple[Check, ...]:
        return (*self.arithmetic, *self.quotes)

    def verdict_counts(self) -> dict[str, int]:
        return {k: n for k, n in summary([r.result for r in self.rows]).items() if n}

    def to_dict(self) -> dict[str, Any]:
        report = self.replication.report
        return {
            "schema": AUDIT_SCHEMA,
            "replication": {
                "path": self.replication.path,
                "sha256": self.replication_sha256,
                **attrs.asdict(report),
                "dated": report.dated,
            },
            "claims_file": {
                "path": self.claims_path,
                "sha256": self.claims_sha256,
                "source": None if self.source is None else attrs.asdict(self.source),
            },
            "harness_results": self.harness_results,
            "summary": {
                "verdicts": self.verdict_counts(),
                "findings": len(self.findings),
                "statuses": _status_counts(self.checks),
            },
            "verdicts": [r.to_dict() for r in self.rows],
            "arithmetic": [c.to_dict() for c in self.arithmetic],
            "quotes": [c.to_dict() for c in self.quotes],
            "unchecked": [attrs.asdict(u) for u in self.replication.unchecked],
        }


def _status_counts(checks: Sequence[Check]) -> dict[str, int]:
    counts = {s: sum(1 for c in checks if c.status == s) for s in STATUS_ORDER}
    return {s: n for s, n in counts.items() if n}


# ---------------------------------------------------------------- number formatting


def _decimals(precision: float) -> int:
    return max(0, -math.floor(math.log10(precision) + 1e-9)) if precision > 0 else 6


def _stated(value: float, unit: str | None, precision: float | None) -> str:
    """A number as the report states it (to its precision), with its unit."""
    text = f"{value:,.{_decimals(precision)}f}" if precision else fmt_value(value)
    return f"{text} {unit or ''}".strip()


def _near(a: float, b: float, half: float) -> bool:
    return abs(a - b) <= half * (1 + _SLACK) + _SLACK * max(1.0, abs(a), abs(b))


def _same_dimension(unit: str) -> list[str]:
    return [u for u, spec in UNITS.items() if spec.dimension == UNITS[unit].dimension and u != unit]


# ---------------------------------------------------------------- 1. verdicts


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


def _measurement(number: ReportedNumber, replication: Replication) -> Measurement:
    report = replication.report
    return Measurement(
        value=number.value,
        unit=number.unit,
        conditions=dict(number.conditions),
        evidence={
            "path": f'reported by {report.byline} in "{report.title}" ({report.dated}), {number.location}',
            "smoke": False,
            "quote": number.quote,
            "assumed_conditions": list(number.assumed),
            "note": number.note,
        },
        details={
            "reported": _stated(number.value, number.unit, number.precision),
            "precision": number.precision,
            "replication": replication.path,
            "number": number.id,
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
        for unit in _same_dimension(number.unit):
            alt = convert(number.value, unit, claim.unit)
            if band.contains(alt):
                reason += (
                    f"; read as {number.value:g} {unit} (= {fmt_value(alt, claim.unit)}) it would be inside "
                    f"the band: is the report's unit label wrong?"
                )
                break
    if number.assumed:
        reason += f" (conditions assumed by the auditor, not stated in the report: {', '.join(number.assumed)})"
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
        "" if number is None else _stated(number.value, number.unit, number.precision),
    )


def _verdicts(
    replication: Replication, claims_file: ClaimsFile, invalid: Mapping[str, Exception], reproduce: str
) -> list[AuditRow]:
    valid = {c.id: c for c in claims_file.claims}
    measurements = {n.id: _measurement(n, replication) for n in replication.numbers if n.claim}
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
                _stated(number.value, number.unit, number.precision),
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


def _recompute(number: ReportedNumber, replication: Replication) -> Check:
    assert number.formula is not None
    claim = _as_claim(number, replication)
    components = {n: _as_claim(replication.item(n), replication) for n in number.formula.names}
    consistency = check_consistency(claim, components)
    assert consistency is not None
    r, (lo, hi) = consistency.recomputed, consistency.interval
    stated = _stated(number.value, number.unit, number.precision)
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
    if consistency.consistent and _near(r, number.value, number.precision / 2):
        return Check(status=OK, reason=f"{shown}, which rounds to the stated {stated}", **common)
    if consistency.consistent:
        return Check(
            status=WITHIN_ROUNDING,
            reason=(
                f"{shown} rounds to {_stated(r, number.unit, number.precision)}, not the stated {stated}; "
                f"{stated} is reachable only with the components at the edges of their reported rounding "
                f"(the formula spans {fmt_value(lo)} to {fmt_value(hi)} {number.unit}): within rounding, "
                "but only just"
            ),
            **common,
        )
    for unit in _same_dimension(number.unit):
        alt = convert(r, number.unit, unit)
        if _near(alt, number.value, number.precision / 2):
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


def _match_either(a: Any, b: Any) -> bool:
    return condition_matches(a, b) or condition_matches(b, a)


def _check_value(quote: PaperQuote, claim: Claim) -> tuple[str, str, str]:
    """(status, expected, reason) of a quoted value of a stated claim."""
    assert quote.value is not None and quote.unit is not None and quote.precision is not None
    paper = _stated(claim.value, claim.unit, claim.precision if claim.precision > 0 else None)
    quoted = _stated(quote.value, quote.unit, quote.precision)
    if UNITS[quote.unit].dimension != UNITS[claim.unit].dimension:
        dimension = UNITS[quote.unit].dimension
        return DISAGREES, paper, f"the report quotes {quoted}, a {dimension}; the paper states {paper}"
    half = max(quote.precision, claim.precision) / 2
    as_claim = convert(quote.value, quote.unit, claim.unit)
    if _near(as_claim, claim.value, half):
        return OK, paper, f"the paper states {paper} ({claim.location})"
    for unit in (claim.unit, *_same_dimension(claim.unit)):
        if unit != quote.unit and _near(convert(quote.value, unit, claim.unit), claim.value, half):
            reason = (
                f"the paper states {paper} ({claim.location}); the report quotes {quoted}, i.e. "
                f"{fmt_value(as_claim, claim.unit)}: the number is right, the unit is not"
            )
            examples = claim.conditions.get("examples")
            if isinstance(examples, int) and not isinstance(examples, bool) and examples > 1:
                per = convert(claim.value / examples, claim.unit, quote.unit)
                reason += f"; {paper} is for {examples:,} examples, {fmt_value(per, quote.unit)} per example"
            return UNIT_ERROR, paper, reason
    return DISAGREES, paper, f"the paper states {paper} ({claim.location}), not {quoted}"


def _check_derived(quote: PaperQuote, claims_file: ClaimsFile) -> tuple[str, str, str]:
    """A quoted value the paper does not print but implies (a retention from two scores)."""
    assert quote.paper_formula is not None and quote.value is not None
    pseudo = Claim(
        id=quote.id,
        quote=quote.quote,
        location=quote.location,
        version="-",
        value=quote.value,
        unit=str(quote.unit),
        precision=float(quote.precision or 0),
        tolerance=Tolerance("precision", 0.0, "quoted"),
        path="",
        source=Source("quote", "quote", "quote", ""),
        formula=quote.paper_formula,
    )
    consistency = check_consistency(pseudo, {n: claims_file.claim(n) for n in quote.paper_formula.names})
    assert consistency is not None
    expected = f"{quote.paper_formula.text} = {fmt_value(consistency.recomputed, quote.unit or '')}"
    if consistency.consistent:
        return (
            DERIVED,
            expected,
            (
                f"not printed in the paper: {expected} over its stated numbers, "
                f"consistent with the quoted {_stated(quote.value, quote.unit, quote.precision)}"
            ),
        )
    return (
        DISAGREES,
        expected,
        (
            f"{expected} over the paper's stated numbers, not the quoted "
            f"{_stated(quote.value, quote.unit, quote.precision)}"
        ),
    )


def _check_conditions(quote: PaperQuote, claim: Claim, claims_file: ClaimsFile) -> tuple[str, str, str]:
    """Conditions the report attributes to a claim, and where the paper does state such conditions."""
    paper = ", ".join(f"{k} = {v!r}" for k, v in claim.conditions.items()) or "no conditions"
    quoted = ", ".join(f"{k} = {v!r}" for k, v in quote.conditions.items())
    differing = [
        k for k, v in quote.conditions.items() if k in claim.conditions and not _match_either(claim.conditions[k], v)
    ]
    unknown = [k for k in quote.conditions if k not in claim.conditions]
    if not differing and not unknown:
        return OK, paper, f"the paper's {claim.id} was measured with {paper}"
    elsewhere = [
        c
        for c in claims_file.claims
        if c.id != claim.id
        and all(k in c.conditions and _match_either(c.conditions[k], v) for k, v in quote.conditions.items())
    ]
    where = ""
    if elsewhere:
        where = "; the paper names those conditions only for " + "; ".join(f"{c.id} ({c.quote})" for c in elsewhere[:3])
    if differing:
        detail = ", ".join(f"{k} = {claim.conditions[k]!r}" for k in differing)
        return (
            WRONG_CONDITIONS,
            paper,
            (
                f"the report attributes {quoted} to the paper's {claim.id}, but the paper "
                f"states {detail} for it ({claim.location}; all its conditions: {paper})"
                f"{where}"
            ),
        )
    return (
        UNSUPPORTED,
        paper,
        (f"the paper states no {', '.join(unknown)} for {claim.id} (its conditions: {paper}){where}"),
    )


def _check_quote(quote: PaperQuote, claims_file: ClaimsFile, invalid: Mapping[str, Exception]) -> Check:
    names = (quote.claim,) if quote.claim else tuple(quote.paper_formula.names if quote.paper_formula else ())
    stated = ", ".join(
        filter(
            None,
            [
                _stated(quote.value, quote.unit, quote.precision) if quote.value is not None else "",
                ", ".join(f"{k} = {v!r}" for k, v in quote.conditions.items()),
            ],
        )
    )
    common: dict[str, Any] = {
        "id": quote.id,
        "quote": quote.quote,
        "location": quote.location,
        "stated": stated,
        "claim": quote.claim,
        "formula": quote.paper_formula.text if quote.paper_formula else None,
    }
    broken = [n for n in names if n in invalid]
    if broken:
        return Check(
            status=ERROR,
            expected="-",
            reason="; ".join(f"{n} cannot be loaded from {claims_file.path}: {invalid[n]}" for n in broken),
            **common,
        )
    results: list[tuple[str, str, str]] = []
    if quote.paper_formula is not None:
        results.append(_check_derived(quote, claims_file))
    elif quote.claim is not None:
        claim = claims_file.claim(quote.claim)
        if quote.value is not None:
            results.append(_check_value(quote, claim))
        if quote.conditions:
            results.append(_check_conditions(quote, claim, claims_file))
    status = min((s for s, _, _ in results), key=STATUS_ORDER.index)
    return Check(
        status=status,
        expected="; ".join(e for _, e, _ in results),
        reason="; ".join(r for _, _, r in results),
        **common,
    )


# ---------------------------------------------------------------- the audit


def _check_references(replication: Replication, claims_file: ClaimsFile, invalid: Mapping[str, Exception]) -> None:
    """Every claim id the replication names exists in the claims file (valid or not), with a matching dimension."""
    known = {c.id: c for c in claims_file.claims}
    for item in replication.items:
        names = [(item.claim, "claim")] if item.claim else []
        if isinstance(item, PaperQuote) and item.paper_formula is not None:
            names += [(n, "paper_formula") for n in item.paper_formula.names]
        for name, field in names:
            if name not in known and name not in invalid:
                raise ReplicationError(
                    replication.path,
                    item.id,
                    field,
                    f"a claim id of {claims_file.path}",
                    f"the unknown id {name!r}",
                    "correct it." + did_you_mean(name, [*known, *invalid]),
                )
        claim = known.get(item.claim) if item.claim else None
        unit = item.unit
        if claim is not None and unit is not None and UNITS[unit].dimension != UNITS[claim.unit].dimension:
            raise ReplicationError(
                replication.path,
                item.id,
                "unit",
                f"a unit of the same dimension as {claim.id}'s {claim.unit!r} ({UNITS[claim.unit].dimension})",
                repr(unit),
                "map it to the claim it is evidence about, or drop `claim`",
            )


def run(
    replication: Replication,
    claims_file: ClaimsFile,
    *,
    replication_sha256: str = "",
    claims_sha256: str = "",
    harness: Mapping[str, Any] | None = None,
    harness_path: str | None = None,
) -> Audit:
    """Audit ``replication`` against ``claims_file``; ``harness`` is a results file's data (third column)."""
    if claims_file.source is None:
        problems = "; ".join(str(r.error) for r in claims_file.invalid)
        raise ReplicationError(
            replication.path,
            None,
            "report.claims",
            "a loadable claims file",
            f"{claims_file.path}, which cannot be loaded ({problems})",
            "fix the claims file first",
        )
    invalid: dict[str, Exception] = {r.name: r.error for r in claims_file.invalid}
    _check_references(replication, claims_file, invalid)
    reproduce = f"python -m harness audit {replication.path} --claims {claims_file.path}"
    rows = _verdicts(replication, claims_file, invalid, reproduce)
    if harness is not None:
        own = {r["id"]: r for r in harness.get("results", [])}
        rows = [attrs.evolve(row, harness=_harness_cell(own.get(row.result.id))) for row in rows]
    arithmetic = tuple(_recompute(n, replication) for n in replication.numbers if n.formula is not None)
    quotes = tuple(_check_quote(q, claims_file, invalid) for q in replication.quotes)
    return Audit(
        replication,
        replication_sha256,
        claims_file.path,
        claims_sha256,
        claims_file.source,
        tuple(rows),
        arithmetic,
        quotes,
        harness_path,
    )


def _harness_cell(result: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if result is None:
        return None
    keys = ("verdict", "measured", "interval", "unit", "smoke", "reason", "reproduce")
    return {k: result.get(k) for k in keys}


# ---------------------------------------------------------------- text


def _side_by_side(row: AuditRow) -> str:
    r = row.result
    paper = fmt_value(r.claimed, r.unit)
    report = row.reported if row.number else f"{fmt_value(r.measured, r.unit)} (derived)"
    line = f"paper {paper} | report {report}"
    if row.harness is not None:
        h = row.harness
        smoke = " SMOKE" if h.get("smoke") else ""
        line += f" | harness {fmt_value(h.get('measured'), h.get('unit') or '')} ({h.get('verdict')}{smoke})"
    return line


def text_lines(audit: Audit) -> list[str]:
    """The audit as a person reads it in the terminal."""
    rep = audit.replication.report
    source = audit.source
    out = [
        f'Audit of "{rep.title}" by {rep.byline}, {rep.dated}',
        f"  replication file: {audit.replication.path}" + (f" (document: {rep.document})" if rep.document else ""),
        "  hardware: " + (", ".join(f"{k} = {v}" for k, v in rep.hardware.items()) or "not stated"),
        f"  judged against {audit.claims_path}" + (f" ({source.reference} {source.version})" if source else ""),
        f"  third column: {audit.harness_results}"
        if audit.harness_results
        else "  third column: none (add --results claims-results/results.json for this harness's own numbers)",
        "",
        "1. The paper's claims, with the report's numbers as the measurements",
    ]
    for row in audit.rows:
        r = row.result
        out.append(f"  {r.verdict:<16}{r.id}" + (f"  [{row.number}]" if row.number else "  [derived]"))
        out.append(f"  {'':<16}{_side_by_side(row)}")
        out.append(f"  {'':<16}why: {r.reason}")
    sections = (
        ("2. The report's own arithmetic, recomputed from its components", audit.arithmetic),
        ("3. The report's quotes of the paper, against the claims file", audit.quotes),
    )
    for title, checks in sections:
        out += ["", title]
        for check in checks:
            out.append(f"  {check.status:<17}{check.id}: stated {check.stated}")
            out.append(f"  {'':<17}{check.reason}")
    if audit.replication.unchecked:
        out += ["", "4. Not checked"]
        for u in audit.replication.unchecked:
            out.append(f'  "{u.quote}": {u.reason}')
    statuses = _status_counts(audit.checks)
    out += [
        "",
        "Verdicts: " + ", ".join(f"{n} {v}" for v, n in audit.verdict_counts().items()),
        "Checks: " + ", ".join(f"{n} {s}" for s, n in statuses.items()),
        f"Findings: {len(audit.findings)}"
        + (" (" + "; ".join(f"{c.status} {c.id}" for c in audit.findings) + ")" if audit.findings else ""),
    ]
    if audit.borderline:
        out.append("Borderline (within rounding, only just): " + "; ".join(c.id for c in audit.borderline))
    return out


def write(audit: Audit, out_dir: Path) -> tuple[Path, Path]:
    """Write audit.json and audit.html into ``out_dir``."""
    import json

    from harness.report import render_audit
    from harness.results import atomic_write_text

    json_path, html_path = out_dir / "audit.json", out_dir / "audit.html"
    atomic_write_text(json_path, json.dumps(audit.to_dict(), indent=2, allow_nan=False) + "\n")
    atomic_write_text(html_path, render_audit(audit))
    return json_path, html_path
