"""The evidence behind a task score: a published fine-tuned checkpoint, or a base checkpoint fine-tuned here.

``published``: the checkpoint named in ``[models.<m>.finetuned]`` for the task, found in ``--claims-models-dir`` or
the Hugging Face hub cache, at its pinned revision (never downloaded here: ``python -m harness fetch`` does that).
``finetune``: the model's base checkpoint fine-tuned with the claim's ``recipe`` (every seed) through the fine-tuned
model cache; a recipe with ``teacher = "<model>"`` distils the student from that teacher while fine-tuning (the
teacher is found or fine-tuned by ``harness.measure.kinds.teacher``). Both end in per-example predictions of a
``Run``, whose evidence names the checkpoint and data used (id, revision, content hash:
``harness.measure.provenance``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from harness.core.errors import MeasurementError, NotRunError
from harness.measure import provenance
from harness.measure.artifacts import TASK_EVIDENCE
from harness.measure.kinds.checkpoints import (
    check_architecture,
    checkpoint_path,
    data_revision,
    fetch_command,
    published_revision,
    task_data,
    task_runtime,
)
from harness.measure.kinds.teacher import resolve_teacher
from harness.measure.measurement import Context
from harness.ml import data
from harness.spec import Claim, ModelSpec

if TYPE_CHECKING:
    from harness.ml.data import Task, TaskData
    from harness.ml.evaluation import Runtime
    from harness.ml.recipes import Recipe

__all__ = ["TASK_EVIDENCE", "Run", "gather_run"]


@attrs.frozen
class Run:
    """Predictions of one model on one task's evaluation split: one set per seed (one for a checkpoint)."""

    predictions: tuple[Any, ...]
    references: list[Any]
    seeds: tuple[int | None, ...]
    aggregate: str
    statistic: str
    evidence: dict[str, Any]
    details: dict[str, Any]
    runtime: Runtime


# ---------------------------------------------------------------- choosing the evidence path


def gather_run(
    context: Context, spec: ModelSpec, task: Task, recipe_name: str | None, smoke: bool, claim: Claim | None = None
) -> Run:
    mode = context.options.task_evidence
    if mode not in TASK_EVIDENCE:
        raise MeasurementError(
            f"task evidence {mode!r}: expected one of {', '.join(TASK_EVIDENCE)} "
            "(--claims-task-evidence or CLAIMS_TASK_EVIDENCE)"
        )
    published_id = spec.finetuned.get(task.name)
    if not spec.released and not published_id:
        raise NotRunError(
            f"model {spec.name!r} was never released (its [models.{spec.name}] has no hub_id, or released = false), "
            f"so no weights exist to evaluate or fine-tune on {task.name}",
            "none while the authors do not publish the weights; architecture claims (parameters, FLOPs, speed) "
            "of this model still run from its config",
        )
    wanted = published_id and mode != "finetune"
    published = checkpoint_path(published_id, context, published_revision(spec, task)) if wanted else None
    tune = recipe_name and published is None and mode != "published" and spec.released
    base = checkpoint_path(spec.hub_id, context, spec.revision, spec.name) if tune else None
    recipe = _recipe(context, recipe_name, task) if recipe_name else None
    if published is None and base is None:
        missing = _missing_weights(context, spec, task, recipe, published_id, mode)
        raise NotRunError(
            missing.reason, f"{fetch_command(claim, context)} (downloads them); or {missing.remedy}", missing.needs
        )
    eval_data = task_data(context, task, "eval", claim)
    runtime = task_runtime(context)
    if published is not None:
        assert published_id is not None
        return _published(context, spec, task, recipe, published_id, published, eval_data, runtime, smoke)
    assert recipe is not None and base is not None
    return _fine_tuned(context, spec, task, recipe, base, eval_data, runtime, smoke)


def _recipe(context: Context, name: str, task: Task) -> Recipe:
    from harness.ml.recipes import recipe

    return recipe(context.file.recipes, name, task)


