"""Bands and decisions: a claimed value, its tolerance band, a measured value and its interval.

Pure functions over numbers, so that every decision can be unit-tested with exact values. Band edges are
inclusive, with a relative slack of 1e-9 so that float noise (1.6 - 0.05) does not decide a verdict.
"""

from __future__ import annotations

import enum
import math

import attrs

from harness.spec import Claim

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
    #: a sign band: its finite edge (zero) is excluded, with no slack ("negative" is never 0)
    strict: bool = False

    def __attrs_post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"a band [{self.lo}, {self.hi}] has its edges inverted")

    def _slack(self) -> float:
        finite = [abs(x) for x in (self.lo, self.hi) if math.isfinite(x)]
        return _SLACK * max([1.0, *finite])

    def _open(self, edge: float) -> bool:
        """A sign band excludes zero, exactly: "negative" is never 0, whatever the float noise."""
        return self.strict and edge == 0.0

    def contains(self, x: float) -> bool:
        return not self.below(x) and not self.above(x)

    def below(self, x: float) -> bool:
        """``x`` is outside the band, on its low side."""
        return x <= self.lo if self._open(self.lo) else x < self.lo - self._slack()

    def above(self, x: float) -> bool:
        """``x`` is outside the band, on its high side."""
        return x >= self.hi if self._open(self.hi) else x > self.hi + self._slack()

    @property
    def one_sided(self) -> bool:
        return math.isinf(self.lo) != math.isinf(self.hi)

    def shown(self) -> str:
        left = "(" if self._open(self.lo) or math.isinf(self.lo) else "["
        right = ")" if self._open(self.hi) or math.isinf(self.hi) else "]"
        return f"{left}{fmt_number(self.lo)}, {fmt_number(self.hi)}{right}"

    @property
    def width(self) -> float:
        """The tolerance width used to express deviations (half the band, or the margin of a bound)."""
        if math.isfinite(self.lo) and math.isfinite(self.hi):
            return (self.hi - self.lo) / 2.0
        return math.nan


def band(value: float, kind: str, width: float, precision: float, sign: str | None = None) -> Band:
    """The band of a claim stated as ``value`` with a tolerance of ``kind`` and ``width``; ``sign``
    ("negative"/"positive") cuts it at zero, strictly, so that a measurement of the opposite sign (or zero)
    never reproduces a signed claim."""
    b = _band(value, kind, width, precision)
    if sign is None:
        return b
    if sign == "negative":
        return Band(b.lo, min(b.hi, 0.0), strict=True) if b.lo < 0 else Band(0.0, 0.0, strict=True)
    if sign == "positive":
        return Band(max(b.lo, 0.0), b.hi, strict=True) if b.hi > 0 else Band(0.0, 0.0, strict=True)
    raise ValueError(f"unknown sign {sign!r}")


def _band(value: float, kind: str, width: float, precision: float) -> Band:
    if kind == "sign":
        if value == 0:
            raise ValueError("a sign claim needs a non-zero value (its sign is the claim)")
        return Band(-math.inf, 0.0, strict=True) if value < 0 else Band(0.0, math.inf, strict=True)
    if kind == "absolute":
        return Band(value - width, value + width)
    if kind == "relative":
        return Band(value - abs(value) * width, value + abs(value) * width)
    if kind == "precision":
        return Band(value - precision / 2.0, value + precision / 2.0)
    if kind == "relative_or_precision":  # whichever is wider: the relative width or the printed rounding
        half = max(abs(value) * width, precision / 2.0)
        return Band(value - half, value + half)
    if kind == "lower_bound":
        return Band(value - width, math.inf)
    if kind == "upper_bound":
        return Band(-math.inf, value + width)
    raise ValueError(f"unknown tolerance kind {kind!r}")


def claim_band(claim: Claim, value: float | None = None) -> Band:
    """The claim's band around its stated value (or around ``value``: an alternative the source may mean)."""
    v = claim.value if value is None else value
    return band(v, claim.tolerance.kind, claim.tolerance.value, claim.precision, claim.tolerance.sign)


@attrs.frozen
class Decision:
    verdict: Verdict
    reason: str


