"""Statistics: bootstrap replicates and percentile intervals.

Every uncertain measurement carries ``N_REPLICATES`` bootstrap replicates, so that a derived claim
(a ratio, a macro average) gets its interval by evaluating its formula replicate by replicate. Paired
measurements share resampled indices, so the pairing is kept in the derived interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

N_REPLICATES = 2000
LEVEL = 0.95


def rng(seed: int = 0) -> np.random.Generator:
    """The harness's random generator: seeded, so that intervals are repeatable run to run."""
    import numpy as np

    return np.random.default_rng(seed)


def bootstrap_indices(n: int, generator: np.random.Generator, replicates: int = N_REPLICATES) -> np.ndarray:
    """A ``(replicates, n)`` matrix of resampled indices; reuse it for paired samples."""
    if n < 1:
        raise ValueError("cannot bootstrap an empty sample")
    return generator.integers(0, n, size=(replicates, n))


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile bootstrap interval of ``replicates`` at ``level``."""
    import numpy as np

    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(np.asarray(replicates, dtype=float), [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def mean_replicates(samples: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Bootstrap replicates of the mean of ``samples`` for the given resampled indices."""
    import numpy as np

    return np.asarray(samples, dtype=float)[indices].mean(axis=1)
