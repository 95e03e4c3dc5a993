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
    if kind == "relative_or_precision":  # whichever is wider: the relative width or the printed rounding
        half = max(abs(value) * width, precision / 2.0)
        return Band(value - half, value + half)
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
    shown = _pair(b.lo, b.hi)
    if math.isnan(value):
        return Decision(Verdict.NOT_REPRODUCED, "the measurement is not a number (NaN)")
    if interval is None:
        if b.contains(value):
            return Decision(Verdict.REPRODUCED, f"measured {fmt_number(value)} is inside the band {shown}")
        return Decision(Verdict.NOT_REPRODUCED, f"measured {fmt_number(value)} is outside the band {shown}")
    lo, hi = interval
    if b.contains(lo) and b.contains(hi):
        return Decision(
            Verdict.REPRODUCED, f"the interval [{fmt_number(lo)}, {fmt_number(hi)}] is inside the band {shown}"
        )
    s = b._slack()
    if hi < b.lo - s or lo > b.hi + s:
        return Decision(
            Verdict.NOT_REPRODUCED, f"the interval [{fmt_number(lo)}, {fmt_number(hi)}] is outside the band {shown}"
        )
    return Decision(Verdict.INCONCLUSIVE, f"the interval {_pair(lo, hi)} straddles an edge of the band {shown}")


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
