"""The uncertainty budget of a reported task score: the budget the harness gives its own one-seed evidence.

A report gives a score without its predictions, so its examples' component is the sampling approximation
of the claim's metric from the evaluation split's size n at the reported value (``harness.verdict.sampling``,
the one the harness's plan uses before measuring: binomial for accuracy, the correlation form for MCC).
The seed component is the SD declared in the claims file's ``[uncertainty.seed_sd]`` (Type B): as is for
one run, ``sd x sqrt(f_N / N)`` for a reported median of N; the paper's own median of N is a component too
(``claimed_median_component``), exactly as for the harness's own measurements. With no declared seed SD the
budget says ``seed_component_missing`` and the number can be at best INCONCLUSIVE.

A number's ``statistic`` condition says what it is; a report that states none is read as one run (the
reading of a bare score; the audit says it assumed so). Normal replicates of the combined uncertainty
(fixed seed per number) let formulas over reported numbers carry it: a number the report derives (a gap, a
retention) gets its formula evaluated over its components' replicates (``derived_budget``). The components
are drawn independently: without the predictions two models scored on the same examples cannot be paired, so
a derived difference or ratio gets a wider (conservative) interval than the harness's own paired one.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from harness.measure.kinds.task_budget import claimed_median_component, median_count
from harness.report.replications import Replication, ReportedNumber
from harness.spec import Claim, ClaimsFile
from harness.spec.units import convert, from_base, to_base
from harness.verdict.budget import SEED_COMPONENT, Budget, Component, median_variance_factor
from harness.verdict.sampling import metric_standard_uncertainty

if TYPE_CHECKING:
    import numpy as np

ONE_RUN = "one run"


@attrs.frozen
class TaskOf:
    """What a task-score claim is scored on: the task, its metric and the evaluation split's size."""

    task: str
    metric: str
    examples: int


@attrs.frozen(eq=False)
class ReportedBudget:
    """A reported score's budget (in the number's unit), its interval and replicates, and what it is."""

    budget: Budget
    interval: tuple[float, float]
    replicates: np.ndarray
    at_best_inconclusive: str | None
    #: what the number is (None for a number the report derives by a formula)
    statistic: str | None = None
    statistic_assumed: bool = False
    #: the task score it is (None for a derived number)
    scored: TaskOf | None = None


def task_of(claim: Claim) -> TaskOf | None:
    """The task, metric and split size of a task-score claim, or None (another kind, an unknown split size)."""
    from harness.ml.tasks import EVAL_EXAMPLES

    if claim.measure is None or claim.measure.kind != "task_score" or claim.metric is None:
        return None
    task = str(claim.measure.params.get("task"))
    examples = EVAL_EXAMPLES.get(task)
    return None if examples is None else TaskOf(task, claim.metric.name, examples)


def statistic_of(number: ReportedNumber) -> tuple[str, bool]:
    """What the number is (its ``statistic`` condition, else one run) and whether that was assumed."""
    stated = number.conditions.get("statistic")
    if stated is None:
        return ONE_RUN, True
    return str(stated), "statistic" in number.assumed


