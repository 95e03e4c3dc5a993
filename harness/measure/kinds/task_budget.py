"""The uncertainty budget of a task score (issue 11, item 1).

- Several seeds run here: the two-level bootstrap (seeds x examples, ``resample.add_seed_effects`` on the
  per-seed replicates over the same resampled examples). The budget shows two Type A components: the
  examples (the spread of the level-1 aggregate) and the seeds (what level 2 adds, with S - 1 dof).
- One seed (a published checkpoint, a one-seed recipe): the examples' bootstrap (Type A) and the seed SD
  declared in ``[uncertainty.seed_sd]`` (Type B, with its source). The replicates get independent normal
  draws of that SD, so formulas over this score (macros, gaps, retention ratios) carry it. With none
  declared the score is at best INCONCLUSIVE, and the result says why.
- The claimed value is itself a median of N seeds (its ``statistic`` condition says so) and a seed SD is
  declared: its own seed noise, sd x sqrt(f_N / N) (f_N the median's variance factor), is a Type B
  component of the comparison.

The interval the verdict uses is the budget's expanded interval (value +- k u_c, k from Welch-Satterthwaite).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from harness.spec import Claim
from harness.verdict.budget import SEED_COMPONENT, Budget, Component, median_variance_factor

if TYPE_CHECKING:
    import numpy as np

    from harness.spec.uncertainty import SeedSD

EXAMPLES_SOURCE = "bootstrap over the evaluation examples (2,000 replicates)"
_MEDIAN_OF = re.compile(r"median of (\d+)")


@attrs.frozen(eq=False)
class TaskBudget:
    """A task score's budget, the replicates that carry it, and why it cannot show REPRODUCED (or None)."""

    budget: Budget
    replicates: np.ndarray
    at_best_inconclusive: str | None


def seeds_budget(per_seed_replicates: np.ndarray, points: Sequence[float], aggregate: str, rng_seed: int) -> TaskBudget:
    """Several seeds: ``per_seed_replicates[s]`` are seed s's replicates over the same resampled examples."""
    import numpy as np

    from harness.core.resample import add_seed_effects
    from harness.core.stats import rng

    table = np.asarray(per_seed_replicates, dtype=float).T  # (replicates, seeds)
    combine = np.median if aggregate == "median" else np.mean
    level1 = combine(table, axis=1)
    reps = add_seed_effects(table, points, "median" if aggregate == "median" else "mean", rng(rng_seed))
    u_examples = float(level1.std(ddof=1))
    u_seeds = float(np.sqrt(max(0.0, float(reps.var(ddof=1)) - u_examples**2)))
    seeds = len(points)
    budget = Budget(
        (
            Component("examples", "A", u_examples, EXAMPLES_SOURCE + f", {aggregate} over {seeds} seeds"),
            Component(
                SEED_COMPONENT,
                "A",
                u_seeds,
                f"the spread of the {seeds} seeds run here (two-level bootstrap, seeds x examples)",
                dof=seeds - 1,
            ),
        )
    )
    return TaskBudget(budget, reps, None)


def one_seed_budget(replicates: np.ndarray, declared: SeedSD | None, task: str, model: str) -> TaskBudget:
    """One seed: the examples' bootstrap plus the declared seed SD (as a fraction), or the missing flag."""
    import numpy as np

    from harness.core.stats import rng

    u_examples = float(np.std(replicates, ddof=1))
    examples = Component("examples", "A", u_examples, EXAMPLES_SOURCE)
    if declared is None:
        reason = (
            f"one fine-tuning seed and no seed SD declared for {task} in [uncertainty.seed_sd]: the interval "
            "leaves out the run-to-run spread, so this evidence can be at best INCONCLUSIVE (declare a cited "
            "seed SD, or run the recipe with several seeds)"
        )
        return TaskBudget(Budget((examples,), seed_component_missing=True), replicates, reason)
    sd = declared.in_base()
    seed = Component(SEED_COMPONENT, "B", sd, f"declared: {declared.source} ({declared.value:g} {declared.unit})")
    draws = rng(zlib.crc32(f"seed-sd {task} {model}".encode())).normal(0.0, sd, size=replicates.shape)
    return TaskBudget(Budget((examples, seed)), replicates + draws, None)


def median_count(statistic: object) -> int | None:
    """N of a ``statistic`` condition that reads "median of N ..." (N >= 1), else None."""
    match = _MEDIAN_OF.search(str(statistic or ""))
    return None if match is None or int(match.group(1)) < 1 else int(match.group(1))


def claimed_median_component(claim: Claim, declared: SeedSD | None) -> Component | None:
    """The paper's own median of N seeds as a Type B component, where N is stated and a seed SD declared."""
    count = median_count(claim.conditions.get("statistic"))
    if declared is None or count is None:
        return None
    sd = declared.in_base() * (median_variance_factor(count) / count) ** 0.5
    return Component(
        "claimed median",
        "B",
        sd,
        f"the claimed value is a median of {count} seeds: declared seed SD x sqrt(f/{count}) ({declared.source})",
    )
