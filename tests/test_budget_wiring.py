"""The uncertainty budget, power plan and multiplicity wired into measurements, verdicts and outputs
(issue 11 items 1, 4, 5): exact numbers, planted cases and whole pytester sessions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from claimsfile import FIXED_KIND, claim, results, write
from scipy.stats import norm

from harness.core.errors import ClaimError
from harness.core.resample import add_seed_effects, two_level_bootstrap
from harness.core.stats import rng
from harness.measure.kinds.task_budget import claimed_median_component, one_seed_budget, seeds_budget
from harness.report.multiplicity import apply_familywise, expected_false
from harness.spec import load
from harness.spec.uncertainty import SeedSD, parse_uncertainty
from harness.verdict import ClaimResult
from harness.verdict.budget import median_variance_factor
from harness.verdict.power import band_power

pytestmark = pytest.mark.fast

BUDGETED_KIND = (
    FIXED_KIND
    + """
from harness.verdict.budget import Budget, Component

if "budgeted" not in KINDS:
    @register("budgeted", required=("measured", "u"), optional=("missing", "drift"))
    def budgeted(claim, context):
        p = claim.measure.params
        missing = p.get("missing", False)
        budget = Budget((Component("examples", "A", p["u"], "planted"),), seed_component_missing=missing)
        return Measurement(p["measured"], claim.unit, interval=budget.expanded_interval(p["measured"]), budget=budget,
                           evidence={"path": "planted", "smoke": True},
                           at_best_inconclusive="one seed, none declared" if p.get("missing") else None,
                           inconclusive=p.get("drift"))
