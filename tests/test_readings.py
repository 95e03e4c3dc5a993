"""Exact-number tests of the readings: sign bands, interval validation, one-sided point comparisons,
alternatives, bound consistency, exact condition matching and the interval-aware ordering verdict."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from claimsfile import claim, claims_toml
from hypothesis import given
from hypothesis import strategies as st

from harness.spec import load
from harness.verdict import (
    Band,
    InvalidInterval,
    Side,
    Verdict,
    band,
    check_consistency,
    check_interval,
    condition_matches,
    decide,
    decide_order,
    differing_conditions,
    judge_inequality,
)
from harness.verdict.readings import alternative_decisions, point_comparison

pytestmark = pytest.mark.fast
TOL = {"rationale": "test"}


# ---------------------------------------------------------------- sign bands (Why 3: "-0.31" REPRODUCED at +0.5)


def test_a_sign_cut_makes_the_opposite_sign_not_reproduced() -> None:
    b = band(-0.31, "absolute", 1.0, 0.01, sign="negative")
    assert (b.lo, b.hi, b.strict) == (pytest.approx(-1.31), 0.0, True)
    assert decide(b, 0.5).verdict is Verdict.NOT_REPRODUCED
    assert decide(b, 0.5, (0.2, 0.8)).verdict is Verdict.NOT_REPRODUCED
    assert decide(b, -0.3, (-0.5, -0.1)).verdict is Verdict.REPRODUCED
    assert decide(b, -0.1, (-0.3, 0.2)).verdict is Verdict.INCONCLUSIVE
    # zero is not negative, whatever the float slack
    assert decide(b, 0.0).verdict is Verdict.NOT_REPRODUCED
    assert decide(b, -1e-12).verdict is Verdict.REPRODUCED
    # the non-zero edge keeps its slack: 1.6 - 0.05-style float noise does not decide
    assert b.contains(-0.31 - 1.0)


def test_a_sign_kind_band_is_the_half_line_of_the_value() -> None:
    neg, pos = band(-2.96, "sign", 0.0, 0.01), band(3.0, "sign", 0.0, 1.0)
    assert (neg.lo, neg.hi) == (-math.inf, 0.0) and (pos.lo, pos.hi) == (0.0, math.inf)
    assert neg.shown() == "(-inf, 0)" and pos.shown() == "(0, inf)"
    assert decide(neg, -0.01, (-0.02, -0.005)).verdict is Verdict.REPRODUCED
    assert decide(neg, 0.1, (0.05, 0.2)).verdict is Verdict.NOT_REPRODUCED
    with pytest.raises(ValueError, match="non-zero"):
        band(0.0, "sign", 0.0, 1.0)


def test_a_positive_cut_of_a_band_wholly_negative_accepts_nothing() -> None:
    b = band(-2.0, "absolute", 1.0, 0.1, sign="positive")
    assert not b.contains(0.0) and not b.contains(-2.0) and not b.contains(1.0)


# ---------------------------------------------------------------- interval validation (Why 9)


def test_an_inverted_interval_is_invalid() -> None:
    with pytest.raises(InvalidInterval, match=r"\[62, 58\] is inverted"):
        decide(Band(55.0, 65.0), 60.0, (62.0, 58.0))


def test_a_point_outside_its_own_interval_is_invalid() -> None:
    # the point 70 is outside the band [55, 65] while its interval [58, 62] is inside: never REPRODUCED
    with pytest.raises(InvalidInterval, match="the point 70 is outside its own interval"):
        decide(Band(55.0, 65.0), 70.0, (58.0, 62.0))
    check_interval(60.0, (60.0, 60.0))  # a zero-width interval at its point is valid
    check_interval(math.nan, (1.0, 0.0))  # NaN values are the reliability work's (an ERROR there)


@given(
    lo=st.floats(-1e3, 1e3),
    width=st.floats(0.0, 1e3),
    at=st.floats(0.0, 1.0),
    band_lo=st.floats(-1e3, 1e3),
    band_w=st.floats(0.0, 1e3),
)
def test_reproduced_means_the_point_and_its_interval_are_inside(
    lo: float, width: float, at: float, band_lo: float, band_w: float
) -> None:
    hi = lo + width
    value = lo + at * width
    b = Band(band_lo, band_lo + band_w)
    if decide(b, value, (lo, hi)).verdict is Verdict.REPRODUCED:
        assert b.contains(value) and b.contains(lo) and b.contains(hi)


# ---------------------------------------------------------------- one-sided point comparison (Why 3)


def _file(tmp_path: Path, *records: dict) -> dict:
    path = tmp_path / "c.toml"
    path.write_text(claims_toml(*records), encoding="utf-8")
    loaded = load(path)
    assert loaded.invalid == (), [str(r.error) for r in loaded.invalid]
    return {c.id: c for c in loaded.claims}


SPEED = [
    claim("speed.big", value=668, unit="seconds", precision=1),
    claim("speed.small", value=410, unit="seconds", precision=1),
    claim(
        "speed.speedup",
        value=1.6,
        precision=0.1,
        formula="speed.big / speed.small",
        tolerance={"kind": "lower_bound", "value": 0.05, **TOL},
        measure=None,
    ),
]


def test_a_one_sided_claim_shows_the_papers_own_ratio_against_the_interval(tmp_path: Path) -> None:
    claims = _file(tmp_path, *SPEED)
    speedup = claims["speed.speedup"]
    consistency = check_consistency(speedup, claims)
    b = band(1.6, "lower_bound", 0.05, 0.1)
    comparison = point_comparison(speedup, b, consistency, claims, 2.02, (1.90, 2.16))
    assert comparison is not None
    assert comparison["paper_value"] == pytest.approx(668 / 410)
    assert comparison["inside_interval"] is False
    assert comparison["text"] == "the paper's own 668 / 410 = 1.62927 is outside the measured interval [1.9, 2.16]"
    inside = point_comparison(speedup, b, consistency, claims, 1.65, (1.55, 1.75))
    assert inside is not None and inside["inside_interval"] is True
    # a two-sided band needs no such line: its band is centred on the paper's number
    assert point_comparison(speedup, band(1.6, "absolute", 0.1, 0.1), consistency, claims, 2.0, (1.9, 2.1)) is None


def test_a_declared_paper_value_is_the_point_shown(tmp_path: Path) -> None:
    claims = _file(
        tmp_path,
        claim("bound.at_least", value=1.5, paper_value=1.63, tolerance={"kind": "lower_bound", **TOL}),
    )
    c = claims["bound.at_least"]
    comparison = point_comparison(c, band(1.5, "lower_bound", 0.0, 0.1), None, claims, 1.7, (1.6, 1.8))
    assert comparison is not None and comparison["paper_value"] == 1.63 and comparison["inside_interval"] is True
    assert comparison["text"] == "the paper's own 1.63 is inside the measured interval [1.6, 1.8]"


# ---------------------------------------------------------------- alternatives and bound consistency (Why 6)


def test_each_alternative_gets_its_own_band_decision(tmp_path: Path) -> None:
    claims = _file(
        tmp_path,
        claim(
            "glue.mnli",
            value=86.7,
            unit="points",
            tolerance={"kind": "absolute", "value": 1.0, **TOL},
            alternatives=[{"value": 84.7, "source": "the authors' README"}],
        ),
    )
    (alt,) = alternative_decisions(claims["glue.mnli"], 84.6, (84.2, 85.0))
    assert alt["value"] == 84.7 and alt["verdict"] == "REPRODUCED" and alt["source"] == "the authors' README"
    assert alt["band"] == (pytest.approx(83.7), pytest.approx(85.7))
    assert decide(band(86.7, "absolute", 1.0, 0.1), 84.6, (84.2, 85.0)).verdict is Verdict.NOT_REPRODUCED


def test_a_one_sided_bound_is_consistent_when_the_sources_numbers_satisfy_it(tmp_path: Path) -> None:
    records = [
        claim("squad.big", value=81.2, unit="points"),
        claim("squad.small", value=77.7, unit="points"),
    ]

    def gap(kind: str, value: float) -> dict:
        return claim(
            "squad.gap",
            value=value,
            unit="points",
            formula="abs(squad.big - squad.small)",
            tolerance={"kind": kind, "value": 1.0, **TOL},
            measure=None,
        )

    within = _file(tmp_path, *records, gap("upper_bound", 3.9))
    result = check_consistency(within["squad.gap"], within)
    assert result is not None and result.consistent and result.recomputed == pytest.approx(3.5)
    assert "consistent with at most 3.9" in result.reason
    too_small = _file(tmp_path, *records, gap("upper_bound", 3.0))  # "within 3 points" is broken by 3.5
    result = check_consistency(too_small["squad.gap"], too_small)
    assert result is not None and not result.consistent and "which is not at most 3" in result.reason
    point = _file(tmp_path, *records, gap("absolute", 3.9))  # read as a point, 3.9 is not the table's 3.5
    result = check_consistency(point["squad.gap"], point)
    assert result is not None and not result.consistent


# ---------------------------------------------------------------- exact condition matching (Why 8)


def test_conditions_match_exactly_or_through_declared_synonyms(tmp_path: Path) -> None:
    claims = _file(
        tmp_path,
        claim(
            "speed.t",
            conditions={"cpu_model": "Intel Xeon E5-2690 v3", "dataset": "glue/stsb", "device": "cpu"},
            comparable_on=["cpu_model", "dataset", "device"],
        ),
    )
    c = claims["speed.t"]
    synonyms = {"cpu_model": {"Intel Xeon E5-2690 v3": ["Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz"]}}
    measured = {
        "cpu_model": "Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz",
        "dataset": "synthetic lengths (stand-in for glue/stsb)",
        "device": "cpu | cuda",
    }
    assert differing_conditions(c, measured, synonyms) == {
        "dataset": ("glue/stsb", "synthetic lengths (stand-in for glue/stsb)"),
        "device": ("cpu", "cpu | cuda"),
    }
    assert set(differing_conditions(c, measured)) == {"cpu_model", "dataset", "device"}  # no synonyms declared
    assert condition_matches("Intel Xeon E5-2690 v3", "INTEL(R) xeon(TM)  E5-2690 v3")
    assert not condition_matches("glue", "glue/cola")


def test_the_loader_reads_synonyms(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    text = claims_toml(claim("a.b")) + '\n[synonyms.cpu_model]\n"Intel Xeon E5-2690 v3" = ["Intel(R) Xeon(R) X"]\n'
    path.write_text(text, encoding="utf-8")
    loaded = load(path)
    assert loaded.invalid == () and loaded.synonyms == {"cpu_model": {"Intel Xeon E5-2690 v3": ("Intel(R) Xeon(R) X",)}}


# ---------------------------------------------------------------- the ordering verdict


def _side(lo: float, hi: float, origin: str = "measured") -> Side:
    return Side((lo + hi) / 2, (lo, hi), origin)


def test_an_inequality_agrees_contradicts_or_overlaps_on_intervals() -> None:
    assert judge_inequality("a > b", ">", _side(2.0, 3.0), _side(1.0, 1.9)).status == "agrees"
    assert judge_inequality("a > b", ">", _side(2.0, 3.0), _side(1.0, 2.0)).status == "overlaps"  # touching
    assert judge_inequality("a > b", ">", _side(0.0, 0.9), _side(1.0, 2.0)).status == "contradicts"
    assert judge_inequality("a < b", "<", _side(0.0, 0.9), _side(1.0, 2.0)).status == "agrees"
    # ">=" with a margin m: big.lo >= small.hi - m agrees; big.hi < small.lo - m contradicts
    assert judge_inequality("a >= b", ">=", _side(55.5, 57.0), _side(56.25, 56.35), 1.0).status == "agrees"
    assert judge_inequality("a >= b", ">=", _side(55.0, 57.0), _side(56.25, 56.35), 1.0).status == "overlaps"
    assert judge_inequality("a >= b", ">=", _side(54.0, 55.2), _side(56.25, 56.35), 1.0).status == "contradicts"
    # a margin never loosens a strict inequality
    assert judge_inequality("a > b", ">", _side(1.5, 2.0), _side(1.0, 1.9), 1.0).status == "overlaps"


def test_the_ordering_verdict_over_its_inequalities() -> None:
    agree = judge_inequality("a > b", ">", _side(2.0, 3.0), _side(1.0, 1.5))
    overlap = judge_inequality("b > c", ">", _side(1.0, 1.5), _side(1.4, 1.6))
    contradict = judge_inequality("c > d", ">", _side(0.0, 0.1), _side(0.5, 0.6))
    assert decide_order([agree, agree]).verdict is Verdict.REPRODUCED
    assert (
        decide_order([agree, agree]).reason == "2 of 2 inequalities agree on the intervals, 0 contradicted, 0 overlap"
    )
    assert decide_order([agree, overlap]).verdict is Verdict.INCONCLUSIVE
    assert decide_order([agree, overlap, contradict]).verdict is Verdict.NOT_REPRODUCED
    assert "contradicted: c > d: contradicts" in decide_order([overlap, contradict]).reason
    with pytest.raises(ValueError):
        decide_order([])
