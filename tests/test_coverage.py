"""Calibration: the harness's 95% intervals cover a known truth in at least 93% of simulated runs.

Each test draws many data sets from a distribution whose true value is known, builds the interval the
harness would report for each (the percentile bootstrap of ``harness.core.stats`` over examples; for a speedup,
the paired bootstrap of a ratio of mean latencies through the formula machinery of ``Context``), and
counts how often it covers the truth. 93% leaves room for Monte Carlo error: with 500 draws a true 95%
coverage falls below 93% with probability about 2%, and the seeds are fixed, so the figures are repeatable.
To stay fast, the per-example bootstraps use 1000 replicates per draw (the harness uses N_REPLICATES=2000
for its reported intervals); the speedup uses N_REPLICATES itself, as the harness does.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from claimsfile import claim, claims_toml
from test_planted import PlantedContext

from harness.core.stats import N_REPLICATES, bootstrap_indices, mean_replicates, percentile_interval, rng
from harness.measure.measurement import Measurement
from harness.ml.metrics import matthews_correlation
from harness.spec import load

pytestmark = pytest.mark.fast

MIN_COVERAGE = 0.93
REPLICATES = 1000  # per draw, for the per-example bootstraps (see the module docstring)


def _report(name: str, covered: np.ndarray, below: np.ndarray) -> float:
    coverage = float(covered.mean())
    print(
        f"{name}: 95% interval covered the truth in {coverage:.1%} of {covered.size} draws "
        f"(truth below the interval {below.mean():.1%}, above {(~covered & ~below).mean():.1%})"
    )
    return coverage


def test_accuracy_interval_covers_the_truth() -> None:
    """Accuracy on n=872 examples (the SST-2 validation set), each right with probability 0.91."""
    n, truth, draws = 872, 0.91, 500
    gen = rng(872)
    covered, below = np.zeros(draws, bool), np.zeros(draws, bool)
    for d in range(draws):
        correct = (gen.random(n) < truth).astype(float)
        lo, hi = percentile_interval(mean_replicates(correct, bootstrap_indices(n, gen, REPLICATES)))
        covered[d], below[d] = lo <= truth <= hi, truth < lo
    assert _report("accuracy n=872 p=0.91", covered, below) >= MIN_COVERAGE


def _mcc_from_cells(cells: np.ndarray) -> np.ndarray:
    """Matthews correlation along the last axis of cell codes 2*reference + prediction (binary labels)."""
    n = cells.shape[-1]
    tp, fn, fp = ((cells == k).sum(axis=-1).astype(float) for k in (3, 2, 1))
    tn = n - tp - fn - fp
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.divide(tp * tn - fp * fn, den, out=np.zeros_like(den), where=den > 0)


def test_matthews_correlation_interval_covers_the_truth() -> None:
    """Matthews correlation on n=1043 examples (the CoLA validation set): 69% positive, a classifier with
    sensitivity 0.85 and specificity 0.60. The truth is the correlation of the joint distribution.

    The replicates are computed from resampled confusion counts (4x faster than the harness's generic
    multiclass function); the first draw checks that they equal ``harness.ml.metrics.matthews_correlation``."""
    n, draws, positive, sensitivity, specificity = 1043, 500, 0.69, 0.85, 0.60
    tp, fn = positive * sensitivity, positive * (1 - sensitivity)
    tn, fp = (1 - positive) * specificity, (1 - positive) * (1 - specificity)
    truth = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    gen = rng(1043)
    covered, below = np.zeros(draws, bool), np.zeros(draws, bool)
    for d in range(draws):
        reference = (gen.random(n) < positive).astype(np.int8)
        u = gen.random(n)
        prediction = np.where(reference == 1, u < sensitivity, u >= specificity).astype(np.int8)
        indices = bootstrap_indices(n, gen, REPLICATES)
        replicates = _mcc_from_cells((2 * reference + prediction)[indices])
        if d == 0:
            np.testing.assert_allclose(replicates, matthews_correlation(prediction[indices], reference[indices]))
        lo, hi = percentile_interval(replicates)
        covered[d], below[d] = lo <= truth <= hi, truth < lo
    assert _report(f"Matthews correlation n=1043 truth={truth:.3f}", covered, below) >= MIN_COVERAGE


def test_speedup_interval_covers_the_true_ratio_of_mean_latencies(tmp_path: Path) -> None:
    """Two models timed on the same 150 inputs: latencies lognormal, with a per-input factor both share
    (the input's length) and each model's own noise; the true ratio of mean latencies is 1.6. The ratio's
    interval comes from ``Context``'s formula machinery over replicates resampled with shared indices."""
    n, draws, ratio = 150, 1000, 1.6
    path = tmp_path / "speed.toml"
    path.write_text(
        claims_toml(
            claim("speed.large", value=0.668, unit="seconds", precision=0.001),
            claim("speed.small", value=0.410, unit="seconds", precision=0.001),
            claim(
                "speed.speedup",
                value=1.6,
                unit="ratio",
                precision=0.1,
                formula="speed.large / speed.small",
                tolerance={"kind": "lower_bound", "value": 0.05, "rationale": "test"},
                measure=None,
            ),
        ),
        encoding="utf-8",
    )
    loaded = load(path)
    speedup = loaded.claim("speed.speedup")
    gen = rng(150)
    covered, below = np.zeros(draws, bool), np.zeros(draws, bool)
    for d in range(draws):
        shared = gen.normal(0.0, 0.35, n)  # log latency from the input's length, the same for both models
        large = np.exp(math.log(ratio) + shared + gen.normal(0.0, 0.1, n))
        small = np.exp(shared + gen.normal(0.0, 0.1, n))  # same noise law: E[large] / E[small] = ratio
        indices = bootstrap_indices(n, gen, N_REPLICATES)
        planted = {
            cid: Measurement(
                float(x.mean()),
                "seconds",
                replicates=mean_replicates(x, indices),
                evidence={"path": "simulated latencies", "smoke": True},
            )
            for cid, x in (("speed.large", large), ("speed.small", small))
        }
        measured = PlantedContext(loaded, planted).measure(speedup)
        assert measured.interval is not None and measured.replicates is not None
        lo, hi = measured.interval
        covered[d], below[d] = lo <= ratio <= hi, ratio < lo
    assert _report(f"speedup ratio, {n} paired inputs, truth {ratio}", covered, below) >= MIN_COVERAGE
