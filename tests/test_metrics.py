"""Offline task metrics against scikit-learn / scipy and hand-computed SQuAD cases; bootstrap replicates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps
from sklearn import metrics as skm

from harness.core.stats import N_REPLICATES
from harness.ml import metrics

pytestmark = pytest.mark.fast

labels = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=60)
three_way = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=60)
# model outputs and STS-B scores: no subnormal floats (~1e-308), whose arithmetic loses all precision
scores = st.lists(
    st.tuples(st.floats(-5, 5, allow_subnormal=False), st.floats(0, 5, allow_subnormal=False)), min_size=3, max_size=60
)


def _split(pairs):
    pred, ref = zip(*pairs, strict=True)
    return np.array(pred), np.array(ref)


@pytest.mark.filterwarnings("ignore:A single label was found")
@given(labels)
def test_binary_metrics_match_scikit_learn(pairs):
    pred, ref = _split(pairs)
    assert metrics.compute("accuracy", pred, ref) == pytest.approx(skm.accuracy_score(ref, pred))
    assert metrics.compute("f1", pred, ref) == pytest.approx(skm.f1_score(ref, pred, zero_division=0))
    mcc = skm.matthews_corrcoef(ref, pred)
    assert metrics.compute("matthews_correlation", pred, ref) == pytest.approx(mcc, abs=1e-12)
    both = (skm.accuracy_score(ref, pred) + skm.f1_score(ref, pred, zero_division=0)) / 2
    assert metrics.compute("acc_and_f1", pred, ref) == pytest.approx(both)


@pytest.mark.filterwarnings("ignore:A single label was found")
@given(three_way)
def test_multiclass_matthews_and_accuracy_match_scikit_learn(pairs):
    pred, ref = _split(pairs)
    mcc = skm.matthews_corrcoef(ref, pred)
    assert metrics.compute("matthews_correlation", pred, ref) == pytest.approx(mcc, abs=1e-12)
    assert metrics.compute("accuracy", pred, ref) == pytest.approx(skm.accuracy_score(ref, pred))


@given(scores)
def test_correlations_match_scipy(pairs):
    pred, ref = _split(pairs)
    if np.ptp(pred) == 0 or np.ptp(ref) == 0:
        assert math.isnan(metrics.compute("pearson", pred, ref))
        return
    pearson = sps.pearsonr(pred, ref).statistic
    spearman = sps.spearmanr(pred, ref).statistic
    assert metrics.compute("pearson", pred, ref) == pytest.approx(pearson, abs=1e-9)
    if not math.isnan(spearman):
        assert metrics.compute("spearman", pred, ref) == pytest.approx(spearman, abs=1e-9)
        assert metrics.compute("pearson_spearman_mean", pred, ref) == pytest.approx((pearson + spearman) / 2, abs=1e-9)


def test_hand_computed_glue_cases():
    pred = np.array([1, 1, 0, 0, 1])
    ref = np.array([1, 0, 0, 1, 1])
    # tp 2, fp 1, fn 1, tn 1: F1 = 4/6, MCC = (2*1 - 1*1)/sqrt(3*3*2*2) = 1/6
    assert metrics.compute("f1", pred, ref) == pytest.approx(2 / 3)
    assert metrics.compute("matthews_correlation", pred, ref) == pytest.approx(1 / 6)
    assert metrics.compute("acc_and_f1", pred, ref) == pytest.approx((0.6 + 2 / 3) / 2)
    # ties get their average rank: ranks of [1, 2, 2, 3] are [1, 2.5, 2.5, 4]
    assert metrics.compute("spearman", np.array([1, 2, 2, 3]), np.array([1, 2, 3, 4])) == pytest.approx(
        sps.spearmanr([1, 2, 2, 3], [1, 2, 3, 4]).statistic
    )
    # a constant predictor has no defined correlation, and no F1 when nothing is positive
    assert math.isnan(metrics.compute("pearson", np.zeros(4), np.arange(4.0)))
    assert metrics.compute("f1", np.zeros(4, int), np.zeros(4, int)) == 0.0
    assert metrics.compute("matthews_correlation", np.zeros(4, int), np.array([0, 1, 0, 1])) == 0.0


@pytest.mark.parametrize(
    ("prediction", "truths", "em", "f1"),
    [
        ("The Eiffel Tower!", ["eiffel tower"], 1.0, 1.0),  # case, article and punctuation are normalized away
        ("in  Paris", ["Paris", "in Paris."], 1.0, 1.0),  # white space; the maximum over ground truths
        ("Paris France", ["in Paris, France"], 0.0, 2 * (2 / 2) * (2 / 3) / (2 / 2 + 2 / 3)),  # 2 of 3 tokens
        ("London", ["Paris"], 0.0, 0.0),
        ("a an the", ["the"], 1.0, 0.0),  # both normalize to "": exact, but no tokens to overlap
        ("Denver Broncos", ["Denver Broncos", "The Denver Broncos", "Broncos"], 1.0, 1.0),
    ],
)
def test_squad_v1_normalization_exact_match_and_f1(prediction, truths, em, f1):
    assert metrics.squad_exact(prediction, truths) == em
    assert metrics.squad_token_f1(prediction, truths) == pytest.approx(f1)


def test_squad_metrics_are_means_over_questions():
    predictions = ["Paris", "blue", "1990s"]
    references = [["paris"], ["red", "Blue."], ["the 1980s"]]
    assert metrics.compute("exact_match", predictions, references) == pytest.approx(2 / 3)
    assert metrics.compute("squad_f1", predictions, references) == pytest.approx(2 / 3)


def test_normalize_answer_follows_the_official_script():
    assert metrics.normalize_answer("  The  Quick, brown-fox!  ") == "quick brownfox"
    assert metrics.normalize_answer("An apple a day") == "apple day"


def test_bootstrap_replicates_are_seeded_paired_and_centred():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 2, 500)
    pred_a = np.where(rng.random(500) < 0.9, ref, 1 - ref)
    pred_b = np.where(rng.random(500) < 0.8, ref, 1 - ref)
    reps_a = metrics.bootstrap("accuracy", pred_a, ref, seed=7)
    assert reps_a.shape == (N_REPLICATES,)
    assert np.array_equal(reps_a, metrics.bootstrap("accuracy", pred_a, ref, seed=7))
    assert not np.array_equal(reps_a, metrics.bootstrap("accuracy", pred_a, ref, seed=8))
    # the replicates centre on the point value with the binomial standard error
    acc = metrics.compute("accuracy", pred_a, ref)
    assert reps_a.mean() == pytest.approx(acc, abs=0.005)
    assert reps_a.std() == pytest.approx(math.sqrt(acc * (1 - acc) / 500), rel=0.15)
    # the same seed resamples the same examples for two models: the difference is tighter than independent
    reps_b = metrics.bootstrap("accuracy", pred_b, ref, seed=7)
    independent = metrics.bootstrap("accuracy", pred_b, ref, seed=99)
    assert np.std(reps_a - reps_b) < np.std(reps_a - independent)


def test_bootstrap_of_a_non_mean_metric_resamples_examples():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=300)
    pred = ref + rng.normal(scale=0.5, size=300)
    reps = metrics.bootstrap("pearson_spearman_mean", pred, ref, seed=3)
    point = metrics.compute("pearson_spearman_mean", pred, ref)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert lo < point < hi
    assert 0.01 < hi - lo < 0.2


def test_unknown_metric_and_mismatched_inputs_are_errors():
    with pytest.raises(KeyError, match="unknown metric 'bleu'"):
        metrics.compute("bleu", [1], [1])
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        metrics.compute("accuracy", [1, 0], [1])
    with pytest.raises(ValueError, match="no examples"):
        metrics.compute("accuracy", [], [])
