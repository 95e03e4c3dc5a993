"""Formulas of derived claims: parsing, evaluation on floats, intervals and replicates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.spec.formula import Formula, FormulaError, Interval

pytestmark = pytest.mark.fast


def test_dotted_ids_are_names_in_order_of_first_use() -> None:
    f = Formula.parse("1 - params.small / params.large_model + params.small")
    assert f.names == ("params.small", "params.large_model")
    assert f.evaluate({"params.small": 66.0, "params.large_model": 110.0}) == pytest.approx(1 - 0.6 + 66.0)


def test_mean_min_max_abs() -> None:
    values = {"a.x": 1.0, "a.y": 4.0, "a.z": -7.0}
    assert Formula.parse("mean(a.x, a.y, a.z)").evaluate(values) == pytest.approx(-2 / 3)
    assert Formula.parse("min(a.x, a.y)").evaluate(values) == 1.0
    assert Formula.parse("max(a.x, a.y)").evaluate(values) == 4.0
    assert Formula.parse("abs(a.z)").evaluate(values) == 7.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "unknown function"),
        ("a.b ** 2", "is not allowed"),
        ("a.b if a.c else 1", "is not allowed"),
        ("'text'", "is not allowed"),
        ("lambda: 1", "is not allowed"),
        ("a.b < 1", "is not allowed"),
        ("a.b[0]", "is not allowed"),
        ("mean()", "needs at least one argument"),
        ("abs(a.b, a.c)", "exactly one argument"),
        ("1 +", "not a valid expression"),
        ("a.b.__class__()", "is not allowed"),
    ],
)
def test_disallowed_formulas_are_rejected_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        Formula.parse(text)


def test_interval_arithmetic_bounds_a_ratio_and_a_mean() -> None:
    ratio = Formula.parse("a.x / a.y").evaluate({"a.x": Interval(76.95, 77.05), "a.y": Interval(79.45, 79.55)})
    assert ratio.lo == pytest.approx(76.95 / 79.55) and ratio.hi == pytest.approx(77.05 / 79.45)
    mean = Formula.parse("mean(a.x, a.y)").evaluate({"a.x": Interval(1, 2), "a.y": Interval(3, 5)})
    assert (mean.lo, mean.hi) == (2.0, 3.5)


def test_interval_division_by_an_interval_around_zero_is_unbounded() -> None:
    got = Interval(1, 2) / Interval(-1, 1)
    assert got.lo == float("-inf") and got.hi == float("inf")


def test_replicates_are_evaluated_elementwise_with_constants_broadcast() -> None:
    reps = {"t.a": np.array([2.0, 4.0, 6.0]), "t.b": 2.0}
    assert list(Formula.parse("t.a / t.b").evaluate(reps)) == [1.0, 2.0, 3.0]
    assert list(Formula.parse("max(t.a, t.b * 2)").evaluate(reps)) == [4.0, 4.0, 6.0]


intervals = st.tuples(st.floats(-100, 100), st.floats(0, 10)).map(lambda t: Interval(t[0], t[0] + t[1]))


@given(
    x=intervals,
    y=intervals,
    tx=st.floats(0, 1),
    ty=st.floats(0, 1),
    op=st.sampled_from(["a.x + a.y", "a.x - a.y", "a.x * a.y", "mean(a.x, a.y)", "abs(a.x - a.y)"]),
)
def test_interval_evaluation_contains_every_point_evaluation(
    x: Interval, y: Interval, tx: float, ty: float, op: str
) -> None:
    f = Formula.parse(op)
    px, py = x.lo + tx * (x.hi - x.lo), y.lo + ty * (y.hi - y.lo)
    point = f.evaluate({"a.x": px, "a.y": py})
    box = f.evaluate({"a.x": x, "a.y": y})
    assert box.lo - 1e-9 * (1 + abs(point)) <= point <= box.hi + 1e-9 * (1 + abs(point))
