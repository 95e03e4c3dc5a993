"""Planted cases for issue 11's Why items 3, 6, 7, 8, 9 and 11, through the engine and a whole pytest session.

Each case plants measurements (tiny, exact values: evidence about the machinery only) and checks the verdict
the harness's own engine gives them; the paper-file checks read claims/distilbert.toml as written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from claimsfile import FIXED_KIND, claim, claims_toml, fixed, write

from harness.core.errors import MeasurementError
from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Measurement, Options
from harness.spec import Claim, ClaimsFile, load
from harness.verdict import ClaimResult, summary

pytestmark = pytest.mark.fast
PAPER = Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml"
TOL = {"rationale": "planted"}


class Planted(Context):
    """Measurements of the named claims are planted; formulas are measured by the harness's own machinery."""

    def __init__(self, claims_file: ClaimsFile, planted: dict[str, Measurement]) -> None:
        super().__init__(claims_file, Options())
        self.planted = planted

    def _measure(self, claim: Claim) -> Measurement:
        if claim.id in self.planted:
            return self.planted[claim.id]
        return super()._measure(claim)


def m(
    value: float, unit: str = "points", interval: tuple[float, float] | None = None, **conditions: Any
) -> Measurement:
    return Measurement(value, unit, interval=interval, conditions=conditions, evidence={"path": "planted"})


def run(tmp_path: Path, records: list[dict[str, Any]], planted: dict[str, Measurement]) -> dict[str, ClaimResult]:
    path = tmp_path / "planted.toml"
    path.write_text(claims_toml(*records), encoding="utf-8")
    loaded = load(path)
    assert loaded.invalid == (), [str(r.error) for r in loaded.invalid]
    context = Planted(loaded, planted)
    return {c.id: evaluate(c, context, f"planted.toml::{c.id}", "pytest") for c in loaded.claims}


def points(cid: str, value: float, **fields: Any) -> dict[str, Any]:
    return claim(cid, value=value, unit="points", **{"tolerance": {"kind": "absolute", "value": 0.5, **TOL}, **fields})


# ---------------------------------------------------------------- Why 3: one-sided bands, signs, orderings


def test_only_x_behind_is_two_sided_and_a_sign_cut_refuses_the_opposite_sign(tmp_path: Path) -> None:
    records = [
        points("imdb.big", 93.46, precision=0.01),
        points("imdb.small", 92.82, precision=0.01),
        points("imdb.gap", 0.6, formula="imdb.big - imdb.small", measure=None),
        claim(
            "ablation.mlm",
            value=-0.31,
            unit="points",
            precision=0.01,
            tolerance={"kind": "absolute", "value": 1.0, "sign": "negative", **TOL},
        ),
    ]
    # the small model 3 points ahead: a gap of -3, which an upper-bound reading used to pass
    planted = {
        "imdb.big": m(90.0, interval=(89.8, 90.2)),
        "imdb.small": m(93.0, interval=(92.8, 93.2)),
        "ablation.mlm": m(0.5, interval=(0.3, 0.7)),
    }
    results = run(tmp_path, records, planted)
    gap = results["imdb.gap"]
    assert gap.verdict == "NOT_REPRODUCED" and gap.measured == pytest.approx(-3.0)
    assert gap.interval == (pytest.approx(-3.4), pytest.approx(-2.6))  # interval arithmetic: no replicates
    assert "interval arithmetic" in gap.details["interval_method"]
    assert results["ablation.mlm"].verdict == "NOT_REPRODUCED"
    assert results["ablation.mlm"].band == (pytest.approx(-1.31), 0.0)


SPEED = [
    claim("speed.big", value=668, unit="seconds", precision=1, tolerance={"kind": "relative", "value": 0.5, **TOL}),
    claim("speed.small", value=410, unit="seconds", precision=1, tolerance={"kind": "relative", "value": 0.5, **TOL}),
    claim(
        "speed.speedup",
        value=1.6,
        precision=0.1,
        formula="speed.big / speed.small",
        tolerance={"kind": "lower_bound", "value": 0.05, **TOL},
        measure=None,
    ),
]


def _timed(seconds: float, workload: str, seed: int) -> Measurement:
    reps = seconds * (1 + 0.01 * np.random.default_rng(seed).standard_normal(2000))
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return Measurement(
        seconds, "seconds", interval=(float(lo), float(hi)), replicates=reps, conditions={"workload": workload}
    )


