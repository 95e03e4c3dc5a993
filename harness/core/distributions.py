"""The normal and Student t distributions the verdict layer needs, without importing ``scipy.stats``.

``scipy.stats`` takes about two seconds to import on a laptop, and the plan printed at collection asks for a
few quantiles. The normal quantile is the standard library's ``statistics.NormalDist`` (Wichura's AS241,
accurate to about 1e-15), its tails ``math.erfc``; Student's t quantile comes from ``scipy.special``
(``stdtrit``), a fraction of that import. ``increasing_root`` is the bisection the power calculation solves with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

_STANDARD = NormalDist()


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z, through ``erfc`` (accurate far in the lower tail too)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_sf(x: float) -> float:
    """P(Z > x), accurate far in the upper tail."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def normal_ppf(p: float) -> float:
    """The standard normal quantile; -inf and inf at 0 and 1."""
    if p <= 0.0:
        return -math.inf if p == 0.0 else math.nan
    if p >= 1.0:
        return math.inf if p == 1.0 else math.nan
    return _STANDARD.inv_cdf(p)


def t_ppf(p: float, dof: float) -> float:
    """The quantile of Student's t with ``dof`` degrees of freedom (the normal one for infinite dof)."""
    if math.isinf(dof):
        return normal_ppf(p)
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def increasing_root(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-12) -> float:
    """The x in [lo, hi] where the non-decreasing ``f`` crosses 0, by bisection to ``tol`` (absolute).

    ``f(lo) <= 0 <= f(hi)`` is required; a ``ValueError`` says which end is wrong otherwise."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo > 0 or f_hi < 0:
        raise ValueError(f"increasing_root: f({lo}) = {f_lo} and f({hi}) = {f_hi} do not bracket 0")
    for _ in range(200):
        if hi - lo <= tol * max(1.0, abs(lo)):
            break
        mid = 0.5 * (lo + hi)
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
