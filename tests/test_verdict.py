"""The verdict engine, with exact numbers: bands, decisions, consistency, conditions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.verdict import Band, Verdict, band, condition_matches, decide, deviation, unjudgeable

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("kind", "width", "precision", "expected"),
    [
        ("absolute", 1.0, 0.1, Band(78.5, 80.5)),
        ("relative", 0.01, 1.0, Band(108.9, 111.1)),
        ("precision", 0.0, 0.1, Band(79.45, 79.55)),
        ("lower_bound", 0.05, 0.1, Band(79.45, math.inf)),
        ("upper_bound", 0.5, 0.1, Band(-math.inf, 80.0)),
    ],
)
def test_band_of_each_tolerance_kind(kind: str, width: float, precision: float, expected: Band) -> None:
    value = 110.0 if kind == "relative" else 79.5
    got = band(value, kind, width, precision)
    assert got.lo == pytest.approx(expected.lo) and got.hi == pytest.approx(expected.hi)


def test_relative_band_of_a_negative_value_is_not_inverted() -> None:
    b = band(-2.96, "relative", 0.1, 0.01)
    assert b.lo == pytest.approx(-3.256) and b.hi == pytest.approx(-2.664)


def test_unknown_tolerance_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown tolerance kind"):
        band(1.0, "relativ", 0.1, 0.1)


def test_point_inside_outside_and_on_the_edge() -> None:
    b = Band(65.5, 66.5)
    assert decide(b, 66.362880).verdict is Verdict.REPRODUCED
    assert decide(b, 66.5).verdict is Verdict.REPRODUCED  # edges are inclusive
    assert decide(b, 66.51).verdict is Verdict.NOT_REPRODUCED
    assert decide(b, 65.49).verdict is Verdict.NOT_REPRODUCED


def test_float_noise_at_an_edge_does_not_decide() -> None:
    b = band(1.6, "lower_bound", 0.05, 0.1)  # 1.6 - 0.05 = 1.5500000000000000444
    assert decide(b, 1.55).verdict is Verdict.REPRODUCED


def test_interval_inside_straddling_and_outside() -> None:
    b = Band(1.55, math.inf)
    assert decide(b, 1.9, (1.85, 1.95)).verdict is Verdict.REPRODUCED
    inconclusive = decide(b, 1.56, (1.50, 1.62))
    assert inconclusive.verdict is Verdict.INCONCLUSIVE
    assert "straddles" in inconclusive.reason
    assert decide(b, 1.40, (1.35, 1.45)).verdict is Verdict.NOT_REPRODUCED


@pytest.mark.parametrize(
    ("value", "interval", "why"),
    [
        (math.nan, None, "not a number"),
        (math.inf, None, "infinite"),
        (-math.inf, None, "infinite"),
        (0.5, (math.nan, math.nan), "not a number"),
        (0.5, (0.4, math.inf), "unbounded"),
        (0.5, (0.6, 0.4), "lo > hi"),
    ],
)
def test_a_nan_or_infinite_measurement_is_never_judged(
    value: float, interval: tuple[float, float] | None, why: str
) -> None:
    assert why in str(unjudgeable(value, interval))
    with pytest.raises(ValueError, match="not judged"):
        decide(Band(0, 1), value, interval)
    assert unjudgeable(0.5, (0.4, 0.6)) is None and unjudgeable(0.5) is None


def test_deviation_in_unit_and_in_tolerance_widths() -> None:
    d, widths = deviation(110.0, 109.48224, band(110.0, "relative", 0.01, 1.0))
    assert d == pytest.approx(-0.51776)
    assert widths == pytest.approx(-0.51776 / 1.1)
    _, one_sided = deviation(1.6, 1.9, band(1.6, "lower_bound", 0.05, 0.1))
    assert math.isnan(one_sided)


@pytest.mark.parametrize(
    ("claimed", "measured", "matches"),
    [
        # exact after normalisation: a longer string holding the claimed words is another value (synonyms: below)
        ("Intel Xeon E5-2690 v3", "Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz", False),
        ("Intel Xeon E5-2690 v3", "intel(R)  XEON E5-2690 v3 ", True),
        ("Intel Xeon E5-2690 v3", "AMD EPYC 7B13 64-Core Processor", False),
        ("glue/stsb", "synthetic lengths (stand-in for glue/stsb)", False),
        ("cpu", "cpu | cuda", False),
        ("cpu", "cpu", True),
        ("cpu", "cuda", False),
        (1, 1, True),
        (1, 1.0, True),
        (1, 8, False),
        ("glue/stsb", "glue/stsb", True),
        ("validation", None, False),
        (True, 1, False),
    ],
)
def test_condition_matching(claimed: object, measured: object, matches: bool) -> None:
    assert condition_matches(claimed, measured) is matches  # type: ignore[arg-type]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
widths = st.floats(min_value=0.0, max_value=1e3, allow_nan=False)


@given(
    value=finite,
    measured=finite,
    half=st.floats(min_value=0.0, max_value=10.0),
    w1=widths,
    w2=widths,
    kind=st.sampled_from(["absolute", "lower_bound", "upper_bound"]),
)
def test_widening_a_tolerance_never_turns_reproduced_into_not_reproduced(
    value: float, measured: float, half: float, w1: float, w2: float, kind: str
) -> None:
    narrow, wide = sorted((w1, w2))
    interval = (measured - half, measured + half)
    before = decide(band(value, kind, narrow, 0.1), measured, interval).verdict
    after = decide(band(value, kind, wide, 0.1), measured, interval).verdict
    if before is Verdict.REPRODUCED:
        assert after is Verdict.REPRODUCED
    if before is Verdict.INCONCLUSIVE:
        assert after is not Verdict.NOT_REPRODUCED


@given(
    lo=finite,
    span=st.floats(min_value=0.0, max_value=1e3),
    measured=finite,
    half=st.floats(min_value=0.0, max_value=10.0),
)
def test_a_point_verdict_agrees_with_a_zero_width_interval(
    lo: float, span: float, measured: float, half: float
) -> None:
    b = Band(lo, lo + span)
    assert decide(b, measured).verdict is decide(b, measured, (measured, measured)).verdict
    # widening the measurement's interval can only make it less certain, never flip a decision
    wide = decide(b, measured, (measured - half, measured + half)).verdict
    point = decide(b, measured).verdict
    assert wide in (point, Verdict.INCONCLUSIVE)
