"""Resampling estimators the verdicts rest on: the seeds x examples bootstrap, the paired timing ratio and its
drift check.

- ``two_level_bootstrap``: replicates of an aggregate over fine-tuning seeds (the paper's "median of 5 seeds")
  that carry both the spread of the seeds and the sampling of the evaluation examples.
- ``paired_ratio``: the ratio of mean times of two models timed on the same inputs, every input timed the
  same way (``reduce_repeats``: k repeats, one fixed statistic), with a studentized (delta-method) interval and
  a BCa bootstrap interval. No input is re-timed or selected on its value: selection is what biased the old
  outlier re-timing (issue 11).
- ``drift_check``: whether the per-input ratio changed while the run went on (first half vs second half, and a
  rank trend); a drifted run has no single ratio to cover, so its verdict is INCONCLUSIVE.

``MIN_INPUTS`` is the fewest timed inputs the coverage simulations (docs/statistics.md) support.
Pure functions over numbers; numpy and scipy are imported inside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

from harness.core.stats import LEVEL, N_REPLICATES, bootstrap_indices
from harness.core.stats import rng as default_rng
from harness.core.stats_input import finite_array, level_value, require

if TYPE_CHECKING:
    import numpy as np

#: fewest inputs for a timing ratio: below it the heavy-tailed simulations under-cover (docs/statistics.md)
MIN_INPUTS = 150
#: the interval ``paired_ratio`` reports as ``interval`` (see docs/statistics.md for why)
RECOMMENDED_RATIO_INTERVAL = "studentized"
#: replicates per chunk: bounds memory at CHUNK x inputs (x seeds) resampled values
CHUNK = 200
AGGREGATES = ("median", "mean")
REPEAT_STATISTICS = ("median", "mean", "min")


def reduce_repeats(times: Sequence[Sequence[float]], statistic: str = "median") -> np.ndarray:
    """Per-input times from an ``(inputs, k)`` table of k repeats, every input reduced by the same statistic.

    The same k and the same statistic for every input is what keeps the ratio free of selection bias: no
    input gets extra attempts because its first time looked wrong.
    """
    import numpy as np

    where = "reduce_repeats(times)"
    table = np.asarray(times, dtype=float)
    require(
        table.ndim == 2 and table.shape[1] >= 1,
        where,
        "an (inputs, k) table",
        f"shape {table.shape}",
        "pass one row per input, one column per repeat",
    )
    finite_array(table.ravel(), where, positive=True)
    require(
        statistic in REPEAT_STATISTICS,
        "reduce_repeats(statistic)",
        f"one of {REPEAT_STATISTICS}",
        statistic,
        "pick one of them for every input",
    )
    if statistic == "median":
        return np.median(table, axis=1)
    return table.mean(axis=1) if statistic == "mean" else table.min(axis=1)


def _mean_statistic(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1)


def two_level_bootstrap(
    scores_per_seed: Sequence[Sequence[float]],
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
    aggregate: str = "median",
    replicates: int = N_REPLICATES,
    rng: np.random.Generator | None = None,
    shared_examples: bool = True,
) -> np.ndarray:
    """Replicates of ``aggregate`` (median or mean) over seeds of ``statistic`` over each seed's examples.

    ``scores_per_seed[s]`` are seed s's per-example scores (1/0 correct, a SQuAD F1 ...); ``statistic`` maps
    an ``(replicates, n)`` array to ``(replicates,)`` (default: the mean). ``shared_examples=True`` (every seed
    scored on the same split, arrays aligned example by example) resamples the same examples for every seed of
    a replicate, so what the examples share (their difficulty) is not averaged away over seeds; ``False``
    resamples each seed's examples independently (each seed has its own split).

    Each replicate is two levels: (1) the examples, resampled, give every seed a replicate score and the
    aggregate over seeds of those; (2) the seeds, resampled, add a seed effect. Resampling both levels naively
    counts the examples' noise twice (the spread of the seeds' scores already contains each seed's own example
    noise): in simulation it covered 99.8% instead of 95% (docs/statistics.md). So, as Davison and Hinkley
    (1997, section 3.8) advise for hierarchical data, the seed effects m_s - mean(m) are shrunk so that their
    variance is the moment estimate of the between-seed component, var(m_s) - v, where v is the example noise
    that is not shared between seeds (from the level-1 replicates), and inflated by S/(S-1) for resampling
    S values. With one seed only level 1 is possible: the seed spread must then be declared (budget.py).
    """
    import numpy as np

    where = "two_level_bootstrap(scores_per_seed)"
    require(len(scores_per_seed) >= 1, where, "at least one seed's scores", "none", "pass one array per seed")
    arrays = [finite_array(s, f"{where}[{i}]") for i, s in enumerate(scores_per_seed)]
    require(
        aggregate in AGGREGATES,
        "two_level_bootstrap(aggregate)",
        f"one of {AGGREGATES}",
        aggregate,
        "use the recipe's aggregate over seeds",
    )
    require(replicates >= 2, "two_level_bootstrap(replicates)", "at least 2", replicates, "use N_REPLICATES (2000)")
    lengths = {a.size for a in arrays}
    require(
        not shared_examples or len(lengths) == 1,
        where,
        "arrays of one length (the same examples for every seed) when shared_examples=True",
        f"lengths {sorted(lengths)}",
        "align the seeds on the same examples, or pass shared_examples=False for separate splits",
    )
    function = statistic or _mean_statistic
    generator = rng if rng is not None else default_rng()
    combine = np.median if aggregate == "median" else np.mean
    seeds = len(arrays)
    chunks = []  # level 1: (replicates, seeds) scores over resampled examples
    for start in range(0, replicates, CHUNK):
        r = min(CHUNK, replicates - start)
        shared = bootstrap_indices(arrays[0].size, generator, r) if shared_examples else None
        columns = []
        for a in arrays:
            idx = shared if shared is not None else bootstrap_indices(a.size, generator, r)
            columns.append(np.asarray(function(a[idx]), dtype=float))
        chunks.append(np.stack(columns, axis=1))
    per_seed = np.concatenate(chunks)
    if seeds == 1:
        return combine(per_seed, axis=1)
    points = np.array([float(np.asarray(function(a[None, :]), dtype=float)[0]) for a in arrays])
    return add_seed_effects(per_seed, points, aggregate, generator)


def add_seed_effects(
    per_seed: np.ndarray, points: Sequence[float], aggregate: str = "median", rng: np.random.Generator | None = None
) -> np.ndarray:
    """Level 2 of ``two_level_bootstrap`` on level-1 replicates already drawn: ``per_seed[r, s]`` is seed s's
    score on the examples of replicate r (the same examples for every seed), ``points[s]`` its score on all of
    them. Returns replicates of the aggregate over seeds with the shrunk seed effects added (see
    ``two_level_bootstrap``); with one seed, the level-1 aggregate only."""
    import numpy as np

    where = "add_seed_effects(per_seed)"
    table = np.asarray(per_seed, dtype=float)
    require(table.ndim == 2, where, "a (replicates, seeds) table", f"shape {table.shape}", "one column per seed")
    finite_array(table.ravel(), where)
    points = finite_array(points, "add_seed_effects(points)")
    require(
        points.size == table.shape[1],
        "add_seed_effects(points)",
        f"one score per seed ({table.shape[1]})",
        points.size,
        "pass each seed's score on all examples",
    )
    require(aggregate in AGGREGATES, "add_seed_effects(aggregate)", f"one of {AGGREGATES}", aggregate, "median")
    combine = np.median if aggregate == "median" else np.mean
    generator = rng if rng is not None else default_rng()
    out = combine(table, axis=1)
    seeds = table.shape[1]
    if seeds == 1:
        return out
    replicates = table.shape[0]
    per_seed = table
    spread = float(points.var(ddof=1))
    centred = per_seed - per_seed.mean(axis=1, keepdims=True)
    unshared = float(centred.var(axis=0, ddof=1).sum()) / (seeds - 1)
    between = max(0.0, spread - unshared)
    scale = (between / spread * seeds / (seeds - 1)) ** 0.5 if spread > 0 else 0.0
    effects = (points - points.mean()) * scale
    drawn = generator.integers(0, seeds, size=(replicates, seeds))
    return out + combine(effects[drawn], axis=1) - float(combine(effects))


# ---------------------------------------------------------------- the paired timing ratio


@attrs.frozen
class PairedRatio:
    """Mean time of model a over mean time of model b on the same inputs, with two intervals.

    ``studentized``: the delta-method (ratio estimator) standard error, a Student t quantile with n-1 degrees
    of freedom, on the log scale (so the interval stays positive and is asymmetric like the ratio's
    distribution). ``bca``: the bias-corrected and accelerated bootstrap over inputs. ``interval`` is the
    recommended one (``RECOMMENDED_RATIO_INTERVAL``).
    """

    value: float
    inputs: int
    standard_error: float
    studentized: tuple[float, float]
    bca: tuple[float, float]
    level: float
    recommended: str = RECOMMENDED_RATIO_INTERVAL

    @property
    def interval(self) -> tuple[float, float]:
        return self.studentized if self.recommended == "studentized" else self.bca


def _paired(a: Sequence[float], b: Sequence[float], where: str) -> tuple[np.ndarray, np.ndarray]:
    x = finite_array(a, f"{where}(a)", minimum_length=3, positive=True)
    y = finite_array(b, f"{where}(b)", minimum_length=3, positive=True)
    require(
        x.size == y.size,
        where,
        "a and b timed on the same inputs (equal lengths)",
        f"{x.size} vs {y.size}",
        "pass the per-input times of both models on the same inputs, in the same order",
    )
    return x, y


def studentized_ratio_interval(
    a: Sequence[float], b: Sequence[float], level: float = LEVEL
) -> tuple[float, float, tuple[float, float]]:
    """(ratio, its delta-method standard error, interval) for sum(a)/sum(b) over paired inputs.

    With residuals d_i = a_i - R b_i, SE(R) = sqrt(sum d_i^2 / (n (n-1))) / mean(b) (the classical ratio
    estimator variance, Cochran 1977, 6.3); the interval is R exp(+-t_{n-1} SE/R).
    """
    import numpy as np
    from scipy.stats import t as student

    x, y = _paired(a, b, "studentized_ratio_interval")
    level = level_value(level, "studentized_ratio_interval(level)")
    n = x.size
    ratio = float(x.sum() / y.sum())
    residuals = x - ratio * y
    se = float(np.sqrt((residuals**2).sum() / (n * (n - 1))) / y.mean())
    half = float(student.ppf(0.5 + level / 2.0, n - 1)) * se / ratio
    return ratio, se, (ratio * float(np.exp(-half)), ratio * float(np.exp(half)))


def bca_ratio_interval(
    a: Sequence[float],
    b: Sequence[float],
    level: float = LEVEL,
    replicates: int = N_REPLICATES,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """The BCa bootstrap interval (Efron 1987) of sum(a)/sum(b), inputs resampled in pairs.

    Bias correction z0 from the share of replicates below the estimate; acceleration from the jackknife.
    """
    import numpy as np
    from scipy.stats import norm

    x, y = _paired(a, b, "bca_ratio_interval")
    level = level_value(level, "bca_ratio_interval(level)")
    generator = rng if rng is not None else default_rng()
    n = x.size
    ratio = x.sum() / y.sum()
    reps = []
    for start in range(0, replicates, CHUNK):
        idx = bootstrap_indices(n, generator, min(CHUNK, replicates - start))
        reps.append(x[idx].sum(axis=1) / y[idx].sum(axis=1))
    boot = np.concatenate(reps)
    below = (np.count_nonzero(boot < ratio) + 0.5 * np.count_nonzero(boot == ratio)) / boot.size
    z0 = float(norm.ppf(np.clip(below, 1.0 / (boot.size + 1), boot.size / (boot.size + 1))))
    jack = (x.sum() - x) / (y.sum() - y)
    spread = jack.mean() - jack
    denominator = 6.0 * float((spread**2).sum()) ** 1.5
    acceleration = float((spread**3).sum()) / denominator if denominator > 0 else 0.0
    z = norm.ppf([0.5 - level / 2.0, 0.5 + level / 2.0])
    adjusted = norm.cdf(z0 + (z0 + z) / (1.0 - acceleration * (z0 + z)))
    lo, hi = np.quantile(boot, adjusted)
    return float(lo), float(hi)


def paired_ratio(
    a: Sequence[float],
    b: Sequence[float],
    level: float = LEVEL,
    replicates: int = N_REPLICATES,
    rng: np.random.Generator | None = None,
) -> PairedRatio:
    """Both intervals of the ratio of mean times sum(a)/sum(b); ``a[i]``, ``b[i]`` timed on input i alike."""
    ratio, se, studentized = studentized_ratio_interval(a, b, level)
    bca = bca_ratio_interval(a, b, level, replicates, rng)
    return PairedRatio(ratio, len(a), se, studentized, bca, level)


def studentized_replicates(
    per_input: Sequence[Sequence[float]], replicates: int = N_REPLICATES, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Replicates of every model's mean time drawn from the studentized sampling distribution, jointly.

    ``per_input[k, i]``: model k's time on input i (the same inputs for all models). On the log scale the
    means are drawn as a multivariate Student t with n - 1 dof around log(mean_k), with the delta-method
    covariance cov(x_ki / mean_k, x_ji / mean_j) / n. The log ratio of any two rows then has variance
    (SE(R)/R)^2 of ``studentized_ratio_interval``, so the percentile interval of a ratio of these
    replicates is that interval, R exp(+-t SE/R), up to Monte Carlo error: formulas over latency claims
    (speed.a / speed.b) use the same estimator as the paired ratio. Returns a (models, replicates) array.
    """
    import numpy as np

    where = "studentized_replicates(per_input)"
    table = np.asarray(per_input, dtype=float)
    require(table.ndim == 2, where, "a (models, inputs) table", f"shape {table.shape}", "one row per model")
    require(table.shape[1] >= 3, where, "at least 3 inputs", table.shape[1], "time more inputs")
    finite_array(table.ravel(), where, positive=True)
    generator = rng if rng is not None else default_rng()
    models, n = table.shape
    means = table.mean(axis=1)
    relative = table / means[:, None]
    covariance = np.atleast_2d(np.cov(relative)) / n
    normal = generator.multivariate_normal(np.zeros(models), covariance, size=replicates, method="eigh")
    scale = np.sqrt(generator.chisquare(n - 1, size=replicates) / (n - 1))
    return means[:, None] * np.exp((normal / scale[:, None]).T)


