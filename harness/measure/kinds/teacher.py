"""The teacher of a distillation recipe (the paper's "(D)" models): a fine-tuned checkpoint, found or made here.

``teacher = "<model>"`` in a recipe names a ``[models.<model>]`` table. Its fine-tuned checkpoint for the task is,
in order: the published one named in ``[models.<model>.finetuned]`` (unless ``--claims-task-evidence finetune``),
else the model's base checkpoint fine-tuned here with the recipe's ``teacher_recipe`` through the fine-tuned model
cache (its first seed). The teacher's checkpoint digest is part of the student's cache key, so a different or
retrained teacher gives a new student.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.core.errors import MeasurementError, NotRunError, did_you_mean
from harness.measure.kinds.checkpoints import check_architecture, checkpoint_path, published_revision, task_data
from harness.measure.measurement import Context

if TYPE_CHECKING:
    from harness.ml.data import Task
    from harness.ml.evaluation import Runtime
    from harness.ml.finetune_cache import TeacherCheckpoint
    from harness.ml.recipes import Recipe


def resolve_teacher(context: Context, recipe: Recipe, task: Task, runtime: Runtime, smoke: bool) -> TeacherCheckpoint:
    """The teacher checkpoint of ``recipe`` for ``task``; NOT_RUN naming what to provide when there is none."""
    from harness.ml.finetune_cache import TeacherCheckpoint, checkpoint_digest, fine_tuned
    from harness.ml.recipes import recipe as resolve_recipe

    where = f"[recipes.{recipe.name}]"
    if task.kind == "regression":  # one output: a softmax over it is 1, so the soft-target loss would be 0
        raise MeasurementError(
            f"{where}: field 'teacher': expected a classification or question-answering task (the soft-target loss "
            f"compares class or span distributions), found the regression task {task.name!r} (one output, no "
            "distribution to distil); fix: use a recipe without a teacher for this task"
        )
    models = context.file.models
    if recipe.teacher is None or recipe.teacher not in models:
        raise MeasurementError(
            f"{where}: field 'teacher': expected the name of a [models.<name>] table, found {recipe.teacher!r}; "
            f"fix: define [models.{recipe.teacher}] or use an existing name.{did_you_mean(str(recipe.teacher), models)}"
        )
    spec = models[recipe.teacher]
    if (recipe.teacher_task or task.name) != task.name:
        raise MeasurementError(
            f"{where}: field 'teacher_task': expected the student's task {task.name!r} (the teacher's outputs are the "
            f"student's soft targets), found {recipe.teacher_task!r}; fix: set teacher_task = {task.name!r}"
        )

    def digest(path: object) -> str:
        return context.cached(("checkpoint-digest", str(path)), lambda: checkpoint_digest(path))  # type: ignore[arg-type]

    published_id = spec.finetuned.get(task.name)
    if published_id and context.options.task_evidence != "finetune":
        published = checkpoint_path(published_id, context, published_revision(spec, task))
        if published is not None:
            from harness.measure.kinds.published_head import check_teacher_order

            check_architecture(spec, published, smoke)
            head = spec.finetuned_heads.get(task.name)
            check_teacher_order(task, published, published_id, head, f'[models.{spec.name}.finetuned] "{task.name}"')
            return TeacherCheckpoint(
                published, digest(published), f"published fine-tuned checkpoint {published_id} at {published}"
            )
    base = checkpoint_path(spec.hub_id, context, spec.revision) if recipe.teacher_recipe else None
    if base is None:
        wanted = [f"DIR/{published_id}/ (the teacher's published fine-tuned checkpoint)"] if published_id else []
        if recipe.teacher_recipe:
            wanted.append(f"DIR/{spec.hub_id}/ (the teacher's base, fine-tuned here with {recipe.teacher_recipe})")
        raise NotRunError(
            f"the teacher {spec.name} of recipe {recipe.name} has no fine-tuned checkpoint for {task.name} on this "
            "machine" + ("" if recipe.teacher_recipe else " and the recipe names no teacher_recipe to make one"),
            "--claims-models-dir DIR with "
            + (" or ".join(wanted) if wanted else "a published checkpoint")
            + (
                ""
                if recipe.teacher_recipe
                else f'; or add teacher_recipe = "<recipe>" to {where} to fine-tune {spec.hub_id} here'
            ),
        )
    assert recipe.teacher_recipe is not None  # base is None without it
    own = resolve_recipe(context.file.recipes, recipe.teacher_recipe, task)
    if own.teacher is not None:
        raise MeasurementError(
            f"{where}: field 'teacher_recipe': expected a recipe without a teacher, found {own.name!r} distilled "
            f"from {own.teacher!r}; fix: name the teacher's plain fine-tuning recipe"
        )
    check_architecture(spec, base, smoke)
    entry = fine_tuned(
        context.options.cache_dir,
        f"{task.name}-{spec.name}",
        base,
        digest(base),
        task_data(context, task, "train"),
        own,
        own.seeds[0],
        runtime,
        context.options.extra.get("notify"),
    )
    return TeacherCheckpoint(
        entry.path,
        digest(entry.path),
        f"teacher {spec.name} fine-tuned here from {spec.hub_id} with recipe {own.name} seed {own.seeds[0]} "
        f"(cache entry {entry.path.name})",
    )
