"""The statistics behind verdicts, with exact numbers worked out by hand in each test.

Budgets (GUM quadrature, Welch-Satterthwaite, t coverage factors), power and the minimum detectable deviation
on a normal model, Bonferroni/Holm/Benjamini-Hochberg on a fixed p-value list (the statsmodels formulas written
out), the GRIM test on SST-2 and other splits, the paired timing ratio on a fixed small sample, the drift check
and the two-level seed bootstrap on inputs whose answer is known. Quantiles quoted as literals are standard
table values (t and normal) to 16 digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from harness.core.resample import (
    bca_ratio_interval,
    drift_check,
    paired_ratio,
    reduce_repeats,
    studentized_ratio_interval,
    two_level_bootstrap,
)
from harness.core.stats import bootstrap_indices, mean_replicates, rng
from harness.core.stats_input import StatisticsInputError
from harness.verdict.budget import Budget, Component, one_seed_budget, seed_spread_component
from harness.verdict.granularity import grim
from harness.verdict.multiplicity import (
    adjusted_p_values,
    band_p_value,
    band_p_value_from_replicates,
    expected_false_not_reproduced,
    familywise_levels,
    probability_any_false_not_reproduced,
)
from harness.verdict.power import (
    minimum_detectable_deviation,
    plan,
    probability_not_reproduced,
    probability_reproduced,
    reachable,
)

pytestmark = pytest.mark.fast

Z975 = 1.959963984540054  # normal 0.975 quantile
Z80 = 0.8416212335729143  # normal 0.8 quantile
Z90 = 1.2815515655446004  # normal 0.9 quantile: P(|Z| <= z) = 0.8
T975_25 = 2.0595385527532972  # Student t, 25 dof
T975_3 = 3.1824463052837078  # Student t, 3 dof


# ---------------------------------------------------------------- budget


def test_budget_combines_in_quadrature_with_welch_satterthwaite_dof() -> None:
    """u = sqrt(3^2 + 4^2) = 5; nu = 5^4 / (3^4/9 + 4^4/16) = 625 / (9 + 16) = 25; k = t(0.975, 25)."""
    budget = Budget((Component("examples", "A", 3.0, "bootstrap", dof=9), Component("seed", "B", 4.0, "study", 16)))
    assert budget.combined_standard_uncertainty() == pytest.approx(5.0, rel=1e-15)
    assert budget.effective_dof() == pytest.approx(25.0, rel=1e-12)
    assert budget.coverage_factor() == pytest.approx(T975_25, rel=1e-9)
    assert budget.expanded_interval(80.0) == pytest.approx((80.0 - 5 * T975_25, 80.0 + 5 * T975_25), rel=1e-9)
    summary = budget.summary()
    assert summary["effective_dof"] == pytest.approx(25.0) and summary["seed_component_missing"] is False


def test_budget_without_dof_uses_the_normal_factor_and_one_finite_dof_dominates() -> None:
    """No dof anywhere: nu infinite, k = 1.96. One component with dof 4: nu = 5^4 / (3^4 / 4) = 30.864..."""
    plain = Budget((Component("a", "A", 3.0, "s"), Component("b", "B", 4.0, "s")))
    assert math.isinf(plain.effective_dof()) and plain.coverage_factor() == pytest.approx(Z975, rel=1e-12)
    mixed = Budget((Component("a", "A", 3.0, "s", dof=4), Component("b", "B", 4.0, "s")))
    assert mixed.effective_dof() == pytest.approx(625.0 / (81.0 / 4.0), rel=1e-12)


def test_component_from_half_width_and_rectangular() -> None:
    assert Component.from_half_width("x", "A", 2 * Z975, "s").sd == pytest.approx(2.0, rel=1e-12)
    assert Component.from_half_width("x", "A", 3 * T975_3, "s", dof=3).sd == pytest.approx(3.0, rel=1e-9)
    assert Component.rectangular("rounding", math.sqrt(3.0) * 0.05, "one decimal").sd == pytest.approx(0.05)


def test_one_seed_budget_adds_the_declared_seed_component_or_flags_it_missing() -> None:
    """Bootstrap interval [0.90, 0.94]: sd = 0.02 / 1.96; declared seed SD 0.004: u = hypot of the two."""
    declared = one_seed_budget((0.90, 0.94), 0.004, "seed-variance study, table 2")
    assert declared.combined_standard_uncertainty() == pytest.approx(math.hypot(0.02 / Z975, 0.004), rel=1e-12)
    assert not declared.seed_component_missing and declared.can_reproduce
    assert declared.rows() == [
        {
            "component": "examples",
            "kind": "A",
            "value": pytest.approx(0.02 / Z975),
            "source": "bootstrap over the evaluation examples",
            "dof": None,
        },
        {"component": "seed", "kind": "B", "value": 0.004, "source": "seed-variance study, table 2", "dof": None},
    ]
    missing = one_seed_budget((0.90, 0.94), None, None)
    assert missing.seed_component_missing and not missing.can_reproduce
    assert missing.combined_standard_uncertainty() == pytest.approx(0.02 / Z975, rel=1e-12)
    healed = missing.with_component(Component("seed", "B", 0.004, "study"))
    assert not healed.seed_component_missing
    assert missing.with_component(Component("paper median", "B", 0.001, "5 seeds")).seed_component_missing


def test_seed_spread_component_of_a_mean_and_of_a_median() -> None:
    """Scores 0.90..0.94: s = 0.0158114 (ddof 1). Mean of 5: s / sqrt(5). Median of 3: the variance of the
    median of 3 standard normals is 1 - sqrt(3)/pi, so sd = s sqrt(3 (1 - sqrt(3)/pi) / 3)."""
    five = [0.90, 0.91, 0.92, 0.93, 0.94]
    s = math.sqrt(sum((x - 0.92) ** 2 for x in five) / 4)
    mean = seed_spread_component(five, "mean", "5 seeds run here")
    assert mean.sd == pytest.approx(s / math.sqrt(5), rel=1e-12) and mean.dof == 4 and mean.kind == "A"
    three = [0.90, 0.92, 0.91]
    s3 = 0.01
    median = seed_spread_component(three, "median", "3 seeds")
    assert median.sd == pytest.approx(s3 * math.sqrt(1 - math.sqrt(3) / math.pi), rel=1e-7)


def test_budget_inputs_are_checked_with_a_message_that_says_what_and_how() -> None:
    with pytest.raises(StatisticsInputError, match=r"Component 'seed': kind: expected 'A' \(from data\) or 'B'"):
        Component("seed", "C", 0.1, "study")
    with pytest.raises(StatisticsInputError, match="Component 'seed': sd: expected a finite number >= 0"):
        Component("seed", "B", -0.1, "study")
    with pytest.raises(StatisticsInputError, match="source of the declared seed SD"):
        one_seed_budget((0.9, 0.94), 0.004, "  ")


# ---------------------------------------------------------------- power


def test_minimum_detectable_deviation_on_a_normal_model() -> None:
    """u = 0.5, band +-1, h = 1.96 u: the far tail alone gives d = 1 + 1.96*0.5 + z(0.8)*0.5 = 2.40079...
    (the near tail, Phi((-1 - 0.98 - 2.4) / 0.5) ~ 1e-18, adds nothing)."""
    expected = 1.0 + Z975 * 0.5 + Z80 * 0.5
    assert minimum_detectable_deviation(0.5, 1.0) == pytest.approx(expected, rel=1e-9)
    assert probability_not_reproduced(expected, 0.5, 1.0, Z975 * 0.5) == pytest.approx(0.8, rel=1e-9)


def test_exact_replication_against_a_zero_band_fails_five_percent_of_the_time() -> None:
    assert probability_not_reproduced(0.0, 1.0, 0.0, Z975) == pytest.approx(0.05, rel=1e-12)


def test_reachable_and_probability_reproduced() -> None:
    """Band +-2, interval +-1, u = 0.5: P = Phi(2) - Phi(-2) = 0.9545; unreachable when h >= w."""
    assert reachable(1.0, 0.99) and not reachable(1.0, 1.0)
    assert probability_reproduced(2.0, 1.0, 0.5) == pytest.approx(0.9544997361036416, rel=1e-12)
    assert probability_reproduced(1.0, 1.0, 0.5) == 0.0
    assert probability_reproduced(2.0, 1.0, 0.5, deviation=1.0) == pytest.approx(
        sps.norm.cdf(0.0) - sps.norm.cdf(-4.0), rel=1e-12
    )


def test_plan_says_what_would_make_an_unreachable_claim_reachable() -> None:
    """Band +-1, examples u 0.6 at 277, seed u 0.3 at 1 seed: u = 0.6708, h = 1.3148 > 1: unreachable.
    For P(REPRODUCED) = 0.8: u must be 1 / (1.96 + 1.2816) = 0.30850; with seed u 0.3 kept the examples part
    must be sqrt(0.30850^2 - 0.09), i.e. 277 * 0.36 / (0.30850^2 - 0.09) = 19286 examples; seeds alone cannot
    (the examples part 0.6 already exceeds 0.3085); the margin needed is (1.96 + 1.2816) * 0.6708."""
    result = plan(1.0, 0.6, 277, 0.3, 1)
    u = math.sqrt(0.36 + 0.09)
    u_needed = 1.0 / (Z975 + Z90)
    assert not result.reachable and result.probability_reproduced == 0.0
    assert result.margin_needed == pytest.approx((Z975 + Z90) * u, rel=1e-12)
    assert result.examples_needed == math.ceil(277 * 0.36 / (u_needed**2 - 0.09)) == 19286
    assert result.seeds_needed is None
    assert "REPRODUCED unreachable with this evidence" in result.explanation and "19286 examples" in result.explanation


@given(u=st.floats(0.01, 10.0), w=st.floats(0.0, 10.0))
def test_the_minimum_detectable_deviation_has_exactly_the_stated_power(u: float, w: float) -> None:
    d = minimum_detectable_deviation(u, w)
    assert probability_not_reproduced(d, u, w, Z975 * u) == pytest.approx(0.8, abs=1e-7)


@given(u=st.floats(0.01, 5.0), w=st.floats(0.0, 10.0), h=st.floats(0.0, 10.0), d=st.floats(-20.0, 20.0))
def test_reproduced_and_not_reproduced_are_exclusive(u: float, w: float, h: float, d: float) -> None:
    assert probability_reproduced(w, h, u, d) + probability_not_reproduced(d, u, w, h) <= 1.0 + 1e-12


# ---------------------------------------------------------------- multiplicity

P_VALUES = [0.01, 0.04, 0.03, 0.005]


def test_expected_false_not_reproduced_and_any() -> None:
    assert expected_false_not_reproduced([0.05, 0.1, 0.01]) == pytest.approx(0.16, rel=1e-12)
    assert probability_any_false_not_reproduced([0.05, 0.1, 0.01]) == pytest.approx(1 - 0.95 * 0.9 * 0.99)
    assert expected_false_not_reproduced([]) == 0.0


def test_adjusted_p_values_written_out() -> None:
    """Sorted: 0.005, 0.01, 0.03, 0.04 (m = 4).
    Bonferroni: 4p. Holm: running max of 4*0.005, 3*0.01, 2*0.03, 1*0.04 = 0.02, 0.03, 0.06, 0.06.
    BH: running min from the top of 4p/j: 0.02, 0.02, 0.04, 0.04."""
    assert adjusted_p_values(P_VALUES, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert adjusted_p_values(P_VALUES, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjusted_p_values(P_VALUES, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_familywise_levels_written_out() -> None:
    """alpha 0.05, m 4. Bonferroni: 1 - 0.05/4 = 0.9875 for all. Holm: 0.005 <= 0.05/4 (rejected, 0.9875),
    0.01 <= 0.05/3 (rejected, 0.98333), 0.03 > 0.05/2: stop; 0.03 and 0.04 at 1 - 0.025 = 0.975.
    BH: p_(j) <= j 0.05/4 for j = 4 (0.04 <= 0.05): k = 4, every claim at 1 - 4 * 0.0125 = 0.95."""
    assert familywise_levels(P_VALUES, "bonferroni") == pytest.approx([0.9875] * 4)
    assert familywise_levels(P_VALUES, "holm") == pytest.approx([1 - 0.05 / 3, 0.975, 0.975, 0.9875])
    assert familywise_levels(P_VALUES, "bh") == pytest.approx([0.95] * 4)
    assert familywise_levels([0.5, 0.9], "bh") == pytest.approx([1 - 0.05 / 2] * 2)  # nothing rejected: alpha/m


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12), st.sampled_from(["bonferroni", "holm", "bh"]))
def test_rejected_at_its_level_exactly_when_the_adjusted_p_value_is_below_alpha(p: list[float], method: str) -> None:
    levels = familywise_levels(p, method)
    adjusted = adjusted_p_values(p, method)
    for p_i, level, adj in zip(p, levels, adjusted, strict=True):
        assert (p_i <= 1 - level + 1e-12) == (adj <= 0.05 + 1e-12)


def test_band_p_values() -> None:
    """Estimate 3, u 1, band [-1, 1]: distance 2, p = 2 (1 - Phi(2)) = 0.0455. Replicates 0..99 against
    [-10, 2]: 3 of 100 are <= 2, p = 2 * 0.03 = 0.06."""
    assert band_p_value(3.0, 1.0, -1.0, 1.0) == pytest.approx(0.04550026389635839, rel=1e-12)
    assert band_p_value(0.5, 1.0, -1.0, 1.0) == 1.0
    assert band_p_value_from_replicates(np.arange(100.0), -10.0, 2.0) == pytest.approx(0.06)
    assert band_p_value_from_replicates(np.arange(100.0), 0.0, 99.0) == 1.0


@given(
    x=st.floats(-10, 10), u=st.floats(0.01, 5), lo=st.floats(-5, 0), width=st.floats(0, 5), alpha=st.floats(0.001, 0.5)
)
def test_band_p_value_below_alpha_exactly_when_the_interval_is_outside_the_band(
    x: float, u: float, lo: float, width: float, alpha: float
) -> None:
    hi = lo + width
    z = float(sps.norm.ppf(1 - alpha / 2))
    outside = x - z * u > hi or x + z * u < lo
    p = band_p_value(x, u, lo, hi)
    if abs(max(x - hi, lo - x) / u - z) > 1e-6:  # away from the exact tie
        assert (p < alpha) == outside


# ---------------------------------------------------------------- granularity (GRIM)


def test_grim_on_sst2() -> None:
    """92.75% on 872: 808/872 = 92.6606, 809/872 = 92.7752, neither rounds to 92.75."""
    result = grim(92.75, 2, 872)
    assert result.applicable and result.consistent is False
    assert result.counts == (808, 809)
    assert result.nearest == pytest.approx((80800 / 872, 80900 / 872))
    assert "808/872 = 92.6606" in result.explanation and "809/872 = 92.7752" in result.explanation
    assert grim(92.66, 2, 872).consistent and grim(92.78, 2, 872).consistent
    assert grim(0.9275, 4, 872, scale=1.0).consistent is False


def test_grim_on_other_splits_and_metrics() -> None:
    """RTE (277): 184/277 = 66.43, 185/277 = 66.79: 66.4 is reachable, 66.5 is not. MRPC (408): 357/408 = 87.5.
    SQuAD (10570) with one decimal: every value is reachable (steps of 0.0095): uninformative."""
    assert grim(66.4, 1, 277).consistent and grim(66.5, 1, 277).consistent is False
    assert grim(87.5, 1, 408).counts == (357,)
    squad = grim(77.7, 1, 10570, metric="exact_match")
    assert squad.consistent and "uninformative" in squad.explanation
    f1 = grim(88.5, 1, 408, metric="f1")
    assert not f1.applicable and f1.consistent is None and "does not apply to f1" in f1.explanation
    with pytest.raises(StatisticsInputError, match="grim.metric.: expected one of"):
        grim(88.5, 1, 408, metric="bleu")


@given(n=st.integers(1, 20000), data=st.data())
def test_grim_accepts_every_true_k_over_n(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    decimals = data.draw(st.integers(0, 3))
    assert grim(round(100 * k / n, decimals), decimals, n).consistent


# ---------------------------------------------------------------- paired timing ratio and drift

A = [2.0, 4.0, 6.0, 8.0]
B = [1.0, 2.0, 2.0, 5.0]


def test_studentized_ratio_on_a_fixed_sample() -> None:
    """R = 20/10 = 2; residuals a - 2b = 0, 0, 2, -2; SE = sqrt(8 / (4*3)) / 2.5 = 0.326599;
    interval 2 exp(-+ t(0.975, 3) SE / 2)."""
    ratio, se, (lo, hi) = studentized_ratio_interval(A, B)
    assert ratio == 2.0
    assert se == pytest.approx(math.sqrt(8 / 12) / 2.5, rel=1e-12)
    half = T975_3 * se / 2.0
    assert (lo, hi) == pytest.approx((2 * math.exp(-half), 2 * math.exp(half)), rel=1e-9)


def test_bca_ratio_agrees_with_scipy() -> None:
    gen = rng(20)
    a = gen.lognormal(0.5, 0.3, 40)
    b = a / 1.6 * gen.lognormal(0.0, 0.1, 40)
    ours = bca_ratio_interval(a, b, replicates=20000, rng=rng(1))
    theirs = sps.bootstrap(
        (a, b),
        lambda x, y, axis=-1: x.sum(axis) / y.sum(axis),
        paired=True,
        vectorized=True,
        method="BCa",
        n_resamples=20000,
        random_state=2,
    ).confidence_interval
    assert ours == pytest.approx((theirs.low, theirs.high), rel=3e-3)
    both = paired_ratio(a, b, replicates=2000, rng=rng(1))
    assert both.interval == both.studentized and both.recommended == "studentized"


def test_reduce_repeats_applies_one_statistic_to_every_input() -> None:
    times = [[3.0, 1.0, 2.0], [10.0, 30.0, 20.0]]
    assert reduce_repeats(times).tolist() == [2.0, 20.0]
    assert reduce_repeats(times, "min").tolist() == [1.0, 10.0]
    with pytest.raises(StatisticsInputError, match="positive numbers"):
        reduce_repeats([[1.0, 0.0]])


def test_drift_check_fires_on_a_step_and_not_without_one() -> None:
    """b = 1; log(a/b) alternates +-0.01, plus 0.2 in the second half: the second half's ratio over the first
    is exp(0.2) exactly (the same +-0.01 pattern in both halves)."""
    wiggle = np.tile([0.01, -0.01], 20)
    step = np.where(np.arange(40) < 20, 0.0, 0.2)
    drifted = drift_check(np.exp(wiggle + step), np.ones(40))
    assert drifted.drifted and drifted.relative_change == pytest.approx(math.exp(0.2) - 1, rel=1e-12)
    assert drifted.p_value < 1e-10 and "INCONCLUSIVE" in drifted.explanation
    flag, statistic, explanation = drifted
    assert (flag, statistic, explanation) == (True, drifted.statistic, drifted.explanation)
    steady = drift_check(np.exp(wiggle), np.ones(40))
    assert not steady.drifted and steady.relative_change == pytest.approx(0.0, abs=1e-15)
    assert steady.statistic == pytest.approx(0.0, abs=1e-9) and steady.explanation.startswith("no drift")
    small = drift_check(np.exp(wiggle / 10 + step / 40), np.ones(40))  # +0.5%: significant, below the 1% floor
    assert not small.drifted and "small drift" in small.explanation


def test_ratio_inputs_are_checked() -> None:
    with pytest.raises(StatisticsInputError, match=r"studentized_ratio_interval\(a\): expected finite numbers"):
        studentized_ratio_interval([1.0, float("nan"), 2.0], [1.0, 1.0, 1.0])
    with pytest.raises(StatisticsInputError, match="same inputs"):
        studentized_ratio_interval([1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0])


# ---------------------------------------------------------------- two-level seed bootstrap


def test_one_seed_gives_the_plain_example_bootstrap() -> None:
    x = rng(3).random(50)
    expected = mean_replicates(x, bootstrap_indices(50, rng(0), 200))
    np.testing.assert_array_equal(two_level_bootstrap([x], replicates=200, rng=rng(0)), expected)


def test_identical_seeds_add_no_seed_spread() -> None:
    x = (rng(4).random(60) < 0.8).astype(float)
    one = two_level_bootstrap([x], replicates=200, rng=rng(0))
    np.testing.assert_allclose(two_level_bootstrap([x, x, x], replicates=200, rng=rng(0)), one, rtol=0, atol=1e-15)


def test_seeds_without_example_noise_resample_the_seed_effects_inflated_by_s_over_s_minus_1() -> None:
    """Each seed scores v_s on every example: level 1 is constant, the between-seed component is all of var(v),
    and each replicate is mean(v) + the mean of resampled effects (v - mean v) * sqrt(S / (S - 1))."""
    v = np.array([0.88, 0.90, 0.91, 0.95])
    arrays = [np.full(30, value) for value in v]
    gen = rng(0)
    bootstrap_indices(30, gen, 200)  # level 1 consumes the generator first
    drawn = gen.integers(0, 4, size=(200, 4))
    effects = (v - v.mean()) * math.sqrt(4 / 3)
    expected = v.mean() + effects[drawn].mean(axis=1)
    got = two_level_bootstrap(arrays, aggregate="mean", replicates=200, rng=rng(0))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_two_level_inputs_are_checked() -> None:
    with pytest.raises(StatisticsInputError, match="arrays of one length"):
        two_level_bootstrap([np.ones(3), np.ones(4)])
    with pytest.raises(StatisticsInputError, match=r"scores_per_seed\)\[1\]: expected finite numbers"):
        two_level_bootstrap([np.ones(3), np.array([1.0, np.nan, 0.0])])
    assert two_level_bootstrap([np.ones(3), np.ones(4)], shared_examples=False, replicates=10).shape == (10,)
