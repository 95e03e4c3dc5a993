"""Task scores (``kind = "task_score"``): a model's score on a GLUE task, IMDb or SQuAD v1.1.

Two evidence paths, chosen by ``--claims-task-evidence`` (``Options.task_evidence``) and always recorded in
``evidence["path"]``:

- ``published``: evaluate the published fine-tuned checkpoint named in ``[models.<m>.finetuned]`` for the
  task, found in ``--claims-models-dir`` or the Hugging Face cache (never downloaded);
- ``finetune``: fine-tune the model's base checkpoint with the claim's ``recipe`` (every seed; the score
  is the recipe's aggregate, e.g. the median of 5 seeds) through the fine-tuned model cache;
- ``auto`` (default): published when that checkpoint is here, else fine-tune.

Every score carries an uncertainty budget (``task_budget``: the examples, the seeds run here or the declared
seed SD of one run, the paper's own median of N) whose expanded interval the verdict uses, and replicates
over the evaluation examples (paired across models on the same task) that carry the same components, so
derived claims (macro averages, retention ratios, gaps) get intervals through their formulas.
``smoke = true`` in ``[claims.measure]`` declares that the model is a
tiny stand-in (tests): its results are labelled smoke evidence. It is never inferred; instead a checkpoint
whose architecture differs from ``[models.<m>.config]`` is refused unless the claim says ``smoke = true``.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from harness.core.errors import ClaimError, MeasurementError, NotRunError, did_you_mean
from harness.measure.kinds.task_budget import claimed_median_component, one_seed_budget, seeds_budget
from harness.measure.kinds.task_evidence import Run, gather_run
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.ml import data
from harness.ml.recipes import RecipeError, recipe
from harness.ml.tasks import EVALUATED_KINDS
from harness.spec import Claim, ClaimsFile, Scalar

if TYPE_CHECKING:
    from harness.ml.data import Task
    from harness.spec.uncertainty import SeedSD


#: metrics that make sense for each kind of task
KIND_METRICS = {
    "classification": ("accuracy", "f1", "matthews_correlation", "acc_and_f1"),
    "regression": ("pearson", "spearman", "pearson_spearman_mean"),
    "squad": ("exact_match", "squad_f1"),
    "squad_v2": ("squad_v2_exact", "squad_v2_f1", "has_ans_exact", "has_ans_f1", "no_ans_exact", "no_ans_f1"),
    "multiple_choice": ("accuracy",),
}


def check_task_claim(claim: Claim, declared: ClaimsFile) -> None:
    """At load: the task is known, ``smoke`` is a boolean, the metric fits the task, the recipe resolves for it."""
    assert claim.measure is not None
    params = claim.measure.params

    def error(field: str, expected: str, found: str, fix: str) -> ClaimError:
        return ClaimError(claim.path, claim.id, field, expected, found, fix)

    name = params["task"]
    if not isinstance(name, str) or name not in data.TASKS:
        raise error(
            "measure.task",
            "one of " + ", ".join(data.TASKS),
            repr(name),
            "use one of those." + (did_you_mean(name, data.TASKS) if isinstance(name, str) else ""),
        )
    task = data.TASKS[name]
    if not isinstance(params.get("smoke", False), bool):
        raise error("measure.smoke", "true or false", repr(params["smoke"]), "write smoke = true or remove it")
    try:
        _check_metric(claim, task)
    except MeasurementError as exc:
        raise error(
            "metric", f"a metric of {task.name} on its evaluation split", str(exc), "correct [claims.metric]"
        ) from None
    recipe_name = params.get("recipe")
    if recipe_name is None:
        return
    try:
        recipe(declared.recipes, recipe_name, task)
    except RecipeError as exc:
        raise error(f"recipes.{exc.recipe}.{exc.key}", exc.expected, exc.found, exc.fix) from None
    except MeasurementError as exc:
        raise error(
            f"recipes.{recipe_name}", f"a recipe that resolves for {task.name}", str(exc), "correct it"
        ) from None


@register(
    "task_score",
    required=("model", "task"),
    optional=("recipe", "smoke"),
    markers=("task",),
    check=check_task_claim,
)
def task_score(claim: Claim, context: Context) -> Measurement:
    """The claim's metric of the model on the task's evaluation split, with a bootstrap interval."""
    assert claim.measure is not None
    params = claim.measure.params
    spec = context.file.models[params["model"]]
    task = data.task(str(params["task"]))
    metric = _metric(claim, task)
    smoke = params.get("smoke", False)
    if not isinstance(smoke, bool):
        raise MeasurementError(f"{claim.id}: measure.smoke must be true or false, not {smoke!r}")
    recipe_name = params.get("recipe")
    if task.kind not in EVALUATED_KINDS:
        raise _not_evaluated(task, context)
    run = context.cached(
        ("task-run", context.file.path, spec.name, task.name, recipe_name, smoke),
        lambda: gather_run(context, spec, task, recipe_name, smoke, claim),
    )
    return _score(run, metric, task, claim, context.file.seed_sd.get(task.name), spec.name)


#: what the harness's evaluation would have to predict for a task kind it does not evaluate yet
MISSING_EVALUATION = {
    "squad_v2": "no-answer predictions (an answer span or the empty string, by a null-score threshold)",
    "multiple_choice": "a choice among each question's options (a multiple-choice head over the options)",
}


def _not_evaluated(task: Task, context: Context) -> NotRunError:
    """NOT_RUN for a task the harness knows (its claims load, its metric is implemented) but cannot evaluate a
    model on yet: it names the data to supply and the evaluation that is missing."""
    source = data.data_source(context.options)
    where = data.data_remedy(task, ["eval"], source)
    missing = MISSING_EVALUATION.get(task.kind, f"an evaluation of {task.kind} tasks")
    return NotRunError(
        f"{task.name} is not evaluated here: it needs its {task.eval_split} data and {missing}, which the "
        "harness's evaluation does not make yet (the metric itself is implemented)",
        f"supply the data ({where}) and measure the model's predictions with the official scorer; or record "
        "the score as a replication (docs/replications-format.md)",
        {f"data {task.name}": where, f"evaluation {task.kind}": missing},
    )


#: splits whose labels a benchmark keeps private: scores on them are NOT_RUN, never an error
PRIVATE_SPLITS = ("test", "test_matched", "test_mismatched")


def _private_split(claim: Claim, task: Task) -> bool:
    """A GLUE claim on a test split (the test-server scores most papers print): its labels are not public."""
    return task.name.startswith("glue/") and claim.metric is not None and claim.metric.split in PRIVATE_SPLITS


def _check_metric(claim: Claim, task: Task) -> str:
    """The claim's metric name when it suits the task and split (a GLUE test split is allowed: it is NOT_RUN)."""
    if claim.metric is None:
        raise MeasurementError(f"{claim.id}: a task_score claim needs a [claims.metric] table (name, split)")
    if claim.metric.name not in KIND_METRICS[task.kind]:
        raise MeasurementError(
            f"{claim.id}: metric {claim.metric.name!r} does not apply to {task.name} "
            f"({task.kind}); use one of {', '.join(KIND_METRICS[task.kind])}"
        )
    if claim.metric.split != task.eval_split and not _private_split(claim, task):
        raise MeasurementError(
            f"{claim.id}: metric.split {claim.metric.split!r}: the harness scores {task.name} on "
            f"its {task.eval_split!r} split"
            + (" (a GLUE test split is allowed: it is NOT_RUN)" if task.name.startswith("glue/") else "")
        )
    return claim.metric.name