def test_a_one_sided_speedup_says_the_papers_own_ratio_and_the_workload(tmp_path: Path) -> None:
    planted = {"speed.big": _timed(1.0, "synthetic", 1), "speed.small": _timed(0.2, "synthetic", 2)}
    result = run(tmp_path, SPEED, planted)["speed.speedup"]
    assert result.verdict == "REPRODUCED"  # 5.0 is "at least 1.6x": the band accepts it ...
    assert result.point_comparison is not None and result.point_comparison["inside_interval"] is False
    assert result.point_comparison["paper_value"] == pytest.approx(668 / 410)
    # ... and the verdict says that the paper's own number is far from the measured ratio, and what was timed
    assert "the paper's own 668 / 410 = 1.62927 is outside the measured interval" in result.reason
    assert result.synthetic and "[SYNTHETIC" in result.reason
    assert result.details["interval_method"] == "bootstrap replicates through the formula (paired)"


ABLATION = [
    claim(f"ablation.{n}", value=v, unit="points", precision=0.01, tolerance={"kind": "absolute", "value": 1.0, **TOL})
    for n, v in (("ce", -2.96), ("cos", -1.46), ("mlm", -0.31))
] + [
    {
        "id": "ablation.order",
        "quote": "the two distillation losses account for a large portion of the performance",
        "location": "Section 4.2",
        "unit": "points",
        "inequalities": ["abs(ablation.ce) > abs(ablation.cos)", "abs(ablation.cos) > abs(ablation.mlm)"],
        "tolerance": {"kind": "order", **TOL},
    }
]


@pytest.mark.parametrize(
    ("ce", "cos", "mlm", "verdict"),
    [
        ((-3.2, -2.8), (-1.6, -1.2), (-0.5, -0.1), "REPRODUCED"),
        ((-3.2, -2.8), (-1.6, -1.2), (-1.4, -1.0), "INCONCLUSIVE"),  # cos and mlm intervals overlap
        ((-1.0, -0.6), (-1.6, -1.2), (-0.5, -0.1), "NOT_REPRODUCED"),  # L_ce matters less than L_cos
    ],
)
def test_the_ablation_order_is_judged_on_intervals(
    tmp_path: Path, ce: tuple[float, float], cos: tuple[float, float], mlm: tuple[float, float], verdict: str
) -> None:
    planted = {f"ablation.{n}": m(sum(iv) / 2, interval=iv) for n, iv in (("ce", ce), ("cos", cos), ("mlm", mlm))}
    result = run(tmp_path, ABLATION, planted)["ablation.order"]
    assert result.verdict == verdict, result.reason
    assert result.claimed is None and result.band is None
    assert [i["status"] for i in result.details["inequalities"]][0] in ("agrees", "contradicts")


def test_an_ordering_against_stated_numbers_and_one_the_source_breaks(tmp_path: Path) -> None:
    def order(cid: str, *inequalities: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": cid,
            "quote": "always on par or improving",
            "location": "Section 4",
            "unit": "points",
            "inequalities": list(inequalities),
            "tolerance": {"kind": "order", "value": 1.0, **TOL},
            **fields,
        }

    records = [
        points("glue.student.wnli", 56.3),
        points("glue.baseline.wnli", 56.3),
        points("glue.student.rte", 59.9),
        points("glue.baseline.rte", 53.4),
        order(
            "glue.on_par",
            "glue.student.wnli >= glue.baseline.wnli",
            "glue.student.rte >= glue.baseline.rte",
            stated=["glue.baseline.wnli", "glue.baseline.rte"],
        ),
        order("glue.broken", "glue.baseline.rte >= glue.student.rte", stated=["glue.baseline.rte"]),
    ]
    planted = {"glue.student.wnli": m(56.3, interval=(45.1, 67.6)), "glue.student.rte": m(60.0, interval=(54.5, 65.7))}
    results = run(tmp_path, records, planted)
    on_par = results["glue.on_par"]
    assert on_par.verdict == "INCONCLUSIVE"  # WNLI's 71-example interval cannot show "on par"
    assert [i["status"] for i in on_par.details["inequalities"]] == ["overlaps", "agrees"]
    assert on_par.details["inequalities"][0]["right"]["origin"] == "stated"
    assert on_par.details["inequalities"][0]["right"]["interval"] == (pytest.approx(56.25), pytest.approx(56.35))
    assert results["glue.broken"].verdict == "INCONSISTENT"  # the source's own 53.4 < 59.9 - 1


