"""The report's quotes of the paper (values, derived values, conditions) checked against the claims file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.errors import did_you_mean
from harness.report.audit.model import (
    DERIVED,
    DISAGREES,
    ERROR,
    OK,
    STATUS_ORDER,
    UNIT_ERROR,
    UNSUPPORTED,
    WRONG_CONDITIONS,
    Check,
    near,
    same_dimension,
    stated_text,
)
from harness.report.replications import PaperQuote, Replication, ReplicationError
from harness.report.terminal import fmt_value
from harness.spec import Claim, ClaimsFile, Source, Tolerance
from harness.spec.units import UNITS, convert
from harness.verdict import check_consistency, condition_matches, normalise


def _words(value: Any) -> set[str]:
    return set(normalise(str(value)).replace(",", " ").replace("(", " ").replace(")", " ").split())


def _match_either(a: Any, b: Any) -> bool:
    """Whether a report's condition names the paper's (or the reverse) loosely, by words ("V100" and
    "V100 16GB"): the audit uses it only to point at where the paper states a condition, never for a verdict
    (verdicts match conditions exactly, ``harness.verdict.conditions``)."""
    if condition_matches(a, b):
        return True
    if isinstance(a, (bool, int, float)) or isinstance(b, (bool, int, float)):
        return False
    wa, wb = _words(a), _words(b)
    return bool(wa) and bool(wb) and (wa <= wb or wb <= wa)


def _check_value(quote: PaperQuote, claim: Claim) -> tuple[str, str, str]:
    """(status, expected, reason) of a quoted value of a stated claim."""
    assert quote.value is not None and quote.unit is not None and quote.precision is not None
    paper = stated_text(claim.value, claim.unit, claim.precision if claim.precision > 0 else None)
    quoted = stated_text(quote.value, quote.unit, quote.precision)
    if UNITS[quote.unit].dimension != UNITS[claim.unit].dimension:
        dimension = UNITS[quote.unit].dimension
        return DISAGREES, paper, f"the report quotes {quoted}, a {dimension}; the paper states {paper}"
    half = max(quote.precision, claim.precision) / 2
    as_claim = convert(quote.value, quote.unit, claim.unit)
    if near(as_claim, claim.value, half):
        return OK, paper, f"the paper states {paper} ({claim.location})"
    for unit in (claim.unit, *same_dimension(claim.unit)):
        if unit != quote.unit and near(convert(quote.value, unit, claim.unit), claim.value, half):
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
    if not consistency.decidable:  # a divisor that may round to zero: not checkable, neither agrees nor disagrees
        return ERROR, expected, consistency.reason
    if consistency.consistent:
        return (
            DERIVED,
            expected,
            (
                f"not printed in the paper: {expected} over its stated numbers, "
                f"consistent with the quoted {stated_text(quote.value, quote.unit, quote.precision)}"
            ),
        )
    return (
        DISAGREES,
        expected,
        (
            f"{expected} over the paper's stated numbers, not the quoted "
            f"{stated_text(quote.value, quote.unit, quote.precision)}"
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


def check_quote(quote: PaperQuote, claims_file: ClaimsFile, invalid: Mapping[str, Exception]) -> Check:
    names = (quote.claim,) if quote.claim else tuple(quote.paper_formula.names if quote.paper_formula else ())
    stated = ", ".join(
        filter(
            None,
            [
                stated_text(quote.value, quote.unit, quote.precision) if quote.value is not None else "",
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


def check_references(replication: Replication, claims_file: ClaimsFile, invalid: Mapping[str, Exception]) -> None:
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
