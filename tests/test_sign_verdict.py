"""Direction claims (``sign`` in [claims.tolerance]) are decided strictly at zero: exact-number cases."""

from __future__ import annotations

import math

import pytest

from harness.verdict.bands import Verdict
from harness.verdict.ordering import sign_decision

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("sign", "value", "interval", "verdict"),
    [
        ("negative", -1.1, (-2.56, -0.37), Verdict.REPRODUCED),
        ("negative", 0.0, (0.0, 0.0), Verdict.NOT_REPRODUCED),  # no difference at all is not "lowers"
        ("negative", -0.5, (-1.0, 0.0), Verdict.INCONCLUSIVE),  # the interval's upper end touches zero
        ("negative", 1.1, (0.37, 2.56), Verdict.NOT_REPRODUCED),
        ("negative", 1.1, (-0.37, 2.56), Verdict.INCONCLUSIVE),
        ("positive", 1.1, (0.01, 2.0), Verdict.REPRODUCED),
        ("positive", 0.0, (-1.1, 1.1), Verdict.INCONCLUSIVE),
        ("positive", -0.2, (-0.4, 0.0), Verdict.NOT_REPRODUCED),
        ("positive", 0.3, None, Verdict.REPRODUCED),
        ("positive", 0.0, None, Verdict.NOT_REPRODUCED),
        ("negative", math.nan, None, Verdict.NOT_REPRODUCED),
    ],
)
def test_sign_decisions(sign, value, interval, verdict):
    assert sign_decision(sign, value, interval).verdict is verdict


def test_a_zero_interval_says_why_and_an_unknown_sign_is_refused():
    assert "zero counts as neither sign" in sign_decision("negative", 0.0, (0.0, 0.0)).reason
    with pytest.raises(ValueError, match="unknown sign"):
        sign_decision("down", -1.0)