# ---------------------------------------------------------------- Why 6: INCONSISTENT alongside, alternatives


def test_inconsistent_keeps_its_band_decision_and_alternatives_are_decided(tmp_path: Path) -> None:
    records = [
        points("glue.a", 86.7, alternatives=[{"value": 84.7, "source": "the authors' README"}]),
        points("glue.b", 72.74),
        claim(
            "glue.macro",
            value=79.5,
            unit="points",
            formula="mean(glue.a, glue.b)",
            tolerance={"kind": "absolute", "value": 1.0, **TOL},
            measure=None,
        ),
    ]
    # measured at the likely-intended MNLI 84.7: the macro (84.7 + 74.3) / 2 = 79.5 is the printed value
    planted = {"glue.a": m(84.7, interval=(84.5, 84.9)), "glue.b": m(74.3, interval=(74.1, 74.5))}
    results = run(tmp_path, records, planted)
    a, macro = results["glue.a"], results["glue.macro"]
    assert a.verdict == "NOT_REPRODUCED"  # against the printed 86.7
    assert [(x["value"], x["verdict"]) for x in a.alternatives] == [(84.7, "REPRODUCED")]
    assert "against the alternative 84.7 (the authors' README): REPRODUCED" in a.reason
    assert macro.verdict == "INCONSISTENT"  # (86.7 + 72.74) / 2 = 79.72, not 79.5
    assert macro.band_decision is not None and macro.band_decision["verdict"] == "REPRODUCED"
    assert "against the stated value the measurement is REPRODUCED" in macro.reason


# ---------------------------------------------------------------- Why 7: harness-derived, pinned module


def test_harness_derived_claims_are_counted_apart_and_the_module_is_pinned(tmp_path: Path) -> None:
    pinned = {"conditions": {"model_class": "BertModel", "pooler": True}, "comparable_on": ["model_class", "pooler"]}
    records = [
        claim("params.big", value=110, unit="million parameters", precision=1, **pinned),
        claim(
            "size.big",
            value=None,
            unit="MB",
            precision=1,
            formula="params.big * 4",
            derived_by="harness",
            tolerance={"kind": "absolute", "value": 2.0, **TOL},
        ),
    ]
    planted = {
        "params.big": m(108_893_186, "parameters", model_class="BertForQuestionAnswering", pooler=False),
        "size.big": m(435_572_744, "bytes", model_class="BertForQuestionAnswering", pooler=False),
    }
    results = run(tmp_path, records, planted)
    params = results["params.big"]
    assert params.verdict == "NOT_COMPARABLE"
    assert set(params.conditions_differing) == {"model_class", "pooler"}
    size = results["size.big"]
    assert size.derived_by == "harness" and size.provenance["derived_by"] == "harness"
    assert summary(list(results.values()))["NOT_COMPARABLE"] == 1
    assert sum(summary(list(results.values())).values()) == 1  # the harness's own claim is not in the tally
    assert sum(summary(list(results.values()), derived_by="harness").values()) == 1


# ---------------------------------------------------------------- Why 8: exact matching, no merging, statistic


def test_components_under_different_conditions_are_not_comparable(tmp_path: Path) -> None:
    records = [
        *SPEED[:2],
        {**SPEED[2], "conditions": {"device": "cpu"}, "comparable_on": ["device"]},
    ]
    planted = {"speed.big": _timed(0.66, "real", 1), "speed.small": _timed(0.41, "real", 2)}
    planted["speed.big"] = Measurement(0.66, "seconds", interval=(0.65, 0.67), conditions={"device": "cpu"})
    planted["speed.small"] = Measurement(0.41, "seconds", interval=(0.40, 0.42), conditions={"device": "cuda"})
    result = run(tmp_path, records, planted)["speed.speedup"]
    assert result.verdict == "NOT_COMPARABLE"
    assert "speed.big 'cpu', speed.small 'cuda'" in result.reason
    assert "device" not in result.conditions_measured  # never the merged string "cpu | cuda"


