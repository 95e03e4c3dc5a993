"""The verdict engine: a claimed value, its tolerance band, a measured value and its interval.

Pure functions over numbers, so that every decision can be unit-tested with exact values. Band edges are
inclusive, with a relative slack of 1e-9 so that float noise (1.6 - 0.05) does not decide a verdict.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping

import attrs

from harness.claims import Claim, Scalar
from harness.formula import Interval
from harness.units import from_base, to_base

_SLACK = 1e-9


class Verdict(enum.Enum):
    """What a claim's run concluded."""

    REPRODUCED = "REPRODUCED"
    NOT_REPRODUCED = "NOT_REPRODUCED"
    INCONCLUSIVE = "INCONCLUSIVE"
    NOT_COMPARABLE = "NOT_COMPARABLE"
    NOT_RUN = "NOT_RUN"
    INCONSISTENT = "INCONSISTENT"


#: most severe first: the order of the report's deviations table
SEVERITY = (
    Verdict.NOT_REPRODUCED,
    Verdict.INCONSISTENT,
    Verdict.INCONCLUSIVE,
    Verdict.NOT_COMPARABLE,
    Verdict.NOT_RUN,
    Verdict.REPRODUCED,
)


@attrs.frozen
class Band:
    """The closed range of values that reproduce a claim (``-inf``/``inf`` for one-sided bounds)."""

    lo: float
    hi: float

    def _slack(self) -> float:
        finite = [abs(x) for x in (self.lo, self.hi) if math.isfinite(x)]
        return _SLACK * max([1.0, *finite])

    def contains(self, x: float) -> bool:
        s = self._slack()
        return self.lo - s <= x <= self.hi + s

    @property
    def width(self) -> float:
        """The tolerance width used to express deviations (half the band, or the margin of a bound)."""
        if math.isfinite(self.lo) and math.isfinite(self.hi):
            return (self.hi - self.lo) / 2.0
        return math.nan


def band(value: float, kind: str, width: float, precision: float) -> Band:
    """The band of a claim stated as ``value`` with a tolerance of ``kind`` and ``width``."""
    if kind == "absolute":
        return Band(value - width, value + width)
    if kind == "relative":
        return Band(value - abs(value) * width, value + abs(value) * width)
    if kind == "precision":
        return Band(value - precision / 2.0, value + precision / 2.0)
    if kind == "lower_bound":
        return Band(value - width, math.inf)
    if kind == "upper_bound":
        return Band(-math.inf, value + width)
    raise ValueError(f"unknown tolerance kind {kind!r}")


def claim_band(claim: Claim) -> Band:
    return band(claim.value, claim.tolerance.kind, claim.tolerance.value, claim.precision)


@attrs.frozen
class Decision:
    verdict: Verdict
    reason: str


def decide(b: Band, value: float, interval: tuple[float, float] | None = None) -> Decision:
    """REPRODUCED when the value (its whole interval) is in the band, NOT_REPRODUCED when it is wholly
    outside, INCONCLUSIVE when the interval straddles an edge."""
    shown = f"[{_fmt(b.lo)}, {_fmt(b.hi)}]"
    if math.isnan(value):
        return Decision(Verdict.NOT_REPRODUCED, "the measurement is not a number (NaN)")
    if interval is None:
        if b.contains(value):
            return Decision(Verdict.REPRODUCED, f"measured {_fmt(value)} is inside the band {shown}")
        return Decision(Verdict.NOT_REPRODUCED, f"measured {_fmt(value)} is outside the band {shown}")
    lo, hi = interval
    if b.contains(lo) and b.contains(hi):
        return Decision(Verdict.REPRODUCED, f"the interval [{_fmt(lo)}, {_fmt(hi)}] is inside the band {shown}")
    s = b._slack()
    if hi < b.lo - s or lo > b.hi + s:
        return Decision(Verdict.NOT_REPRODUCED, f"the interval [{_fmt(lo)}, {_fmt(hi)}] is outside the band {shown}")
    return Decision(
        Verdict.INCONCLUSIVE, f"the interval [{_fmt(lo)}, {_fmt(hi)}] straddles an edge of the band {shown}"
    )


def deviation(claimed: float, measured: float, b: Band) -> tuple[float, float]:
    """The deviation in the claim's unit and in tolerance widths (NaN where the band has no width)."""
    d = measured - claimed
    w = b.width
    return d, (d / w if w and math.isfinite(w) else math.nan)


@attrs.frozen
class Consistency:
    """The claim recomputed from the source's own stated components."""

    consistent: bool
    recomputed: float
    interval: tuple[float, float]
    reason: str


def check_consistency(claim: Claim, components: Mapping[str, Claim]) -> Consistency | None:
    """None when the claim has no formula or no stated value of its own; else whether the source agrees
    with itself: the formula over the components (each ± precision/2) must meet the claim's ± precision/2."""
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
    stated = Interval.around(claim.value, claim.precision / 2.0)
    ok = reach.intersects(stated)
    text = (
        f"{claim.formula.text} over the source's own numbers gives {_fmt(recomputed)} "
        f"(at most [{_fmt(reach.lo)}, {_fmt(reach.hi)}] with each rounded) but the source states {_fmt(claim.value)}"
    )
    reason = (
        text
        if not ok
        else f"{claim.formula.text} over the source's own numbers gives {_fmt(recomputed)}, "
        f"consistent with {_fmt(claim.value)}"
    )
    return Consistency(ok, recomputed, (reach.lo, reach.hi), reason)


_DROP = re.compile(r"\((r|tm)\)|[,;()]", re.IGNORECASE)


def _tokens(text: str) -> set[str]:
    return set(_DROP.sub(" ", text.lower()).split())


def condition_matches(claimed: Scalar, measured: Scalar | None) -> bool:
    """Whether a measured condition is the claimed one: numbers exactly, strings by the claimed words
    (so "Intel Xeon E5-2690 v3" matches "Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz")."""
    if measured is None:
        return False
    if isinstance(claimed, bool) or isinstance(measured, bool):
        return claimed is measured
    if isinstance(claimed, (int, float)) and isinstance(measured, (int, float)):
        return float(claimed) == float(measured)
    words = _tokens(str(claimed))
    return bool(words) and words <= _tokens(str(measured))


def differing_conditions(claim: Claim, measured: Mapping[str, Scalar]) -> dict[str, tuple[Scalar, Scalar | None]]:
    """The ``comparable_on`` conditions where the measurement differs from the claim (or did not record them)."""
    out: dict[str, tuple[Scalar, Scalar | None]] = {}
    for key in claim.comparable_on:
        if not condition_matches(claim.conditions[key], measured.get(key)):
            out[key] = (claim.conditions[key], measured.get(key))
    return out


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "nan"
    return f"{x:.6g}"
