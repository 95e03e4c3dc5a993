"""Power before spending: what a claim's evidence can and cannot show, on a normal model of the estimate.

The model: the measured value is normal around the true value with standard deviation u (the budget's combined
standard uncertainty) and the verdict's interval is value +- h with h = k u (k the coverage factor, 1.96 at
95%). Against a two-sided band claimed +- w:

- NOT_REPRODUCED when the interval is wholly outside the band: P = Phi((d - w - h)/u) + Phi((-d - w - h)/u)
  for a true deviation d from the claimed value;
- REPRODUCED when the interval is inside the band: possible only if h < w, then
  P = Phi((w - h - d)/u) - Phi((-(w - h) - d)/u).

``minimum_detectable_deviation`` is the smallest |d| that is NOT_REPRODUCED with probability ``power``;
``plan`` says whether REPRODUCED is reachable and, if not or not likely, what would make it so: the band
half-width needed, or the examples or seeds needed when the budget's components scale as 1/sqrt(count)
(the mean of S seeds; a median of S needs about 1.43 times as many for S near 5).
"""

from __future__ import annotations

import math

import attrs

from harness.core.distributions import increasing_root, normal_cdf, normal_ppf, normal_sf
from harness.core.stats import LEVEL
from harness.core.stats_input import level_value, non_negative, require

POWER = 0.8


def _z(level: float) -> float:
    return float(normal_ppf(0.5 + level_value(level, "power: level") / 2.0))


def probability_not_reproduced(deviation: float, u: float, band_half_width: float, interval_half_width: float) -> float:
    """P(the interval is wholly outside the two-sided band) when the truth is ``deviation`` from the claim."""
    u = non_negative(u, "probability_not_reproduced(u)")
    require(u > 0, "probability_not_reproduced(u)", "u > 0", u, "an estimate with no uncertainty needs no power")
    edge = non_negative(band_half_width, "band_half_width") + non_negative(interval_half_width, "interval_half_width")
    return normal_cdf((deviation - edge) / u) + normal_cdf((-deviation - edge) / u)


def minimum_detectable_deviation(
    u: float, band_half_width: float, level: float = LEVEL, power: float = POWER, coverage_factor: float | None = None
) -> float:
    """The smallest |true - claimed| that is NOT_REPRODUCED with probability >= ``power`` at ``level``.

    ``coverage_factor`` defaults to the normal quantile of ``level`` (pass the budget's t-based k)."""
    power = level_value(power, "minimum_detectable_deviation(power)")
    k = _z(level) if coverage_factor is None else non_negative(coverage_factor, "coverage_factor")
    h = k * u
    start = band_half_width + h  # the far tail alone gives an upper bound: d = w + h + z_power u
    upper = start + normal_ppf(power) * u
    if probability_not_reproduced(0.0, u, band_half_width, h) >= power:
        return 0.0
    return increasing_root(lambda d: probability_not_reproduced(d, u, band_half_width, h) - power, 0.0, upper + u)


def reachable(band_half_width: float, interval_half_width: float) -> bool:
    """Whether REPRODUCED is possible at all: the interval must fit strictly inside the band."""
    return non_negative(interval_half_width, "interval_half_width") < non_negative(band_half_width, "band_half_width")


def probability_reproduced(
    band_half_width: float, interval_half_width: float, u: float, deviation: float = 0.0
) -> float:
    """P(the interval lies inside the band) under the normal model; ``deviation`` 0 is an exact replication."""
    if not reachable(band_half_width, interval_half_width):
        return 0.0
    u = non_negative(u, "probability_reproduced(u)")
    room = band_half_width - interval_half_width
    if u == 0.0:
        return 1.0 if abs(deviation) <= room else 0.0
    return normal_cdf((room - deviation) / u) - normal_cdf((-room - deviation) / u)


@attrs.frozen
class PowerPlan:
    """What a claim's evidence can show, before measuring.

    ``margin_needed``: the band half-width at which an exact replication is REPRODUCED with probability
    ``target``; ``examples_needed`` / ``seeds_needed``: the count at which it is, with the other components
    kept (None: that count alone cannot get there; 0 where no component scales with it).
    """

    reachable: bool
    probability_reproduced: float
    minimum_detectable_deviation: float
    margin_needed: float
    examples_needed: int | None
    seeds_needed: int | None
    explanation: str


def _count_needed(u_needed: float, u_part: float, u_rest: float, count: int) -> int | None:
    """The count at which a component u_part (at ``count``) shrinks as 1/sqrt(count) to fit u_needed."""
    if u_part == 0.0 or count <= 0:
        return 0
    room = u_needed**2 - u_rest**2
    if room <= 0:
        return None
    return max(count, math.ceil(count * u_part**2 / room))