def test_a_pinned_component_checks_its_own_condition_and_synthetic_data_is_another_dataset(tmp_path: Path) -> None:
    pinned = {"conditions": {"dataset": "glue/stsb"}, "comparable_on": ["dataset"]}
    records = [
        claim("speed.big", value=668, unit="seconds", precision=1, **pinned),
        claim("speed.small", value=410, unit="seconds", precision=1, **pinned),
        {**SPEED[2], **pinned},
    ]
    stand_in = "synthetic lengths (stand-in for glue/stsb)"
    planted = {
        "speed.big": Measurement(0.66, "seconds", interval=(0.65, 0.67), conditions={"dataset": stand_in}),
        "speed.small": Measurement(0.41, "seconds", interval=(0.40, 0.42), conditions={"dataset": "glue/stsb"}),
    }
    results = run(tmp_path, records, planted)
    assert results["speed.big"].verdict == "NOT_COMPARABLE" and results["speed.small"].verdict != "NOT_COMPARABLE"
    assert results["speed.speedup"].verdict == "NOT_COMPARABLE"
    assert "component speed.big: dataset: claimed 'glue/stsb'" in results["speed.speedup"].reason


def test_one_checkpoint_against_a_median_of_seeds_is_at_best_inconclusive(tmp_path: Path) -> None:
    stat = {"conditions": {"statistic": "median of 5 seeds"}}
    records = [points("glue.sst2", 91.3, **stat), points("glue.rte", 59.9, **stat), points("glue.qnli", 89.2, **stat)]
    one = {"statistic": "one published checkpoint"}
    planted = {
        "glue.sst2": m(91.3, interval=(91.0, 91.6), **one),
        "glue.rte": Measurement(
            59.9, "points", interval=(59.8, 60.0), conditions=one, details={"seed_component": 0.9}
        ),  # the hook: a declared seed component lifts the cap
        "glue.qnli": m(89.2, interval=(89.0, 89.4), statistic="median of 5 seeds"),
    }
    results = run(tmp_path, records, planted)
    assert results["glue.sst2"].verdict == "INCONCLUSIVE"
    assert "capped at INCONCLUSIVE" in results["glue.sst2"].reason
    assert results["glue.sst2"].details["statistic_mismatch"] == [
        "the claim is a 'median of 5 seeds', the measurement 'one published checkpoint'"
    ]
    assert results["glue.rte"].verdict == "REPRODUCED"
    assert results["glue.qnli"].verdict == "REPRODUCED"


# ---------------------------------------------------------------- Why 9: engine edges


def test_an_inverted_interval_or_a_point_outside_it_is_no_measurement() -> None:
    with pytest.raises(MeasurementError, match=r"\[62, 58\] is inverted"):
        Measurement(60.0, "points", interval=(62.0, 58.0))
    with pytest.raises(MeasurementError, match="the point 70 is outside its own interval"):
        Measurement(70.0, "points", interval=(58.0, 62.0))


def test_an_inverted_interval_is_an_error_verdict_in_a_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FIXED_KIND)
    write(pytester, claim("score.inverted", value=60, measure=fixed(60.0, low=62.0, high=58.0)))
    result = pytester.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    result.assert_outcomes(failed=1)
    data = json.loads((pytester.path / "out" / "latest" / "results.json").read_text())
    (r,) = data["results"]
    assert r["verdict"] == "ERROR" and "is inverted" in r["reason"]
    assert "Traceback" not in result.stdout.str()


def test_a_formula_over_intervals_without_replicates_keeps_the_uncertainty(tmp_path: Path) -> None:
    records = [points("t.a", 10.0), points("t.b", 5.0), points("t.diff", 5.0, formula="t.a - t.b", measure=None)]
    planted = {"t.a": m(10.0, interval=(9.0, 11.0)), "t.b": m(5.0, interval=(4.0, 6.0))}
    result = run(tmp_path, records, planted)["t.diff"]
    assert result.interval == (pytest.approx(3.0), pytest.approx(7.0))
    assert result.verdict == "INCONCLUSIVE"  # [3, 7] straddles the band [4.5, 5.5]; without the interval: REPRODUCED


# ---------------------------------------------------------------- Why 11: the missing claims, in the paper file


