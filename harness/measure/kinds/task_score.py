"""Task scores (``kind = "task_score"``): a model's score on a GLUE task, IMDb or SQuAD v1.1.

Two evidence paths, chosen by ``--claims-task-evidence`` (``Options.task_evidence``) and always recorded in
``evidence["path"]``:

- ``published``: evaluate the published fine-tuned checkpoint named in ``[models.<m>.finetuned]`` for the
  task, found in ``--claims-models-dir`` or the Hugging Face cache (never downloaded);
- ``finetune``: fine-tune the model's base checkpoint with the claim's ``recipe`` (every seed; the score
  is the recipe's aggregate, e.g. the median of 5 seeds) through the fine-tuned model cache;
- ``auto`` (default): published when that checkpoint is here, else fine-tune.

Every score carries bootstrap replicates over the evaluation examples (paired across models on the same
task), so derived claims (macro averages, retention ratios, gaps) get intervals through their formulas; the
spread over seeds is in ``details``. ``smoke = true`` in ``[claims.measure]`` declares that the model is a
tiny stand-in (tests): its results are labelled smoke evidence. It is never inferred; instead a checkpoint
whose architecture differs from ``[models.<m>.config]`` is refused unless the claim says ``smoke = true``.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from harness.core.errors import MeasurementError, NotRunError
from harness.measure.kinds.task_evidence import Run, gather_run
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.ml import data
from harness.spec import Claim, Scalar

if TYPE_CHECKING:
    from harness.ml.data import Task


#: metrics that make sense for each kind of task
KIND_METRICS = {
    "classification": ("accuracy", "f1", "matthews_correlation", "acc_and_f1"),
    "regression": ("pearson", "spearman", "pearson_spearman_mean"),
    "squad": ("exact_match", "squad_f1"),
}


@register("task_score", required=("model", "task"), optional=("recipe", "smoke"), markers=("task",))
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
    run = context.cached(
        ("task-run", context.file.path, spec.name, task.name, recipe_name, smoke),
        lambda: gather_run(context, spec, task, recipe_name, smoke),
    )
    return _score(run, metric, task)


#: splits whose labels a benchmark keeps private: scores on them are NOT_RUN, never an error
PRIVATE_SPLITS = ("test", "test_matched", "test_mismatched")


def check_task_claim(claim: Claim, task: Task) -> str:
    """The claim's metric name, when it suits the task and split; ``MeasurementError`` otherwise (also run at
    collection by ``harness.measure.checks``). A test split of a benchmark with private labels is fine here."""
    if claim.metric is None:
        raise MeasurementError(f"{claim.id}: a task_score claim needs a [claims.metric] table (name, split)")
    if claim.metric.name not in KIND_METRICS[task.kind]:
        raise MeasurementError(
            f"{claim.id}: metric {claim.metric.name!r} does not apply to {task.name} "
            f"({task.kind}); use one of {', '.join(KIND_METRICS[task.kind])}"
        )
    if claim.metric.split != task.eval_split and not (
        task.name.startswith("glue/") and claim.metric.split in PRIVATE_SPLITS
    ):
        raise MeasurementError(
            f"{claim.id}: metric.split {claim.metric.split!r}: the harness scores {task.name} on "
            f"its {task.eval_split!r} split"
            + (" (a GLUE test split is allowed: it is NOT_RUN)" if task.name.startswith("glue/") else "")
        )
    return claim.metric.name


def _metric(claim: Claim, task: Task) -> str:
    name = check_task_claim(claim, task)
    assert claim.metric is not None
    if task.name.startswith("glue/") and claim.metric.split in PRIVATE_SPLITS:
        raise NotRunError(
            f"{task.name} {claim.metric.split} split: its labels are not public (the GLUE server scores test "
            "predictions)",
            f"submit predictions to https://gluebenchmark.com; a claim on the {task.eval_split!r} split is "
            "measured here",
        )
    return name


# ---------------------------------------------------------------- the score and its interval


def _score(run: Run, metric: str, task: Task) -> Measurement:
    import numpy as np

    from harness.core.stats import percentile_interval
    from harness.ml import metrics

    seed = zlib.crc32(task.name.encode())  # same resampling for every model on this task: paired
    values = [metrics.compute(metric, p, run.references) for p in run.predictions]
    replicates = np.stack([metrics.bootstrap(metric, p, run.references, seed) for p in run.predictions])
    if run.aggregate == "mean":
        value, reps = float(np.mean(values)), replicates.mean(axis=0)
    else:  # median; single is the median of one
        value, reps = float(np.median(values)), np.median(replicates, axis=0)
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
    family = task.name.split("/")[0]
    conditions: dict[str, Scalar] = {
        "dataset": f"{task.name} ({family})" if family != task.name else task.name,
        "split": task.eval_split,
        "examples": len(run.references),
        "statistic": run.statistic,
        "device": run.runtime.device,
    }
    return Measurement(
        value,
        "ratio",
        interval=percentile_interval(reps),
        replicates=reps,
        conditions=conditions,
        evidence=run.evidence,
        details=details,
    )
