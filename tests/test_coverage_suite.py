"""Coverage suite: every interval the harness produces, simulated against a known truth (issue 11, item 11).

Each case draws >= 1000 data sets from a law whose true value is known, builds the interval the harness would
build, and counts how often it covers the truth: each coverage must lie in [93%, 97%] (1000 draws of a true
95% falls outside with probability about 0.4%; the seeds are fixed, so the figures are repeatable). A drifting
timing run has no single ratio to cover: there the drift check must fire. Per-example bootstraps use 200-1000
replicates per draw (the harness reports with N_REPLICATES = 2000); each case checks once that its fast
replicates are the harness's own. These are simulations: evidence about the estimators, not about DistilBERT.
Run with ``-s`` to see the table; docs/statistics.md records it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from scipy.stats import norm

from harness.core.resample import (
    MIN_INPUTS,
    bca_ratio_interval,
    drift_check,
    studentized_ratio_interval,
    studentized_replicates,
    two_level_bootstrap,
)
from harness.core.stats import N_REPLICATES, bootstrap_indices, mean_replicates, percentile_interval, rng
from harness.ml import metrics
from harness.verdict.budget import one_seed_budget

pytestmark = pytest.mark.slow

LOW, HIGH = 0.93, 0.97
DRAWS = 1000
ROWS: list[tuple[str, int, float, str]] = []


@pytest.fixture(scope="module", autouse=True)
def table() -> Iterator[None]:
    """Print the table of every case run (case, draws, coverage) when the module is done."""
    yield
    print("\n| case | draws | coverage | |\n|---|---:|---:|---|")
    for case, draws, coverage, note in ROWS:
        print(f"| {case} | {draws} | {coverage:.1%} | {note} |")


def _record(case: str, hits: np.ndarray, note: str = "") -> float:
    coverage = float(np.mean(hits))
    ROWS.append((case, hits.size, coverage, note))
    return coverage


def _in_band(case: str, hits: np.ndarray) -> None:
    coverage = _record(case, hits)
    assert LOW <= coverage <= HIGH, f"{case}: coverage {coverage:.1%} of {hits.size} draws, outside [93%, 97%]"


def _replicates(function: Callable, pred: np.ndarray, ref: np.ndarray, gen: np.random.Generator, count: int):  # type: ignore[no-untyped-def]
    """The harness's metrics.bootstrap loop (chunks of 200 resampled index rows), for ``count`` replicates."""
    out = []
    for start in range(0, count, metrics.CHUNK):
        idx = bootstrap_indices(pred.size, gen, min(metrics.CHUNK, count - start))
        out.append(np.asarray(function(pred[idx], ref[idx]), dtype=float))
    return np.concatenate(out)


def _classification_coverage(
    name: str, metric: str, truth: float, draw: Callable, seed: int, count: int, draws: int = DRAWS
) -> None:
    gen = rng(seed)
    function = metrics.METRICS[metric]
    hits = np.zeros(draws, bool)
    for d in range(draws):
        pred, ref = draw(gen)
        if d == 0:  # the fast loop is the harness's own bootstrap
            np.testing.assert_array_equal(
                _replicates(function, pred, ref, rng(7), N_REPLICATES), metrics.bootstrap(metric, pred, ref, 7)
            )
        lo, hi = percentile_interval(_replicates(function, pred, ref, gen, count))
        hits[d] = lo <= truth <= hi
    _in_band(name, hits)


