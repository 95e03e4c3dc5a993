"""Input checks shared by the statistics modules (resample, budget, power, multiplicity, granularity).

It owns the one error these pure functions raise for bad numbers, and the wording of it: which function
and argument, what was expected, what was found, and how to fix it. The statistics modules know nothing
of claims files, so "where" is the function and argument; the caller adds the claim.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from harness.core.errors import HarnessError

if TYPE_CHECKING:
    import numpy as np


class StatisticsInputError(HarnessError, ValueError):
    """A statistics function was given numbers it cannot use (empty, NaN, negative spread ...)."""

    def __init__(self, where: str, expected: str, found: str, fix: str) -> None:
        self.where = where
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(f"{where}: expected {expected}; found {found}. Fix: {fix}")


def require(condition: bool, where: str, expected: str, found: Any, fix: str) -> None:
    """Raise ``StatisticsInputError`` unless ``condition`` holds."""
    if not condition:
        raise StatisticsInputError(where, expected, repr(found) if not isinstance(found, str) else found, fix)


def finite_array(values: Any, where: str, minimum_length: int = 1, positive: bool = False) -> np.ndarray:
    """``values`` as a 1-d float array, checked: long enough, no NaN or infinity, (optionally) all > 0."""
    import numpy as np

    array = np.asarray(values, dtype=float)
    require(array.ndim == 1, where, "a 1-d sequence of numbers", f"an array of shape {array.shape}", "pass one row")
    require(
        array.size >= minimum_length,
        where,
        f"at least {minimum_length} values",
        f"{array.size}",
        "measure more values before asking for this statistic",
    )
    bad = int(np.count_nonzero(~np.isfinite(array)))
    require(bad == 0, where, "finite numbers", f"{bad} NaN or infinite value(s)", "drop or re-measure them")
    if positive:
        low = int(np.count_nonzero(array <= 0))
        require(low == 0, where, "positive numbers (times, scores > 0)", f"{low} value(s) <= 0", "check the units")
    return array


def level_value(level: float, where: str) -> float:
    """A confidence level strictly between 0 and 1."""
    require(
        isinstance(level, (int, float)) and 0.0 < float(level) < 1.0,
        where,
        "a level strictly between 0 and 1 (e.g. 0.95)",
        level,
        "pass the level as a fraction, not a percentage",
    )
    return float(level)


def non_negative(value: float, where: str, fix: str = "pass a standard deviation or half-width >= 0") -> float:
    """A finite number >= 0 (a spread, a half-width)."""
    require(
        isinstance(value, (int, float)) and math.isfinite(value) and value >= 0,
        where,
        "a finite number >= 0",
        value,
        fix,
    )
    return float(value)