def _metric(claim: Claim, task: Task) -> str:
    """The metric to measure; ``NotRunError`` for a GLUE test split, whose labels only the GLUE server has."""
    name = _check_metric(claim, task)
    if _private_split(claim, task):
        assert claim.metric is not None
        raise NotRunError(
            f"{task.name} {claim.metric.split} split: its labels are not public (the GLUE server scores test "
            "predictions)",
            f"submit predictions to https://gluebenchmark.com; a claim on the {task.eval_split!r} split is "
            "measured here",
        )
    return name


# ---------------------------------------------------------------- the score and its interval


def _score(run: Run, metric: str, task: Task, claim: Claim, declared: SeedSD | None, model: str) -> Measurement:
    import numpy as np

    from harness.ml import metrics

    seed = zlib.crc32(task.name.encode())  # same resampling for every model on this task: paired
    values = [metrics.compute(metric, p, run.references) for p in run.predictions]
    replicates = np.stack([metrics.bootstrap(metric, p, run.references, seed) for p in run.predictions])
    if run.aggregate == "mean":
        value = float(np.mean(values))
    else:  # median; single is the median of one
        value = float(np.median(values))
    if len(values) > 1:
        shaped = seeds_budget(replicates, values, "mean" if run.aggregate == "mean" else "median", seed)
    else:
        shaped = one_seed_budget(replicates[0], declared, task.name, model)
    budget = shaped.budget
    claimed = claimed_median_component(claim, declared)
    if claimed is not None:
        budget = budget.with_component(claimed)
    details: dict[str, Any] = {
        **run.details,
        "metric": metric,
        "scale": "fraction (x100 = points)",
        "examples": len(run.references),
        "precision": run.runtime.precision,
    }
    if len(values) > 1:
        details["per_seed"] = {str(s): v for s, v in zip(run.seeds, values, strict=True)}
        details["seed_spread"] = {"min": min(values), "max": max(values), "std": float(np.std(values, ddof=1))}
    conditions: dict[str, Scalar] = {
        "dataset": task.name,
        "split": task.eval_split,
        "examples": len(run.references),
        "statistic": run.statistic,
        "device": run.runtime.device,
    }
    return Measurement(
        value,
        "ratio",
        interval=budget.expanded_interval(value),
        replicates=shaped.replicates,
        conditions=conditions,
        evidence=run.evidence,
        details=details,
        budget=budget,
        at_best_inconclusive=shaped.at_best_inconclusive,
    )
