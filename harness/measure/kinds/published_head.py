"""Guards before a verdict on a published (third-party, fine-tuned) checkpoint: its head, label order and scale.

1. The task head must load: a checkpoint with missing weights (a base checkpoint under a fine-tuned id loads
   with a random ``classifier``) is an ERROR naming the checkpoint, the missing keys and the fix.
2. Its label count must be the task's (one output for a regression task).
3. Its label order is, in this order: the claims file's ``label_order`` (with its source); its ``id2label`` when
   the names are the task's label names (or their aliases); else the data set's order, with a note saying so.
4. Whatever the order's origin, the other permutations of the outputs are scored on the same predictions
   (``harness.ml.heads.check_permutations``); one far better than the used order is an ERROR
   "label mapping suspect" naming it and both scores.
5. A regression head's outputs are divided by its declared ``output_scale`` (TextAttack's STS-B: 0.2); the
   result notes that Pearson and Spearman correlations do not depend on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import MeasurementError
from harness.spec.heads import HeadConvention

if TYPE_CHECKING:
    from harness.ml.data import Task

__all__ = ["apply_head", "check_teacher_order", "label_mapping", "load_published"]


def load_published(path: Path, task: Task, hub_id: str, field: str) -> Any:
    """The checkpoint with its task head, refused when any of its weights had to be initialized at random."""
    from harness.ml.finetune import model_class
    from harness.ml.heads import head_keys, load_reporting_missing

    model, missing = load_reporting_missing(model_class(task), path)
    if missing:
        head = head_keys(model, missing)
        what = "has no task head" if head and len(head) == len(missing) else "is incomplete"
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise MeasurementError(
            f"the published checkpoint {hub_id} at {path} {what}: loading it for {task.name} leaves {shown} "
            "missing (they would be random, and so would any score). Point "
            f"{field} at a checkpoint fine-tuned for {task.name} (or re-download it: python -m harness fetch); "
            "a base checkpoint belongs in the model's hub_id, fine-tuned here with a recipe"
        )
    return model


def label_mapping(
    task: Task, config: Any, path: Path, hub_id: str, head: HeadConvention | None, field: str = "[models.*.finetuned]"
) -> tuple[list[int] | None, str]:
    """For each output of a published checkpoint, the data set's label index; and how that was decided.

    ``field`` names the claims file's entry in the errors (``[models.<m>.finetuned] "<task>"``)."""
    if task.kind != "classification":
        expected = 1 if task.kind == "regression" else None
        if expected is not None and config.num_labels != expected:
            raise MeasurementError(
                f"the published checkpoint {hub_id} at {path} has {config.num_labels} outputs; {task.name} is a "
                f"regression task (1 output): point {field} at a regression checkpoint"
            )
        return None, ""
    names = [str(config.id2label[i]).lower() for i in range(config.num_labels)]
    if len(names) != task.num_labels:
        raise MeasurementError(
            f"the published checkpoint {hub_id} at {path} has {len(names)} labels ({names}); {task.name} has "
            f"{task.num_labels} ({', '.join(task.labels)}): point {field} at a checkpoint fine-tuned for {task.name}"
        )
    if head is not None and head.label_order is not None:
        from harness.ml.heads import inverse

        order = list(head.label_order)
        return inverse(order), (
            f"declared label_order {order} (the output index of each of {list(task.labels)}; "
            f"source: {head.label_order_source})"
        )
    if all(n == f"label_{i}" for i, n in enumerate(names)):
        return None, (
            "the checkpoint's labels are generic (LABEL_i) and no label_order is declared: assumed to be in the "
            "data set's order (checked against the other permutations)"
        )
    lookup = {}
    for index, label in enumerate(task.labels):
        for alias in (label, *task.aliases.get(label, ())):
            lookup[alias.lower()] = index
    mapping = [lookup.get(n.replace("-", "_"), lookup.get(n, -1)) for n in names]
    if -1 in mapping or sorted(mapping) != list(range(task.num_labels)):
        raise MeasurementError(
            f"the published checkpoint {hub_id} at {path} has labels {names} that do not name {task.name}'s "
            f"labels ({', '.join(task.labels)}); declare label_order (and label_order_source) in {field}"
        )
    return mapping, f"the checkpoint's labels {names} mapped by name to the data set's {list(task.labels)}"


def apply_head(
    task: Task, raw: Any, references: list[Any], mapping: list[int] | None, head: HeadConvention | None, hub_id: str
) -> tuple[Any, dict[str, Any]]:
    """The predictions in the data set's terms (labels, or scores on its scale) and what was checked."""
    import numpy as np

    if task.kind == "regression":
        note = "Pearson and Spearman correlations are scale-free: an output scale does not change them"
        if head is None or head.output_scale is None:
            return raw, {"output_scale": f"none declared (outputs used as they are); {note}"}
        scale, source = head.output_scale, head.output_scale_source
        return np.asarray(raw, dtype=float) / scale, {
            "output_scale": f"outputs divided by the declared {scale} (source: {source}); {note}"
        }
    if task.kind != "classification":
        return raw, {}
    from harness.ml.heads import check_permutations

    used = mapping if mapping is not None else list(range(task.num_labels))
    check = check_permutations(raw, references, used, task.num_labels)
    if check.suspect:
        raise MeasurementError(
            f"label mapping suspect for the published checkpoint {hub_id} on {task.name}: mapping its outputs to "
            f"labels as {list(check.best)} scores {check.best_accuracy:.4f} accuracy against "
            f"{check.declared_accuracy:.4f} for the order used ({list(check.declared)}; output i -> label), "
            f"on the same {check.examples} examples "
            f"(the gain's 99.9% lower bound {check.lower:.4f} > the margin). Check the checkpoint's label order "
            "(model card, training code) and declare it: label_order = "
            f"{_label_order(check.best)} with label_order_source in its [models.*.finetuned] entry"
        )
    return np.asarray(used)[np.asarray(raw, dtype=int)], {"label_check": check.describe()}


def _label_order(output_to_label: tuple[int, ...]) -> list[int]:
    from harness.ml.heads import inverse

    return inverse(output_to_label)


def check_teacher_order(task: Task, path: Path, hub_id: str, head: HeadConvention | None, field: str) -> None:
    """A published checkpoint used as a distillation teacher must give its outputs in the data set's order.

    Its logits are the student's soft targets column by column, and reordering them is not implemented: a declared
    ``label_order`` or an ``id2label`` other than the data set's order is an ERROR (generic ``LABEL_i`` names cannot
    be checked without predictions and are taken as the data set's order, as for evaluation)."""
    if task.kind != "classification":
        return
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise MeasurementError(
            f"the teacher checkpoint {hub_id} at {path} has no readable config.json ({exc})"
        ) from None
    mapping, note = label_mapping(task, config, path, hub_id, head, field)
    if mapping is not None and mapping != list(range(task.num_labels)):
        raise MeasurementError(
            f"the published checkpoint {hub_id} ({field}) cannot be a distillation teacher for {task.name}: its "
            f"outputs are not in the data set's label order ({note}), and reordering a teacher's logits is not "
            "implemented; fix: use --claims-task-evidence finetune with the recipe's teacher_recipe (the teacher is "
            "then fine-tuned here in the data set's order)"
        )