# ---------------------------------------------------------------- drift


@attrs.frozen
class DriftCheck:
    """Whether the per-input ratio changed during the run, the statistic behind it, and why in words.

    ``statistic`` is Welch's t of log(a/b) in the second half against the first; ``p_value`` the smaller of
    the halves test and the Spearman trend test, Bonferroni-adjusted for the two; ``relative_change`` the
    second half's ratio of sums over the first half's, minus 1.
    """

    drifted: bool
    statistic: float
    p_value: float
    relative_change: float
    explanation: str

    def __iter__(self) -> Iterator[bool | float | str]:
        """Unpacks as ``drifted, statistic, explanation``."""
        return iter((self.drifted, self.statistic, self.explanation))


def drift_check(
    a: Sequence[float], b: Sequence[float], alpha: float = 0.01, min_relative_change: float = 0.01
) -> DriftCheck:
    """Did the ratio a/b drift while the inputs were timed? ``a``, ``b`` in the order the inputs ran.

    Rule: drifted when (1) the halves differ or the log ratio trends with position (Welch t test of the two
    halves, Spearman correlation with position; the smaller p-value times 2 below ``alpha``) AND (2) the
    halves' ratios differ by at least ``min_relative_change`` (a significant change smaller than that does not
    move a speed verdict). Inputs must be timed in a random order, or a real input effect reads as drift.
    """
    import numpy as np
    from scipy.stats import spearmanr, ttest_ind

    x, y = _paired(a, b, "drift_check")
    require(x.size >= 8, "drift_check(a)", "at least 8 inputs (4 per half)", x.size, "time more inputs")
    alpha = level_value(alpha, "drift_check(alpha)")
    log_ratio = np.log(x / y)
    half = x.size // 2
    first, second = log_ratio[:half], log_ratio[x.size - half :]
    welch = ttest_ind(second, first, equal_var=False)
    statistic = float(welch.statistic) if np.isfinite(welch.statistic) else 0.0
    p_halves = float(welch.pvalue) if np.isfinite(welch.pvalue) else 1.0
    trend = spearmanr(np.arange(x.size), log_ratio)
    p_trend = float(trend.pvalue) if np.isfinite(trend.pvalue) else 1.0
    p_value = min(1.0, 2.0 * min(p_halves, p_trend))
    first_ratio = x[:half].sum() / y[:half].sum()
    second_ratio = x[x.size - half :].sum() / y[x.size - half :].sum()
    change = float(second_ratio / first_ratio - 1.0)
    significant = p_value < alpha
    large = abs(change) >= min_relative_change
    drifted = significant and large
    numbers = (
        f"ratio {first_ratio:.4g} in the first {half} inputs, {second_ratio:.4g} in the last {half} "
        f"({change:+.1%}); halves t = {statistic:.2f}, p = {p_value:.2g} (halves and trend, Bonferroni)"
    )
    if drifted:
        explanation = (
            f"the machine changed under the measurement: {numbers} < {alpha:g} and the change is at least "
            f"{min_relative_change:.0%}; the run has no single ratio, so the verdict is INCONCLUSIVE. "
            "Re-run on a quiet machine"
        )
    elif significant:
        explanation = f"a statistically significant but small drift: {numbers}; below {min_relative_change:.0%}"
    else:
        explanation = f"no drift: {numbers} >= {alpha:g}"
    return DriftCheck(drifted, statistic, p_value, change, explanation)
