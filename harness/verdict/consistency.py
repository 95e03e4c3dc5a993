"""Does the source agree with itself? A derived claim recomputed from its stated components, each ± precision/2."""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

from harness.spec import Claim
from harness.spec.formula import Interval
from harness.spec.units import from_base, to_base
from harness.verdict.bands import fmt_number


@attrs.frozen
class Consistency:
    """The claim recomputed from the source's own stated components."""

    consistent: bool
    recomputed: float
    interval: tuple[float, float]
    reason: str
    #: False when the source's numbers cannot decide it (a division by a component whose rounded value spans
    #: zero, a NaN): the claim is then an ERROR, never "consistent"
    decidable: bool = True


def check_consistency(claim: Claim, components: Mapping[str, Claim]) -> Consistency | None:
    """None when the claim has no formula or no stated value of its own; else whether the source agrees
    with itself: the formula over the components (each ± precision/2) must meet the claim's ± precision/2,
    or, for a one-sided reading ("within 3.9 points", "at least 1.6x"), satisfy the bound."""
    if claim.formula is None or claim.value_is_derived:
        return None
    point = {n: to_base(components[n].value, components[n].unit) for n in claim.formula.names}
    spans = {n: Interval.around(components[n].value, components[n].precision / 2.0) for n in claim.formula.names}
    spans_base = {
        n: Interval(to_base(i.lo, components[n].unit), to_base(i.hi, components[n].unit)) for n, i in spans.items()
    }
    try:
        recomputed = from_base(float(claim.formula.evaluate(point)), claim.unit)
    except ZeroDivisionError:
        recomputed = math.nan
    reach: Interval = claim.formula.evaluate(spans_base)
    if not isinstance(reach, Interval):
        reach = Interval(float(reach), float(reach))
    reach = Interval(from_base(reach.lo, claim.unit), from_base(reach.hi, claim.unit))
    if math.isnan(recomputed) or not (math.isfinite(reach.lo) and math.isfinite(reach.hi)):
        return Consistency(
            False,
            recomputed,
            (reach.lo, reach.hi),
            f"{claim.formula.text} over the source's own numbers cannot be checked: it gives "
            f"{fmt_number(recomputed)}, bounded by [{fmt_number(reach.lo)}, {fmt_number(reach.hi)}] with each "
            "component rounded (a division by a component that is, or may round to, zero, or an overflow). "
            "Fix: check the formula, or state the components' precision so that no divisor can round to zero",
            decidable=False,
        )
    stated = Interval.around(claim.value, claim.precision / 2.0)
    kind = claim.tolerance.kind
    if kind == "upper_bound":  # "within 3.9 points": a bound the source's own numbers must satisfy, not equal
        ok = reach.lo <= stated.hi
    elif kind == "lower_bound":
        ok = reach.hi >= stated.lo
    else:
        ok = reach.intersects(stated)
    text = (
        f"{claim.formula.text} over the source's own numbers gives {fmt_number(recomputed)} "
        f"(at most [{fmt_number(reach.lo)}, {fmt_number(reach.hi)}] with each rounded) "
        f"but the source states {fmt_number(claim.value)}"
    )
    bound = {"upper_bound": "at most ", "lower_bound": "at least "}.get(kind, "")
    if not ok and bound:
        text = f"{text}, which is not {bound}{fmt_number(claim.value)}"
    reason = (
        text
        if not ok
        else f"{claim.formula.text} over the source's own numbers gives {fmt_number(recomputed)}, "
        f"consistent with {bound}{fmt_number(claim.value)}"
    )
    return Consistency(ok, recomputed, (reach.lo, reach.hi), reason)
