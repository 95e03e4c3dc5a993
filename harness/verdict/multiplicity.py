"""Multiplicity: many band verdicts in one run, and what that does to the chance of a false NOT_REPRODUCED.

The band test. A claim's band [lo, hi] is the null hypothesis "the claim is right" (the truth is in the band);
NOT_REPRODUCED at level 1 - alpha rejects it: the (1 - alpha) interval is wholly outside the band. Its
p-value is the smallest alpha at which that happens:

- from a normal estimate x with standard uncertainty u: p = 2 (1 - Phi(dist / u)), dist = max(x - hi, lo - x)
  (p = 1 when dist <= 0, x in the band);
- from bootstrap replicates read as a percentile interval: p = min(1, 2 F(hi), 2 (1 - F(lo^-))), F their
  empirical distribution (the (1 - alpha) percentile interval is above hi exactly when F(hi) < alpha / 2).

With the truth on an edge, P(p <= alpha) = alpha / 2: the test is conservative by a factor 2 because the other
side of the interval cannot fail. ``familywise_levels`` turns a family of m such p-values into the interval
level to use for each claim (Bonferroni, Holm step-down, Benjamini-Hochberg step-up), so that the run's
NOT_REPRODUCED verdicts control the family-wise error (Bonferroni, Holm) or the false discovery rate (BH).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.core.distributions import normal_sf
from harness.core.stats import LEVEL
from harness.core.stats_input import finite_array, level_value, non_negative, require

if TYPE_CHECKING:
    import numpy as np

METHODS = ("bonferroni", "holm", "bh")


def expected_false_not_reproduced(probabilities: Sequence[float]) -> float:
    """The expected number of NOT_REPRODUCED verdicts when every claim is replicated exactly: the sum of each
    claim's probability of a false NOT_REPRODUCED (linearity of expectation: no independence needed)."""
    return float(_probabilities(probabilities).sum())


def probability_any_false_not_reproduced(probabilities: Sequence[float]) -> float:
    """P(at least one false NOT_REPRODUCED) if the claims' verdicts are independent: 1 - prod(1 - p_i)."""
    return float(1.0 - (1.0 - _probabilities(probabilities)).prod())


def _probabilities(probabilities: Sequence[float]) -> np.ndarray:
    values = finite_array(probabilities, "multiplicity(probabilities)", minimum_length=0)
    require(
        bool(((values >= 0) & (values <= 1)).all()),
        "multiplicity(probabilities)",
        "probabilities in [0, 1]",
        [float(v) for v in values if not 0 <= v <= 1],
        "pass each claim's probability of a false NOT_REPRODUCED",
    )
    return values


def band_p_value(estimate: float, u: float, lo: float, hi: float) -> float:
    """The band test's p-value for a normal estimate (see the module docstring)."""
    require(
        math.isfinite(estimate),
        "band_p_value(estimate)",
        "a finite estimate",
        estimate,
        "a NaN or infinite measurement has no p-value: re-measure",
    )
    require(lo <= hi, "band_p_value(lo, hi)", "lo <= hi", (lo, hi), "swap the band's edges")
    u = non_negative(u, "band_p_value(u)")
    distance = max(estimate - hi, lo - estimate)
    if distance <= 0:
        return 1.0
    if u == 0:
        return 0.0
    return min(1.0, 2.0 * normal_sf(distance / u))


def band_p_value_from_replicates(replicates: Sequence[float], lo: float, hi: float) -> float:
    """The band test's p-value for bootstrap replicates (percentile reading; see the module docstring)."""
    values = finite_array(replicates, "band_p_value_from_replicates(replicates)")
    require(lo <= hi, "band_p_value_from_replicates(lo, hi)", "lo <= hi", (lo, hi), "swap the band's edges")
    above = 2.0 * float((values <= hi).mean())  # small when the replicates lie above the band
    below = 2.0 * float((values >= lo).mean())  # small when they lie below it
    return min(1.0, above, below)


def adjusted_p_values(p_values: Sequence[float], method: str) -> list[float]:
    """Adjusted p-values, in the input order (the formulas of statsmodels' multipletests):

    - Bonferroni: min(1, m p_i);
    - Holm: with p sorted ascending, max over j <= i of min(1, (m - j + 1) p_(j));
    - Benjamini-Hochberg: min over j >= i of min(1, m p_(j) / j).
    """
    import numpy as np

    p = _p_values(p_values, method)
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    ranks = np.arange(1, m + 1)
    if method == "bonferroni":
        adjusted = np.minimum(1.0, m * ranked)
    elif method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - ranks + 1) * ranked))
    else:
        adjusted = np.minimum.accumulate(np.minimum(1.0, m * ranked / ranks)[::-1])[::-1]
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]


def familywise_levels(p_values: Sequence[float], method: str, level: float = LEVEL) -> list[float]:
    """The interval level to use for each claim of a family of m, in the input order.

    A claim is NOT_REPRODUCED at its level exactly when the method rejects it at alpha = 1 - ``level``:

    - Bonferroni: every claim at 1 - alpha/m;
    - Holm (step-down): the claim of rank j (p ascending) at 1 - alpha/(m - j + 1) while every smaller p was
      rejected; from the first claim not rejected on, all at that step's level (none of them is rejected);
    - Benjamini-Hochberg (step-up): with k the largest rank with p_(k) <= k alpha/m, every claim at
      1 - max(k, 1) alpha/m (the k smallest are rejected, the others are not).
    """
    import numpy as np

    p = _p_values(p_values, method)
    alpha = 1.0 - level_value(level, "familywise_levels(level)")
    m = p.size
    if method == "bonferroni":
        return [1.0 - alpha / m] * m
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    thresholds = np.empty(m)
    if method == "holm":
        stopped = False
        stop_threshold = 0.0
        for j in range(m):  # j is 0-based: rank j + 1
            if not stopped:
                step = alpha / (m - j)
                if ranked[j] <= step:
                    thresholds[j] = step
                    continue
                stopped, stop_threshold = True, step
            thresholds[j] = stop_threshold
    else:
        passing = np.flatnonzero(ranked <= np.arange(1, m + 1) * alpha / m)
        k = int(passing[-1]) + 1 if passing.size else 0
        thresholds[:] = max(k, 1) * alpha / m
    out = np.empty(m)
    out[order] = 1.0 - thresholds
    return [float(v) for v in out]


def _p_values(p_values: Sequence[float], method: str) -> np.ndarray:
    require(method in METHODS, "multiplicity(method)", f"one of {METHODS}", method, "e.g. --claims-familywise=holm")
    p = finite_array(p_values, "multiplicity(p_values)")
    require(
        bool(((p >= 0) & (p <= 1)).all()),
        "multiplicity(p_values)",
        "p-values in [0, 1]",
        p.tolist(),
        "pass band_p_value's results",
    )
    return p