def unjudgeable(value: float, interval: tuple[float, float] | None = None) -> str | None:
    """Why a measurement cannot be judged at all (NaN or infinite value or interval, an interval with
    lo > hi), or None when it can. Such a measurement is an ERROR, never a verdict."""
    if not isinstance(value, (int, float)) or math.isnan(value):
        return f"the measured value is not a number ({value!r})"
    if math.isinf(value):
        return f"the measured value is infinite ({fmt_number(value)})"
    if interval is None:
        return None
    lo, hi = interval
    if math.isnan(lo) or math.isnan(hi):
        return f"the interval {_pair(lo, hi)} is not a number (undefined for this data, e.g. constant scores)"
    if math.isinf(lo) or math.isinf(hi):
        return f"the interval {_pair(lo, hi)} is unbounded (a replicate divided by zero or overflowed)"
    if lo > hi:
        return f"the interval {_pair(lo, hi)} has lo > hi"
    return None


class InvalidInterval(ValueError):
    """An interval that cannot be a measurement's: inverted, or not containing its own point."""


def check_interval(value: float, interval: tuple[float, float] | None) -> None:
    """``lo <= value <= hi`` (with float slack), else ``InvalidInterval`` saying which. NaN is left to the
    caller (a NaN value has no interval to be inside)."""
    if interval is None or math.isnan(value):
        return
    lo, hi = interval
    if math.isnan(lo) or math.isnan(hi):
        return  # not a number at all: ``unjudgeable`` says why (undefined for this data), as an ERROR
    if lo > hi:
        raise InvalidInterval(f"not judged: the interval {_pair(lo, hi)} is inverted (lo > hi)")
    s = _SLACK * max(1.0, abs(value))
    if not lo - s <= value <= hi + s:
        raise InvalidInterval(f"not judged: the point {fmt_number(value)} is outside its own interval {_pair(lo, hi)}")


def limited(
    verdict: Verdict, reason: str, inconclusive: str | None, at_best_inconclusive: str | None
) -> tuple[Verdict, str]:
    """A decision under its evidence's limits: evidence that is INCONCLUSIVE whatever it shows (the machine
    changed under the timing) makes it INCONCLUSIVE; evidence that can be at best INCONCLUSIVE (one seed and
    no declared seed SD) caps REPRODUCED. The reason says which."""
    if inconclusive:
        return Verdict.INCONCLUSIVE, f"{reason}; but {inconclusive}"
    if verdict is Verdict.REPRODUCED and at_best_inconclusive:
        return Verdict.INCONCLUSIVE, f"{reason}; but {at_best_inconclusive}"
    return verdict, reason


def decide(b: Band, value: float, interval: tuple[float, float] | None = None) -> Decision:
    """REPRODUCED when the value and its whole interval are in the band, NOT_REPRODUCED when the interval is
    wholly outside, INCONCLUSIVE when it straddles an edge. A measurement ``unjudgeable`` rejects (NaN, infinite)
    raises ``ValueError``, and an interval that is inverted or does not contain its point raises
    ``InvalidInterval`` (a ``ValueError``): the engine turns both into an ERROR, never a verdict."""
    shown = b.shown()
    check_interval(value, interval)  # first: an inverted interval is InvalidInterval, whatever else is wrong
    problem = unjudgeable(value, interval)
    if problem is not None:
        raise ValueError(f"not judged: {problem}")
    if interval is None:
        if b.contains(value):
            return Decision(Verdict.REPRODUCED, f"measured {fmt_number(value)} is inside the band {shown}")
        return Decision(Verdict.NOT_REPRODUCED, f"measured {fmt_number(value)} is outside the band {shown}")
    lo, hi = interval
    if b.contains(lo) and b.contains(hi) and b.contains(value):
        return Decision(
            Verdict.REPRODUCED, f"the interval [{fmt_number(lo)}, {fmt_number(hi)}] is inside the band {shown}"
        )
    if b.above(lo) or b.below(hi):
        return Decision(
            Verdict.NOT_REPRODUCED, f"the interval [{fmt_number(lo)}, {fmt_number(hi)}] is outside the band {shown}"
        )
    return Decision(Verdict.INCONCLUSIVE, f"the interval {_pair(lo, hi)} straddles an edge of the band {shown}")


def point_in(interval: tuple[float, float] | None, x: float) -> bool | None:
    """Whether ``x`` lies in the interval (None when there is no interval)."""
    if interval is None:
        return None
    s = _SLACK * max(1.0, abs(x))
    return interval[0] - s <= x <= interval[1] + s


def deviation(claimed: float, measured: float, b: Band) -> tuple[float, float]:
    """The deviation in the claim's unit and in tolerance widths (NaN where the band has no width)."""
    d = measured - claimed
    w = b.width
    return d, (d / w if w and math.isfinite(w) else math.nan)


def fmt_number(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "nan"
    return f"{x:.6g}"


def _pair(lo: float, hi: float) -> str:
    return f"[{fmt_number(lo)}, {fmt_number(hi)}]"