def reported_budget(number: ReportedNumber, claim: Claim, claims_file: ClaimsFile) -> ReportedBudget | None:
    """The budget of ``number`` as evidence about the task-score ``claim``; None for other claims."""
    from harness.core.stats import N_REPLICATES, rng

    scored = task_of(claim)
    if scored is None:
        return None
    base = float(to_base(number.value, number.unit))
    sampling = metric_standard_uncertainty(scored.metric, base, scored.examples)
    if sampling is None:
        return None
    sd, how = sampling
    statistic, assumed = statistic_of(number)
    split = "; the split is assumed by the auditor" if "split" in number.assumed else ""
    components = [
        Component(
            "examples",
            "B",
            sd,
            f"{how} at the reported value, {scored.metric}{split}; the report gives no predictions to bootstrap",
        )
    ]
    declared = claims_file.seed_sd.get(scored.task)
    reason = None
    if declared is None:
        reason = (
            f"the report's number is {statistic} and no seed SD is declared for {scored.task} in "
            f"[uncertainty.seed_sd] of {claims_file.path}: the interval from the split size leaves out the "
            "run-to-run spread, so this number can be at best INCONCLUSIVE, like the harness's own one-seed "
            "evidence (declare a cited seed SD)"
        )
    else:
        count = median_count(statistic) or 1
        factor = 1.0 if count == 1 else median_variance_factor(count) / count
        what = ONE_RUN if count == 1 else f"a median of {count} seeds: x sqrt(f/{count})"
        components.append(
            Component(
                SEED_COMPONENT,
                "B",
                declared.in_base() * math.sqrt(factor),
                f"declared: {declared.source} ({declared.value:g} {declared.unit}), for {what}",
            )
        )
    claimed = claimed_median_component(claim, declared)
    if claimed is not None:
        components.append(claimed)
    budget = Budget(tuple(components), seed_component_missing=declared is None).scaled(
        convert(1.0, "ratio", number.unit)
    )
    u = budget.combined_standard_uncertainty()
    draws = rng(zlib.crc32(f"audit {number.id}".encode())).normal(number.value, u, size=N_REPLICATES)
    return ReportedBudget(budget, budget.expanded_interval(number.value), draws, reason, statistic, assumed, scored)


def derived_budget(
    number: ReportedNumber, replication: Replication, budgets: Mapping[str, ReportedBudget]
) -> ReportedBudget | None:
    """A number the report derives (a gap, a retention): its formula over the replicates of the components that
    have a budget (quotes of the paper and exact counts are constants), centred on the stated value."""
    import numpy as np

    from harness.core.stats import percentile_interval

    if number.formula is None:
        return None
    uncertain = [n for n in number.formula.names if n in budgets]
    if not uncertain:
        return None
    points: dict[str, float] = {}
    draws: dict[str, Any] = {}
    for name in number.formula.names:
        item = replication.item(name)
        if item.value is None or item.unit is None:
            return None
        points[name] = float(to_base(item.value, item.unit))
        draws[name] = to_base(budgets[name].replicates, item.unit) if name in budgets else points[name]
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            centre = float(from_base(number.formula.evaluate(points), number.unit))
            replicates = np.asarray(from_base(number.formula.evaluate(draws), number.unit), dtype=float)
    except (ZeroDivisionError, ValueError, OverflowError):
        return None
    if not np.isfinite(replicates).all() or not math.isfinite(centre):
        return None
    replicates = replicates - centre + number.value
    lo, hi = percentile_interval(replicates)
    parts = [budgets[n] for n in uncertain]
    budget = Budget.propagated(
        replicates,
        f"the report's formula {number.formula.text} over the replicates of {', '.join(uncertain)}",
        seed_component_missing=any(b.budget.seed_component_missing for b in parts),
    )
    reasons = [f"{n}: {budgets[n].at_best_inconclusive}" for n in uncertain if budgets[n].at_best_inconclusive]
    interval = (min(lo, number.value), max(hi, number.value))
    return ReportedBudget(budget, interval, replicates, "; ".join(reasons) or None)


def number_budgets(
    replication: Replication, claims_file: ClaimsFile, claims: Mapping[str, Claim]
) -> dict[str, ReportedBudget]:
    """The budget of every reported number that has one: task scores, then the numbers derived from them."""
    out: dict[str, ReportedBudget] = {}
    for number in replication.numbers:
        claim = claims.get(str(number.claim))
        shaped = None if claim is None else reported_budget(number, claim, claims_file)
        if shaped is not None:
            out[number.id] = shaped

    def derive(number: ReportedNumber) -> None:  # components first (the loader refuses cycles)
        assert number.formula is not None
        for name in number.formula.names:
            item = replication.item(name)
            if isinstance(item, ReportedNumber) and item.formula is not None and item.id not in out:
                derive(item)
        shaped = derived_budget(number, replication, out)
        if shaped is not None:
            out[number.id] = shaped

    for number in replication.numbers:
        if number.formula is not None and number.id not in out:
            derive(number)
    return out