"""
)


# ---------------------------------------------------------------- declarations


def test_seed_sd_declarations_parse_and_convert() -> None:
    data = {"uncertainty": {"seed_sd": {"glue/rte": {"value": 2.0, "unit": "points", "source": "Study (2020)"}}}}
    declared = parse_uncertainty("x.toml", data)["glue/rte"]
    assert declared == SeedSD("glue/rte", 2.0, "points", "Study (2020)")
    assert declared.in_base() == pytest.approx(0.02)


def test_a_seed_sd_in_seconds_is_refused_with_the_field_named() -> None:
    data = {"uncertainty": {"seed_sd": {"glue/rte": {"value": 2.0, "unit": "seconds", "source": "S"}}}}
    with pytest.raises(ClaimError, match=r"uncertainty\.seed_sd\.glue/rte\.unit"):
        parse_uncertainty("x.toml", data)


def test_the_shipped_claims_file_declares_no_seed_sd() -> None:
    """No published per-task seed SD was found and cited (issue 11): none is declared, so one-seed
    evidence of every task is at best INCONCLUSIVE."""
    assert load("claims/distilbert.toml").seed_sd == {}


# ---------------------------------------------------------------- task budgets


def test_add_seed_effects_is_level_two_of_the_two_level_bootstrap() -> None:
    gen = np.random.default_rng(3)
    seeds = [(gen.random(200) < p).astype(float) for p in (0.80, 0.82, 0.85)]
    whole = two_level_bootstrap(seeds, replicates=400, rng=rng(11))
    generator = rng(11)
    from harness.core.stats import bootstrap_indices

    idx = np.concatenate([bootstrap_indices(200, generator, 200), bootstrap_indices(200, generator, 200)])
    per_seed = np.stack([s[idx].mean(axis=1) for s in seeds], axis=1)
    points = [s.mean() for s in seeds]
    np.testing.assert_allclose(add_seed_effects(per_seed, points, "median", generator), whole)


def test_several_seeds_budget_splits_the_two_level_variance_exactly() -> None:
    gen = np.random.default_rng(0)
    per_seed = 0.8 + 0.01 * gen.standard_normal((5, 2000))  # 5 seeds' replicates over the same examples
    points = [0.78, 0.80, 0.81, 0.83, 0.85]
    shaped = seeds_budget(per_seed, points, "median", 4)
    examples, seed = shaped.budget.components
    assert seed.name == "seed" and seed.kind == "A" and seed.dof == 4
    assert examples.sd**2 + seed.sd**2 == pytest.approx(float(shaped.replicates.var(ddof=1)), rel=1e-12)
    assert seed.sd > examples.sd  # the seeds spread 7 points; the examples 1 / sqrt(5)-ish
    assert shaped.at_best_inconclusive is None


def test_one_seed_without_a_declaration_is_flagged_and_with_one_carries_it() -> None:
    reps = 0.9 + 0.005 * np.random.default_rng(1).standard_normal(2000)
    bare = one_seed_budget(reps, None, "glue/sst2", "m")
    assert bare.budget.seed_component_missing and "at best INCONCLUSIVE" in (bare.at_best_inconclusive or "")
    declared = SeedSD("glue/sst2", 0.5, "points", "a cited study")
    full = one_seed_budget(reps, declared, "glue/sst2", "m")
    assert full.budget.can_reproduce and full.at_best_inconclusive is None
    assert full.budget.components[1].sd == pytest.approx(0.005) and full.budget.components[1].kind == "B"
    # the replicates carry the declared seed SD, so formulas over them do too
    assert float(full.replicates.std()) == pytest.approx(math.hypot(float(reps.std()), 0.005), rel=0.05)


def test_the_papers_median_of_five_is_a_component_when_a_seed_sd_is_declared() -> None:
    claim_ = load("claims/distilbert.toml").claim("glue.bert_base.sst2")
    declared = SeedSD("glue/sst2", 1.0, "points", "cited")
    component = claimed_median_component(claim_, declared)
    assert component is not None
    assert component.sd == pytest.approx(0.01 * math.sqrt(median_variance_factor(5) / 5))
    assert median_variance_factor(5) == pytest.approx(1.4338, abs=5e-4)
    assert claimed_median_component(claim_, None) is None


# ---------------------------------------------------------------- power


def test_band_power_exact_numbers() -> None:
    p = band_power(0.0, -1.0, 1.0, 0.25)
    h = float(norm.ppf(0.975)) * 0.25
    assert p.interval_half_width == pytest.approx(h)
    assert p.reachable
    assert p.probability_reproduced == pytest.approx(2 * norm.cdf((1 - h) / 0.25) - 1)
    assert p.false_not_reproduced == pytest.approx(2 * norm.cdf((-1 - h) / 0.25))
    assert p.minimum_detectable_deviation == pytest.approx(1 + h + float(norm.ppf(0.8)) * 0.25, rel=1e-3)


def test_planted_rte_like_claim_is_unreachable_and_says_what_would_reach_it() -> None:
    """Issue 11 Why 4: RTE's 277 examples at 66% give u = 2.8 points against a +-3 band."""
    u = math.sqrt(0.664 * 0.336 / 277) * 100
    p = band_power(66.4, 63.4, 69.4, u)
    assert not p.reachable and p.probability_reproduced == 0.0
    assert "REPRODUCED unreachable" in p.line and "band of +-" in p.line
    assert not band_power(66.4, 63.4, 69.4, 0.1, can_reproduce=False).reachable


# ---------------------------------------------------------------- multiplicity


def _result(cid: str, measured: float, u: float, band: tuple[float, float], verdict: str) -> ClaimResult:
    power = band_power((band[0] + band[1]) / 2, band[0], band[1], u)
    k = float(norm.ppf(0.975))
    return ClaimResult(
        id=cid,
        nodeid=f"f::{cid}",
        verdict=verdict,
        reason="",
        unit="points",
        claimed=(band[0] + band[1]) / 2,
        band=band,
        tolerance={},
        measured=measured,
        interval=(measured - k * u, measured + k * u),
        details={
            "budget": {"combined_standard_uncertainty": u, "effective_dof": None, "components": []},
            "power": {"false_not_reproduced": power.false_not_reproduced, "line": power.line},
        },
    )


