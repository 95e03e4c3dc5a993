"""Formulas across claims: unknown ids, cycles, over-long chains, dimensions, and values derived from components."""

from __future__ import annotations

import math

import attrs

from harness.core.errors import ClaimError, did_you_mean
from harness.spec.dimensions import DimensionError, check_claim_dimension
from harness.spec.records import MAX_FORMULA_CHAIN, Claim
from harness.spec.units import from_base, to_base


def check_formulas(path: str, claims: dict[str, Claim], errors: dict[str, ClaimError]) -> None:
    """Unknown ids, cycles and over-long chains in formulas; a claim whose component is broken is broken
    too. Depth first with an explicit stack, so that no file can exhaust Python's recursion limit here, and
    chains are bounded so that deriving and measuring (which recurse along them) cannot either."""
    depth: dict[str, int] = {}  # finished claims: the longest chain of formulas below them (0: measured)

    def names(cid: str) -> tuple[str, ...]:
        formula = claims[cid].formula
        return formula.names if formula else ()

    def fail(cid: str, expected: str, found: str, fix: str) -> None:
        errors.setdefault(cid, ClaimError(path, cid, "formula", expected, found, fix))

    for root in claims:
        if root in depth or root in errors:
            continue
        stack = [(root, iter(names(root)))]
        on_stack = {root}
        while stack:
            cid, pending = stack[-1]
            name = next(pending, None) if cid not in errors else None
            if name is None:  # cid's components are all checked
                stack.pop()
                on_stack.discard(cid)
                broken = [n for n in names(cid) if n in errors]
                if broken:
                    fail(
                        cid,
                        "components that load",
                        f"the component {broken[0]!r} is invalid",
                        f"fix {broken[0]!r} first (see its own error)",
                    )
                if cid in errors:
                    continue
                depth[cid] = 1 + max(depth[n] for n in names(cid)) if names(cid) else 0
                if depth[cid] > MAX_FORMULA_CHAIN:
                    fail(
                        cid,
                        f"chains of formulas at most {MAX_FORMULA_CHAIN} claims deep",
                        f"a chain {depth[cid]} claims deep",
                        "derive it from fewer intermediate claims",
                    )
            elif name in on_stack:
                members = [c for c, _ in stack][[c for c, _ in stack].index(name) :]
                cycle = " -> ".join([*members, name])
                for member in members:
                    errors[member] = ClaimError(
                        path, member, "formula", "formulas without cycles", f"the cycle {cycle}", "break the cycle"
                    )
            elif name not in claims and name not in errors:
                fail(
                    cid,
                    "ids of claims in this file",
                    f"the unknown id {name!r}",
                    "correct the id or add that claim." + did_you_mean(name, claims),
                )
            elif name not in depth and name not in errors:
                stack.append((name, iter(names(name))))
                on_stack.add(name)


def check_dimensions(path: str, claims: dict[str, Claim], errors: dict[str, ClaimError]) -> None:
    """A formula adds only like to like (``params.a + bytes.b`` is refused) and gives its claim's dimension."""
    for cid, claim in claims.items():
        if claim.formula is None or cid in errors or any(n not in claims for n in claim.formula.names):
            continue
        try:
            check_claim_dimension(claim.formula, {n: claims[n].unit for n in claim.formula.names}, claim.unit)
        except DimensionError as exc:
            errors[cid] = ClaimError(
                path,
                cid,
                "formula",
                "a formula whose + and - join operands of one dimension, with the dimension of the claim's unit",
                str(exc),
                "correct the formula, or the unit of the claim or of its components",
            )


def derive_values(path: str, claims: dict[str, Claim], errors: dict[str, ClaimError]) -> None:
    """Fill in the claimed value of claims that state only a formula, from the stated components. A formula
    that gives no finite number over the stated values (a division by zero, an overflow) is an error."""
    done: set[str] = set()

    def value_of(cid: str) -> float:
        claim = claims[cid]
        if claim.formula is None or cid in done:
            return claim.value
        done.add(cid)
        base = {n: to_base(value_of(n), claims[n].unit) for n in claim.formula.names}
        broken = [n for n in claim.formula.names if n in errors]
        try:
            value = from_base(float(claim.formula.evaluate(base)), claim.unit)
        except ZeroDivisionError:
            value = math.nan
        if broken:
            errors[cid] = ClaimError(
                path,
                cid,
                "formula",
                "components that load",
                f"the component {broken[0]!r} is invalid",
                f"fix {broken[0]!r} first (see its own error)",
            )
        elif not math.isfinite(value):
            errors[cid] = ClaimError(
                path,
                cid,
                "formula",
                "a finite number over the source's stated values",
                f"{value} (a division by zero or an overflow)",
                "correct the formula or the components' values",
            )
        elif claim.value_is_derived:
            precision = 0.0 if math.isnan(claim.precision) else claim.precision
            claims[cid] = attrs.evolve(claim, value=value, precision=precision)
        return claims[cid].value

    for cid in list(claims):
        value_of(cid)