def _missing_weights(
    context: Context, spec: ModelSpec, task: Task, recipe: Recipe | None, published_id: str | None, mode: str
) -> NotRunError:
    """NOT_RUN naming the checkpoints each allowed path needs, where to put them, and the data it needs."""
    dirs, reasons, ids = [], [], []
    needs: dict[str, str] = {}
    if published_id and mode != "finetune":
        reasons.append(f"the published fine-tuned checkpoint {published_id}")
        dirs.append(f"DIR/{published_id}/ (published fine-tuned checkpoint, evaluated as is)")
        ids.append(published_id)
    splits = ["eval"]
    tunable = recipe is not None and spec.released
    if mode != "published" and tunable:
        assert recipe is not None
        reasons.append(f"the base checkpoint {spec.hub_id} (to fine-tune with recipe {recipe.name})")
        dirs.append(f"DIR/{spec.hub_id}/ (base checkpoint, fine-tuned here with {recipe.describe()})")
        assert spec.hub_id is not None  # a released model has one (harness.spec.model_table)
        ids.append(spec.hub_id)
        splits.append("train")
    # one checkpoint per claim in the resource list: the base one where it can be fine-tuned here (it serves
    # every task), else the published one
    checkpoint = spec.hub_id if spec.hub_id in ids else (ids[0] if ids else None)
    if checkpoint is not None:
        needs[f"checkpoint {checkpoint}"] = (
            f"--claims-models-dir DIR with DIR/{checkpoint}/ (once online: hf download {checkpoint})"
        )
    if not dirs:
        why = "the claim names no recipe"
        if published_id:  # excluded by --claims-task-evidence finetune
            return NotRunError(
                f"{why}, and --claims-task-evidence finetune excludes the published checkpoint {published_id}",
                f"use --claims-task-evidence auto (or published) with "
                f"--claims-models-dir DIR holding DIR/{published_id}/",
            )
        return NotRunError(
            f"no published fine-tuned checkpoint of {spec.name} for {task.name} is named and {why}",
            f'add "{task.name}" = "<hub id>" to [models.{spec.name}.finetuned], or a recipe to the claim',
        )
    reason = " and ".join(reasons) + (" is" if len(reasons) == 1 else " are") + " not on this machine"
    remedy = (
        "--claims-models-dir DIR (or CLAIMS_MODELS_DIR=DIR) with "
        + " or ".join(dirs)
        + f"; or the Hugging Face cache (once online: {' or '.join(f'hf download {i}' for i in ids)})"
    )
    if data.splits_not_local(task, splits, context.options):
        source = data.data_source(context.options)
        remedy += (
            ". Data"
            + ("" if source == "local" else " (unless already in the datasets cache)")
            + ": "
            + data.data_remedy(task, splits, source)
        )
        needs[f"data {task.name}"] = data.data_remedy(task, splits, source)
    return NotRunError(reason, remedy, needs)


# ---------------------------------------------------------------- the two paths


def _published(
    context: Context,
    spec: ModelSpec,
    task: Task,
    recipe: Recipe | None,
    hub_id: str,
    path: Path,
    eval_data: TaskData,
    runtime: Runtime,
    smoke: bool,
) -> Run:
    from harness.measure.kinds.published_head import apply_head, label_mapping, load_published
    from harness.ml.finetune import load_tokenizer

    check_architecture(spec, path, smoke)
    base = checkpoint_path(spec.hub_id, context, spec.revision, spec.name)
    field = f'[models.{spec.name}.finetuned] "{task.name}"'
    model = load_published(path, task, hub_id, field)
    tokenizer = load_tokenizer(path, *([base] if base is not None else []))
    head = spec.finetuned_heads.get(task.name)
    mapping, label_note = label_mapping(task, model.config, path, hub_id, head, field)
    raw, references, settings = _predict(model, tokenizer, task, recipe, eval_data, runtime)
    predictions, checked = apply_head(task, raw, references, mapping, head, hub_id)
    return Run(
        predictions=(predictions,),
        references=references,
        seeds=(None,),
        aggregate="single",
        statistic="one published checkpoint",
        evidence={
            "path": f"published checkpoint {hub_id} at {path}",
            "smoke": smoke,
            "data": eval_data.origin,
            **provenance.checkpoint_evidence(context, hub_id, path, published_revision(spec, task)),
            **provenance.data_evidence(context, eval_data, data_revision(context, task)),
        },
        details={"evaluation": settings, **({"labels": label_note} if label_note else {}), **checked},
        runtime=runtime,
    )