def test_the_paper_file_has_the_missing_claims_and_one_convention_for_percent_faster() -> None:
    f = load(PAPER)
    assert [str(r.error) for r in f.invalid] == []
    by_id = {c.id: c for c in f.claims}
    elmo = by_id["glue.distilbert.on_par_or_better_than_elmo"]
    assert len(elmo.inequalities) == 9 and set(elmo.stated) == {i.right.names[0] for i in elmo.inequalities}
    assert len(by_id["ablation.order"].inequalities) == 2
    assert by_id["squad.distilbert_d.within_3_of_bert"].tolerance.kind == "upper_bound"
    assert (
        by_id["arch.layer_reduction"].value == 2 and by_id["arch.distilbert.pooler"].measure.kind == "module_parameters"
    )
    # "71% faster" and "60% faster" are both time ratios
    assert (by_id["ondevice.speedup"].unit, by_id["ondevice.speedup"].value) == ("ratio", 1.71)
    assert (by_id["speed.speedup"].unit, by_id["speed.speedup"].value) == ("ratio", 1.6)
    # the readings of Why 3 and 7
    assert by_id["imdb.gap"].tolerance.kind == "absolute"
    assert {by_id[f"ablation.{n}"].tolerance.sign for n in ("no_l_ce", "no_l_cos", "no_l_mlm", "random_init")} == {
        "negative"
    }
    assert {c.id for c in f.claims if c.derived_by == "harness"} >= {"size.bert_base.fp32", "size.distilbert.fp32"}
    for cid in ("params.bert_base", "params.distilbert"):
        assert {"model_class", "pooler"} <= set(by_id[cid].comparable_on)
        assert by_id[cid].tolerance.kind == "precision"
        assert "109.48" not in by_id[cid].tolerance.rationale  # a rationale never cites the measured value
    assert [a.value for a in by_id["glue.bert_base.mnli"].alternatives] == [84.7]


def test_the_config_kinds_measure_the_architecture(tmp_path: Path) -> None:
    records = [
        claim(
            "arch.layers",
            value=2,
            unit="count",
            precision=1,
            measure={"kind": "config_value", "model": "tiny", "key": "num_hidden_layers"},
        ),
        claim(
            "arch.pooler",
            value=0,
            unit="parameters",
            precision=1,
            measure={"kind": "module_parameters", "model": "tiny", "module": "pooler"},
        ),
        claim(
            "arch.token_types",
            value=64,
            unit="parameters",
            precision=1,
            measure={"kind": "module_parameters", "model": "tiny", "module": "token_type_embeddings"},
        ),
    ]
    results = run(tmp_path, records, {})
    assert results["arch.layers"].measured == 2 and results["arch.layers"].verdict == "REPRODUCED"
    assert results["arch.pooler"].measured == 32 * 32 + 32  # the tiny BERT has a pooler: "removed" is refuted
    assert results["arch.pooler"].verdict == "NOT_REPRODUCED"
    assert results["arch.token_types"].measured == 2 * 32 and results["arch.token_types"].verdict == "REPRODUCED"


# ---------------------------------------------------------------- a whole session: the tags and the orderings


def test_a_session_shows_synthetic_tags_and_ordering_verdicts(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FIXED_KIND)
    synthetic = {"workload": "synthetic"}
    write(
        pytester,
        claim(
            "time.big",
            value=668,
            unit="seconds",
            measure=fixed(660.0, low=650.0, high=670.0, conditions=synthetic),
            tolerance={"kind": "relative", "value": 0.5, **TOL},
        ),
        claim(
            "time.small",
            value=410,
            unit="seconds",
            measure=fixed(410.0, low=400.0, high=420.0, conditions=synthetic),
            tolerance={"kind": "relative", "value": 0.5, **TOL},
        ),
        *[
            claim(f"ablation.{n}", value=v, unit="points", measure=fixed(v, low=v - 0.1, high=v + 0.1))
            for n, v in (("ce", -2.96), ("cos", -1.46), ("mlm", -1.40))
        ],
        {**ABLATION[-1], "inequalities": ["abs(ablation.ce) > abs(ablation.cos)"]},
        {**ABLATION[-1], "id": "ablation.order_mlm", "inequalities": ["abs(ablation.cos) > abs(ablation.mlm)"]},
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--claims-out=out", "-rA")
    text = result.stdout.str()
    assert "REPRODUCED      time.big: claimed 668 seconds" in text
    assert "[SMOKE] [SYNTHETIC]" in text
    assert "REPRODUCED      ablation.order: claimed -" in text
    assert "INCONCLUSIVE    ablation.order_mlm: claimed -" in text
    data = json.loads((pytester.path / "out" / "latest" / "results.json").read_text())
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["time.big"]["synthetic"] is True and by_id["ablation.order"]["verdict"] == "REPRODUCED"
    assert by_id["ablation.order_mlm"]["details"]["inequalities"][0]["status"] == "overlaps"
