"""The scipy.stats-free normal and t functions agree with scipy.stats, and the bisection finds roots."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.distributions import increasing_root, normal_cdf, normal_ppf, normal_sf, t_ppf

pytestmark = pytest.mark.fast


def test_known_quantiles() -> None:
    assert normal_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-14)
    assert t_ppf(0.975, 4) == pytest.approx(2.7764451051977987, abs=1e-12)
    assert t_ppf(0.975, math.inf) == normal_ppf(0.975)
    assert normal_ppf(0.0) == -math.inf and normal_ppf(1.0) == math.inf
    assert math.isnan(normal_ppf(1.5))


@given(st.floats(-30, 30))
def test_normal_tails_match_scipy(x: float) -> None:
    from scipy.stats import norm

    assert normal_cdf(x) == pytest.approx(float(norm.cdf(x)), rel=1e-12, abs=1e-300)
    assert normal_sf(x) == pytest.approx(float(norm.sf(x)), rel=1e-12, abs=1e-300)


@given(st.floats(1e-6, 1 - 1e-6), st.floats(1.0, 200.0))
def test_t_matches_scipy(p: float, dof: float) -> None:
    from scipy.stats import norm, t

    assert normal_ppf(p) == pytest.approx(float(norm.ppf(p)), rel=1e-12, abs=1e-12)
    assert t_ppf(p, dof) == pytest.approx(float(t.ppf(p, dof)), rel=1e-10, abs=1e-12)
    assert float(t.cdf(t_ppf(p, dof), dof)) == pytest.approx(p, rel=1e-9)


def test_increasing_root() -> None:
    assert increasing_root(lambda x: x * x - 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2.0), abs=1e-11)
    with pytest.raises(ValueError, match="do not bracket 0"):
        increasing_root(lambda x: x + 5.0, 0.0, 1.0)


def test_verdict_layer_does_not_import_scipy_stats() -> None:
    """The plan printed at collection computes powers and coverage factors: scipy.stats must stay unimported."""
    code = (
        "import sys; from harness.verdict.power import band_power, minimum_detectable_deviation;"
        "from harness.verdict.budget import Budget;"
        "band_power(90.0, 89.0, 91.0, 0.3); minimum_detectable_deviation(0.3, 1.0);"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