def _fine_tuned(
    context: Context,
    spec: ModelSpec,
    task: Task,
    recipe: Recipe,
    base: Path,
    eval_data: TaskData,
    runtime: Runtime,
    smoke: bool,
) -> Run:
    from harness.ml.finetune import load_for_task, load_tokenizer
    from harness.ml.finetune_cache import checkpoint_digest, fine_tuned

    check_architecture(spec, base, smoke)
    assert spec.hub_id is not None  # only a released model (with a hub_id) is fine-tuned (gather_run)
    teacher = resolve_teacher(context, recipe, task, runtime, smoke) if recipe.teacher else None
    train = task_data(context, task, "train")
    digest = context.cached(("checkpoint-digest", str(base)), lambda: checkpoint_digest(base))
    predictions, entries, trained = [], [], []
    for seed in recipe.seeds:
        entry = fine_tuned(
            context.options.cache_dir,
            f"{task.name}-{spec.name}",
            base,
            digest,
            train,
            recipe,
            seed,
            runtime,
            context.options.extra.get("notify"),
            teacher,
        )
        model = load_for_task(entry.path, task)
        pred, references, settings = _predict(model, load_tokenizer(entry.path), task, recipe, eval_data, runtime)
        predictions.append(pred)
        entries.append(str(entry.path))
        trained.append(entry.trained_now)
    seeds = ", ".join(str(s) for s in recipe.seeds)
    statistic = "one seed" if len(recipe.seeds) == 1 else f"{recipe.aggregate} of {len(recipe.seeds)} seeds"
    return Run(
        predictions=tuple(predictions),
        references=references,
        seeds=recipe.seeds,
        aggregate=recipe.aggregate,
        statistic=statistic,
        evidence={
            "path": f"fine-tuned here with recipe {recipe.name} seed(s) {seeds} from {spec.hub_id} at {base}"
            + (f", distilled from {teacher.origin}" if teacher else ""),
            "smoke": smoke,
            "data": f"train: {train.origin}; eval: {eval_data.origin}",
            "recipe": recipe.describe(),
            **provenance.checkpoint_evidence(context, spec.hub_id, base, spec.revision),
            **provenance.data_evidence(context, eval_data, data_revision(context, task)),
            **provenance.data_evidence(context, train, data_revision(context, task), prefix="train_data"),
            "cache_entries": entries,
            "trained_this_run": trained,
            **({"teacher": teacher.origin, "teacher_digest": teacher.digest} if teacher else {}),
        },
        details={"evaluation": settings},
        runtime=runtime,
    )


def _predict(
    model: Any,
    tokenizer: Any,
    task: Task,
    recipe: Recipe | None,
    eval_data: TaskData,
    runtime: Runtime,
) -> tuple[Any, list[Any], dict[str, Any]]:
    """Predictions on the evaluation split (output indices, scores or answer texts), the references, the settings.

    A classifier's predictions are its argmax output indices: the caller maps them to labels (a published
    checkpoint's label order, ``published_head``); a model fine-tuned here has the data set's order.
    """
    from harness.ml.evaluation import default_batch_size, predict_answers, predict_classes

    model = model.to(runtime.device).eval()
    ds = eval_data.dataset
    max_length = (
        recipe.max_length
        if recipe is not None
        else min(tokenizer.model_max_length, model.config.max_position_embeddings)
    )
    batch = default_batch_size(runtime.device)
    desc = f"evaluating {task.name}"
    settings = {"max_length": max_length, "eval_batch_size": batch}
    if task.kind == "squad":
        doc_stride, query, answer = (
            (recipe.doc_stride, recipe.max_query_length, recipe.max_answer_length)
            if recipe is not None
            else (128, 64, 30)
        )
        answers = predict_answers(
            model,
            tokenizer,
            list(ds["question"]),
            list(ds["context"]),
            runtime,
            max_length=max_length,
            doc_stride=doc_stride,
            max_query_length=query,
            max_answer_length=answer,
            batch_size=batch,
            desc=desc,
        )
        settings.update(doc_stride=doc_stride, max_query_length=query, max_answer_length=answer)
        return answers, [a["text"] for a in ds["answers"]], settings
    logits = predict_classes(
        model,
        tokenizer,
        [list(ds[f]) for f in task.text_fields],
        runtime,
        max_length=max_length,
        batch_size=batch,
        desc=desc,
    )
    references = list(ds["label"])
    if task.kind == "regression":
        return logits[:, 0], references, settings
    return logits.argmax(axis=1), references, settings