def plan(
    band_half_width: float,
    u_examples: float,
    examples: int,
    u_seeds: float = 0.0,
    seeds: int = 1,
    u_other: float = 0.0,
    level: float = LEVEL,
    target: float = POWER,
) -> PowerPlan:
    """The power statement for a claim of band +- ``band_half_width`` whose budget has an examples component
    ``u_examples`` (at ``examples`` examples), a seed component ``u_seeds`` (at ``seeds`` seeds) and others."""
    target = level_value(target, "plan(target)")
    k = _z(level)
    u = math.sqrt(u_examples**2 + u_seeds**2 + u_other**2)
    require(u > 0, "plan(u_examples, u_seeds, u_other)", "a combined uncertainty > 0", u, "pass the budget's parts")
    h = k * u
    ok = reachable(band_half_width, h)
    p = probability_reproduced(band_half_width, h, u)
    mdd = minimum_detectable_deviation(u, band_half_width, level)
    z_target = _z(target)  # P(|N(0,1)| <= z) = target
    margin = (k + z_target) * u
    u_needed = band_half_width / (k + z_target)
    more_examples = _count_needed(u_needed, u_examples, math.hypot(u_seeds, u_other), examples)
    more_seeds = _count_needed(u_needed, u_seeds, math.hypot(u_examples, u_other), seeds)
    state = (
        f"REPRODUCED unreachable with this evidence: the interval half-width {h:.4g} is not below "
        f"the band's {band_half_width:.4g}"
        if not ok
        else f"an exact replication is REPRODUCED with probability {p:.0%}"
    )
    options = [f"a band of +-{margin:.4g} (only with a justification that does not cite the measured value)"]
    caveats = []
    for count, noun in ((more_examples, "examples"), (more_seeds, "seeds")):
        if count is None:
            caveats.append(f"more {noun} alone cannot: the other components already exceed u = {u_needed:.4g}")
        elif count:
            options.append(f"{count} {noun}")
    explanation = f"{state}; a true deviation of {mdd:.4g} or more is NOT_REPRODUCED with probability >= {POWER:.0%}"
    if p < target:
        explanation += f". For REPRODUCED with probability {target:.0%}: " + " or ".join(options)
        explanation += "".join(f"; {c}" for c in caveats)
    return PowerPlan(ok, p, mdd, margin, more_examples, more_seeds, explanation)


@attrs.frozen
class BandPower:
    """A claim's power against its own band [lo, hi] (one edge may be infinite), on the normal model.

    ``false_not_reproduced``: P(NOT_REPRODUCED) when the truth is the claimed value (an exact replication);
    ``minimum_detectable_deviation``: against the nearer edge's half-width (None with no finite edge).
    """

    u: float
    interval_half_width: float
    reachable: bool
    probability_reproduced: float
    false_not_reproduced: float
    minimum_detectable_deviation: float | None
    line: str


def band_power(
    claimed: float, lo: float, hi: float, u: float, coverage_factor: float | None = None, can_reproduce: bool = True
) -> BandPower:
    """What a claim of ``claimed`` in [lo, hi] can show with an estimate of standard uncertainty ``u``.

    ``can_reproduce`` False (one seed, no declared seed SD): REPRODUCED is unreachable whatever u is."""
    require(lo <= hi, "band_power(lo, hi)", "lo <= hi", (lo, hi), "swap the band's edges")
    require(math.isfinite(claimed), "band_power(claimed)", "a finite claimed value", claimed, "fix the claim")
    u = non_negative(u, "band_power(u)")
    k = _z(LEVEL) if coverage_factor is None else non_negative(coverage_factor, "band_power(coverage_factor)")
    h = k * u
    width = hi - lo
    fits = h < width / 2.0 if math.isfinite(width) else True
    ok = fits and can_reproduce
    if u == 0.0:
        inside = lo <= claimed <= hi
        p_repro, p_false = (1.0 if inside else 0.0), (0.0 if inside else 1.0)
    else:
        p_false = normal_cdf((lo - h - claimed) / u) + normal_sf((hi + h - claimed) / u)
        p_repro = max(0.0, normal_cdf((hi - h - claimed) / u) - normal_cdf((lo + h - claimed) / u)) if ok else 0.0
    if not can_reproduce:
        p_repro = 0.0
    near = min(claimed - lo, hi - claimed)
    mdd = None
    if math.isfinite(near) and u > 0:
        mdd = minimum_detectable_deviation(u, max(near, 0.0), coverage_factor=k)
    mdd_text = "no finite edge" if mdd is None else f"{mdd:.4g}"
    if ok:
        state = f"REPRODUCED reachable: yes (P = {p_repro:.0%} for an exact replication)"
    elif fits:
        state = (
            "REPRODUCED unreachable with this evidence: one fine-tuning seed and no seed SD declared, so at best "
            "INCONCLUSIVE (declare a cited seed SD in [uncertainty.seed_sd] or run several seeds)"
        )
    else:
        margin = (k + _z(POWER)) * u
        state = (
            f"REPRODUCED unreachable with this evidence: interval half-width {h:.4g} >= the band's {width / 2:.4g}; "
            f"it needs a band of +-{margin:.4g} (justified without the measured value) or a smaller u "
            f"(more examples or seeds: u <= {width / 2 / (k + _z(POWER)):.4g})"
        )
        if not can_reproduce:
            state += "; and, one fine-tuning seed with no declared seed SD, at best INCONCLUSIVE anyway"
    line = f"u {u:.4g}, interval +-{h:.4g}; MDD +-{mdd_text}; {state}; P(false NOT_REPRODUCED) = {p_false:.3g}"
    return BandPower(u, h, ok, p_repro, p_false, mdd, line)