def test_expected_false_not_reproduced_is_the_sum_of_the_claims_probabilities() -> None:
    rs = [_result("a", 0.0, 0.5, (-1.0, 1.0), "INCONCLUSIVE"), _result("b", 0.0, 0.25, (-1.0, 1.0), "REPRODUCED")]
    k = float(norm.ppf(0.975))
    want = 2 * norm.cdf((-1 - k * 0.5) / 0.5) + 2 * norm.cdf((-1 - k * 0.25) / 0.25)
    statement = expected_false(rs)
    assert statement["expected_false_not_reproduced"] == pytest.approx(want)
    assert statement["band_verdicts_with_budget"] == 2


def test_bonferroni_widens_the_interval_and_can_turn_not_reproduced_into_inconclusive() -> None:
    # 2.3 u outside the band's edge: NOT_REPRODUCED at 95% (k 1.96), not at 1 - 0.05/20 (k 3.02)
    family = [_result(f"c{i}", 0.0, 1.0, (-1.0, 1.0), "INCONCLUSIVE") for i in range(19)]
    family.append(_result("far", 3.3, 1.0, (-1.0, 1.0), "NOT_REPRODUCED"))
    adjusted = {r.id: r for r in apply_familywise(family, "bonferroni")}
    far = adjusted["far"]
    assert far.verdict == "INCONCLUSIVE"
    assert far.details["familywise"]["level"] == pytest.approx(1 - 0.05 / 20)
    assert far.details["familywise"]["unadjusted"]["verdict"] == "NOT_REPRODUCED"
    assert far.interval[0] == pytest.approx(3.3 - float(norm.ppf(1 - 0.025 / 20)))
    assert apply_familywise(family, None) == family


# ---------------------------------------------------------------- whole sessions


def test_a_session_shows_budget_power_multiplicity_and_caps_one_seed_evidence(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BUDGETED_KIND)
    write(
        pytester,
        claim("good", 1.0, measure={"kind": "budgeted", "measured": 1.0, "u": 0.05}),
        claim("one_seed", 1.0, measure={"kind": "budgeted", "measured": 1.0, "u": 0.05, "missing": True}),
        claim("drifted", 1.0, measure={"kind": "budgeted", "measured": 1.0, "u": 0.05, "drift": "the machine changed"}),
    )
    run = pytester.runpytest("-m", "claims", "--claims-out=out", "-p", "no:cacheprovider", "-v")
    out = run.stdout.str()
    got = results(pytester)
    assert got["good"]["verdict"] == "REPRODUCED"
    assert got["one_seed"]["verdict"] == "INCONCLUSIVE" and "one seed, none declared" in got["one_seed"]["reason"]
    assert got["drifted"]["verdict"] == "INCONCLUSIVE" and "the machine changed" in got["drifted"]["reason"]
    rows = got["good"]["details"]["budget"]["components"]
    assert rows == [{"component": "examples", "kind": "A", "value": 0.05, "source": "planted", "dof": None}]
    assert "power" in got["good"]["details"]
    assert "budget: u_c 0.05" in out and "examples (type A): 0.05 ratio - planted" in out
    assert "multiplicity: expected false NOT_REPRODUCED under exact replication" in out
    import json

    data = json.loads((pytester.path / "out" / "latest" / "results.json").read_text())
    assert data["multiplicity"]["band_verdicts_with_budget"] == 3


def test_collect_only_prints_the_plan_of_the_shipped_task_claims(pytester: pytest.Pytester) -> None:
    import shutil
    from pathlib import Path

    (pytester.path / "claims").mkdir()
    shutil.copy(Path(__file__).parent.parent / "claims" / "distilbert.toml", pytester.path / "claims")
    run = pytester.runpytest("-m", "claims", "--collect-only", "-q", "-p", "no:cacheprovider")
    out = run.stdout.str()
    assert "claims plan (expected budget before measuring" in out
    assert "glue.bert_base.rte: points: u 2.771" in out and "REPRODUCED unreachable" in out
    assert "imdb.gap:" in out and "at best INCONCLUSIVE" in out
    assert "expected false NOT_REPRODUCED under exact replication (before measuring)" in out