def _confusion_draw(n: int, positive: float, sensitivity: float, specificity: float) -> Callable:
    def draw(gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        ref = (gen.random(n) < positive).astype(np.int8)
        u = gen.random(n)
        return np.where(ref == 1, u < sensitivity, u >= specificity).astype(np.int8), ref

    return draw


def test_accuracy() -> None:
    """SST-2 size: 872 examples, each right with probability 0.91."""

    def draw(gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        ref = gen.integers(0, 2, 872)
        return np.where(gen.random(872) < 0.91, ref, 1 - ref), ref

    _classification_coverage("accuracy, n=872, p=0.91", "accuracy", 0.91, draw, 872, 500)


def test_matthews_correlation() -> None:
    """CoLA size: 1043 examples, 69% positive, sensitivity 0.85, specificity 0.60; truth from the joint law."""
    tp, fn, tn, fp = 0.69 * 0.85, 0.69 * 0.15, 0.31 * 0.60, 0.31 * 0.40
    truth = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    draw = _confusion_draw(1043, 0.69, 0.85, 0.60)
    _classification_coverage(f"MCC, n=1043, truth {truth:.3f}", "matthews_correlation", truth, draw, 1043, 300)


def test_f1() -> None:
    """MRPC size: 408 examples, 68% positive, sensitivity 0.9, specificity 0.7: F1 = 2TP / (2TP + FP + FN).
    3000 draws: this interval's coverage sits near the floor (a first 1000-draw run gave 92.8%, a 3000-draw run
    with another seed 94.3%), so 1000 draws would decide by Monte Carlo noise (SE 0.7 points)."""
    tp, fn, fp = 0.68 * 0.9, 0.68 * 0.1, 0.32 * 0.3
    truth = 2 * tp / (2 * tp + fp + fn)
    _classification_coverage(
        f"F1, n=408, truth {truth:.4f}", "f1", truth, _confusion_draw(408, 0.68, 0.9, 0.7), 408, 1000, 3000
    )


def _correlated(gen: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    x = gen.standard_normal(n)
    return x, rho * x + math.sqrt(1 - rho * rho) * gen.standard_normal(n)


def test_pearson() -> None:
    """STS-B size: 1500 pairs, bivariate normal with correlation 0.87."""
    _classification_coverage(
        "Pearson, n=1500, rho=0.87", "pearson", 0.87, lambda gen: _correlated(gen, 1500, 0.87), 1500, 300
    )


def _spearman_replicates(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman correlations of the resampled rows without sorting each: a resample's midranks come from the
    counts of each original value (c copies of the value at sorted position q rank cum(q) - (c - 1)/2),
    and the correlation is the count-weighted Pearson correlation of those ranks."""
    rows, n = idx.shape
    counts = np.bincount((np.arange(rows)[:, None] * n + idx).ravel(), minlength=rows * n).reshape(rows, n)

    def midranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v)
        c = counts[:, order]
        ranks = np.empty((rows, n))
        ranks[:, order] = np.cumsum(c, axis=1) - (c - 1) / 2.0
        return ranks

    rx, ry = midranks(x), midranks(y)
    weights = counts.astype(float)
    mx, my = np.einsum("ij,ij->i", weights, rx) / n, np.einsum("ij,ij->i", weights, ry) / n
    cov = np.einsum("ij,ij,ij->i", weights, rx, ry) / n - mx * my
    vx = np.einsum("ij,ij,ij->i", weights, rx, rx) / n - mx * mx
    vy = np.einsum("ij,ij,ij->i", weights, ry, ry) / n - my * my
    return cov / np.sqrt(vx * vy)


def test_spearman() -> None:
    """STS-B size, bivariate normal rho 0.87: Spearman's truth is (6/pi) asin(rho/2)."""
    truth = 6 / math.pi * math.asin(0.87 / 2)
    gen = rng(1501)
    hits = np.zeros(DRAWS, bool)
    for d in range(DRAWS):
        x, y = _correlated(gen, 1500, 0.87)
        idx = bootstrap_indices(1500, gen, 200)
        reps = _spearman_replicates(x, y, idx)
        if d == 0:
            np.testing.assert_allclose(reps[:20], metrics.spearman(x[idx[:20]], y[idx[:20]]), rtol=1e-12)
        lo, hi = percentile_interval(reps)
        hits[d] = lo <= truth <= hi
    _in_band(f"Spearman, n=1500, truth {truth:.4f}", hits)


def test_squad_exact_match_and_f1_proxy() -> None:
    """SQuAD-style per-example scores on 2000 questions (a proxy for 10570): exact match with probability 0.77,
    else a token F1 that is 0 (40%) or Beta(2, 3) (60%): truth EM 0.77, F1 0.77 + 0.23 * 0.6 * 0.4."""
    n, em_truth = 2000, 0.77
    f1_truth = em_truth + (1 - em_truth) * 0.6 * 0.4
    gen = rng(2000)
    hits = np.zeros((2, DRAWS), bool)
    for d in range(DRAWS):
        exact = (gen.random(n) < em_truth).astype(float)
        partial = np.where(gen.random(n) < 0.6, gen.beta(2.0, 3.0, n), 0.0)
        f1 = np.where(exact == 1.0, 1.0, partial)
        idx = bootstrap_indices(n, gen, 500)
        for row, (scores, truth) in enumerate(((exact, em_truth), (f1, f1_truth))):
            lo, hi = percentile_interval(mean_replicates(scores, idx))
            hits[row, d] = lo <= truth <= hi
    _in_band("SQuAD exact match proxy, n=2000, p=0.77", hits[0])
    _in_band(f"SQuAD token F1 proxy, n=2000, truth {f1_truth:.3f}", hits[1])


# ---------------------------------------------------------------- timing ratio

RATIO = 1.6


def _timings(
    gen: np.random.Generator, n: int, law: str, drift: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-input times of two models on n inputs: a shared input factor (log-normal lengths) times each model's
    own noise, drawn from one law for both, so E[a] / E[b] = RATIO exactly; ``drift`` multiplies a's times."""
    length = np.exp(gen.normal(0.0, 0.35, n))
    if law == "log-normal":
        noise = np.exp(gen.normal(0.0, 0.1, (2, n)))
    elif law == "Student t (3 dof)":
        noise = 1.0 + 0.1 * np.abs(gen.standard_t(3, (2, n)))
    elif law == "Pareto (shape 3)":
        noise = 1.0 + 0.2 * gen.pareto(3.0, (2, n))
    else:  # "interference spikes": 2% of calls slowed 2-5x
        noise = np.exp(gen.normal(0.0, 0.05, (2, n)))
        noise = np.where(gen.random((2, n)) < 0.02, noise * gen.uniform(2.0, 5.0, (2, n)), noise)
    a = RATIO * length * noise[0] * (1.0 if drift is None else drift)
    return a, length * noise[1]


LAWS = ("log-normal", "Student t (3 dof)", "Pareto (shape 3)", "interference spikes")


@pytest.mark.parametrize("law", LAWS)
def test_paired_ratio(law: str) -> None:
    """The recommended (studentized) interval at MIN_INPUTS inputs must cover; BCa is reported alongside."""
    gen = rng(150 + LAWS.index(law))
    hits = np.zeros((2, DRAWS), bool)
    for d in range(DRAWS):
        a, b = _timings(gen, MIN_INPUTS, law)
        _, _, (lo, hi) = studentized_ratio_interval(a, b)
        hits[0, d] = lo <= RATIO <= hi
        lo, hi = bca_ratio_interval(a, b, replicates=500, rng=gen)
        hits[1, d] = lo <= RATIO <= hi
    _record(f"ratio BCa, {law}, n={MIN_INPUTS}", hits[1], "not recommended: shown for comparison")
    _in_band(f"ratio studentized, {law}, n={MIN_INPUTS}", hits[0])


@pytest.mark.parametrize("law", LAWS)
def test_formula_ratio_over_latency_replicates(law: str) -> None:
    """The interval the harness gives speed.a / speed.b: the percentile interval of the ratio of the two
    latency claims' replicates, drawn jointly from the studentized distribution (studentized_replicates)."""
    gen = rng(170 + LAWS.index(law))
    hits = np.zeros(DRAWS, bool)
    for _ in range(DRAWS):
        a, b = _timings(gen, MIN_INPUTS, law)
        reps = studentized_replicates(np.stack([a, b]), replicates=500, rng=gen)
        lo, hi = percentile_interval(reps[0] / reps[1])
        hits[_] = lo <= RATIO <= hi
    _in_band(f"formula ratio over latency replicates, {law}, n={MIN_INPUTS}", hits)


def _detection(n: int, drift: np.ndarray | None, seed: int, law: str = "log-normal") -> np.ndarray:
    gen = rng(seed)
    return np.array([drift_check(*_timings(gen, n, law, drift)).drifted for _ in range(DRAWS)])


def _step(n: int, size: float) -> np.ndarray:
    return np.where(np.arange(n) < n // 2, 1.0, 1.0 + size)


def test_min_inputs_is_justified() -> None:
    """MIN_INPUTS is the smallest tried count (30, 100, 150) where the studentized interval covers under
    interference spikes (the law that departs most at small n) AND a 10% step in the ratio is detected in >= 80%
    of runs. 30 inputs fail: the spikes over-cover and the step goes unseen."""
    results = {}
    for n in (30, 100, MIN_INPUTS):
        gen = rng(30 + n)
        hits = np.zeros(DRAWS, bool)
        for d in range(DRAWS):
            _, _, (lo, hi) = studentized_ratio_interval(*_timings(gen, n, "interference spikes"))
            hits[d] = lo <= RATIO <= hi
        coverage = _record(f"ratio studentized, interference spikes, n={n}", hits, "MIN_INPUTS sweep")
        power = _record(f"drift check fires, 10% step, n={n}", _detection(n, _step(n, 0.10), 60 + n), "detection rate")
        results[n] = LOW <= coverage <= HIGH and power >= 0.8
    assert results[MIN_INPUTS], f"MIN_INPUTS={MIN_INPUTS} no longer meets both criteria: {results}"
    assert not any(results[n] for n in (30, 100)), f"a smaller MIN_INPUTS would do: {results}"


def test_drift_is_detected_not_covered() -> None:
    """The issue's load change (2.04 then 2.42: +19%) as a 20% step at MIN_INPUTS, and a 10% linear ramp over
    the full profile's 1500 inputs, must fire in >= 95% of runs; a steady run must not (<= 2%)."""
    step = _record(
        f"drift check fires, 20% step, n={MIN_INPUTS}",
        _detection(MIN_INPUTS, _step(MIN_INPUTS, 0.2), 7),
        "detection rate",
    )
    ramp = _record(
        "drift check fires, 10% ramp, n=1500", _detection(1500, np.linspace(1.0, 1.1, 1500), 8), "detection rate"
    )
    steady = _record(
        f"drift check fires, no drift, n={MIN_INPUTS}", _detection(MIN_INPUTS, None, 9), "false alarm rate"
    )
    steady_full = _record("drift check fires, no drift, n=1500", _detection(1500, None, 10), "false alarm rate")
    heavy = _record(
        f"drift check fires, no drift, spikes, n={MIN_INPUTS}",
        _detection(MIN_INPUTS, None, 11, "interference spikes"),
        "false alarm rate",
    )
    assert step >= 0.95 and ramp >= 0.95, (step, ramp)
    assert max(steady, steady_full, heavy) <= 0.02, (steady, steady_full, heavy)


# ---------------------------------------------------------------- seeds


def _seed_scores(gen: np.random.Generator, n: int, seeds: int, seed_sd: float, shared: float) -> np.ndarray:
    """Per-example correctness of ``seeds`` fine-tuning runs: example i of seed s is right when
    c + a_s + shared z_i + sqrt(1 - shared^2) w_si > 0, a_s ~ N(0, tau) the seed's shift (tau gives a seed SD of
    ``seed_sd`` in accuracy), z_i the example's difficulty (shared by all seeds). A seed's expected accuracy is
    Phi(c + a_s), so the median over seeds is Phi(c) = 0.91 exactly."""
    c = norm.ppf(0.91)
    tau = seed_sd / norm.pdf(c)
    z = gen.standard_normal(n)
    a = gen.normal(0.0, tau, seeds)
    w = gen.standard_normal((seeds, n))
    return (c + a[:, None] + shared * z + math.sqrt(1 - shared**2) * w > 0).astype(float)


@pytest.mark.parametrize("seed_sd", [0.004, 0.01])
def test_two_level_seed_bootstrap(seed_sd: float) -> None:
    """Median of 5 seeds on 872 examples; seeds disagree on about 6% of examples (shared = 0.95), seed SD 0.4
    or 1 point: the two-level bootstrap's percentile interval must cover the seeds' median accuracy 0.91."""
    gen = rng(int(seed_sd * 10_000))
    hits = np.zeros(DRAWS, bool)
    for d in range(DRAWS):
        scores = _seed_scores(gen, 872, 5, seed_sd, 0.95)
        lo, hi = percentile_interval(two_level_bootstrap(list(scores), replicates=300, rng=gen))
        hits[d] = lo <= 0.91 <= hi
    _in_band(f"two-level bootstrap, median of 5 seeds, seed SD {seed_sd * 100:g} pt, n=872", hits)


def test_two_level_seed_bootstrap_is_conservative_when_seed_errors_are_independent() -> None:
    """The documented limit: when the seeds' errors share nothing (shared = 0: two seeds disagree on 16.5% of
    examples), the between-seed component is estimated from 5 values with a positive-part bias: the interval
    over-covers, never under."""
    gen = rng(5)
    hits = np.zeros(500, bool)
    for d in range(500):
        scores = _seed_scores(gen, 872, 5, 0.004, 0.0)
        lo, hi = percentile_interval(two_level_bootstrap(list(scores), replicates=300, rng=gen))
        hits[d] = lo <= 0.91 <= hi
    coverage = _record("two-level bootstrap, independent seed errors (limit), n=872", hits, "conservative: >= 95%")
    assert coverage >= 0.95


def test_one_seed_budget_with_and_without_the_declared_seed_component() -> None:
    """One checkpoint (one seed, seed SD 1 point) on 872 examples: the examples' bootstrap alone under-covers the
    seeds' median; with the declared seed SD in the budget (Type B) the expanded interval covers."""
    gen = rng(1)
    hits = np.zeros((2, DRAWS), bool)
    for d in range(DRAWS):
        scores = _seed_scores(gen, 872, 1, 0.01, 0.95)[0]
        interval = percentile_interval(mean_replicates(scores, bootstrap_indices(872, gen, 500)))
        lo, hi = one_seed_budget(interval, 0.01, "simulation: the true seed SD").expanded_interval(float(scores.mean()))
        hits[0, d] = lo <= 0.91 <= hi
        hits[1, d] = interval[0] <= 0.91 <= interval[1]
    without = _record("one seed, examples bootstrap only, seed SD 1 pt", hits[1], "why seed_component_missing")
    _in_band("one seed, budget with declared seed SD 1 pt, n=872", hits[0])
    assert without < LOW


def test_derived_ratio_of_two_scores() -> None:
    """Retention: DistilBERT's accuracy over BERT's on the same 872 examples (paired replicates, as Context's
    formulas use them); correctness shares the example's difficulty. Truth: 0.91 / 0.93."""
    c_small, c_large = norm.ppf(0.91), norm.ppf(0.93)
    gen = rng(93)
    hits = np.zeros(DRAWS, bool)
    for d in range(DRAWS):
        z = gen.standard_normal(872)
        small = (c_small + 0.8 * z + 0.6 * gen.standard_normal(872) > 0).astype(float)
        large = (c_large + 0.8 * z + 0.6 * gen.standard_normal(872) > 0).astype(float)
        idx = bootstrap_indices(872, gen, 500)
        lo, hi = percentile_interval(mean_replicates(small, idx) / mean_replicates(large, idx))
        hits[d] = lo <= 0.91 / 0.93 <= hi
    _in_band("derived ratio of two paired accuracies, n=872", hits)
