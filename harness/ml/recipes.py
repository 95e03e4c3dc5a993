"""Fine-tuning recipes: what a fine-tuned model is.

A recipe (``[recipes.<name>]`` of a claims file, passed here as plain tables) fixes learning rate, batch size,
epochs (or ``max_steps``), maximum length, warm-up (``warmup_ratio`` or ``warmup_steps``), weight decay,
``dropout`` (hidden and attention dropout of the model's config), seeds and how scores over seeds are
aggregated (the median of 5 seeds is ``seeds = [...5 seeds...]``, ``aggregate = "median"``);
``overrides."<task>"`` tables change keys for one task and ``base = "<recipe>"`` inherits another recipe.

A recipe with ``teacher = "<model>"`` is distillation during fine-tuning (the paper's "(D)" models): the student
is trained with ``alpha_ce`` times the soft-target loss at ``temperature`` against the teacher's outputs plus
``alpha_task`` (``alpha_squad``) times its own task loss (``harness.ml.distill_trainer.DistillationTrainer``).
The teacher is the model's published fine-tuned checkpoint for ``teacher_task``, or its base checkpoint fine-tuned
here with ``teacher_recipe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from harness.core.errors import MeasurementError, did_you_mean

if TYPE_CHECKING:
    from harness.ml.data import Task


AGGREGATES = ("median", "mean", "single")
#: recipe keys that describe it for people; they do not change the fine-tuned model
INFO_KEYS = ("description", "script", "source", "assumed", "dataset", "text_field")
TRAIN_KEYS = (
    "max_length",
    "batch_size",
    "learning_rate",
    "epochs",
    "warmup_ratio",
    "warmup_steps",
    "weight_decay",
    "max_steps",
    "dropout",
    "truncation",
    "doc_stride",
    "max_query_length",
    "max_answer_length",
)
#: keys of distillation fine-tuning (a teacher's soft targets)
DISTILL_KEYS = ("teacher", "teacher_task", "teacher_recipe", "temperature", "alpha_ce", "alpha_squad", "alpha_task")
#: the loss-weight keys among them (``DistillationWeights.from_table``)
WEIGHT_KEYS = ("temperature", "alpha_ce", "alpha_squad", "alpha_task")
RECIPE_KEYS = (*INFO_KEYS, *TRAIN_KEYS, *DISTILL_KEYS, "seeds", "aggregate", "overrides", "base")


@attrs.frozen
class Recipe:
    """A fine-tuning recipe resolved for one task (base recipe and task overrides applied)."""

    name: str
    task: str
    max_length: int
    batch_size: int
    learning_rate: float
    epochs: float
    seeds: tuple[int, ...]
    aggregate: str
    warmup: float = 0.0  # a fraction of the training steps below 1, else a number of steps
    weight_decay: float = 0.0
    truncation: str = "head"
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    teacher: str | None = None
    teacher_task: str | None = None
    teacher_recipe: str | None = None
    #: the distillation loss weights (``DistillationWeights.as_dict()``) when ``teacher`` is set
    distillation: Mapping[str, float] | None = None
    source: str = ""
    #: a fixed number of optimizer steps (overrides epochs); None: train for ``epochs``
    max_steps: int | None = None
    #: hidden and attention dropout set on the model's config before fine-tuning; None: the checkpoint's own
    dropout: float | None = None

    def training_fields(self) -> dict[str, Any]:
        """What determines a fine-tuned model (the cache key's recipe part): no seeds, no descriptions."""
        fields = attrs.asdict(self)
        for key in ("name", "seeds", "aggregate", "source"):
            fields.pop(key)
        for key in ("max_steps", "dropout"):  # absent keys leave the cache keys of older recipes unchanged
            if fields[key] is None:
                fields.pop(key)
        return fields

    def describe(self) -> str:
        seeds = ", ".join(str(s) for s in self.seeds)
        return (
            f"recipe {self.name} (lr {self.learning_rate:g}, batch {self.batch_size}, "
            + (f"{self.max_steps} steps, " if self.max_steps else f"{self.epochs:g} epochs, ")
            + f"max length {self.max_length}, seed(s) {seeds}, {self.aggregate}"
            + (f"{self.distill_description()})" if self.teacher else ")")
        )

    def distill_description(self) -> str:
        weights = ", ".join(f"{k} {v:g}" for k, v in (self.distillation or {}).items() if v or k == "alpha_ce")
        return f"; distilled from {self.teacher} ({self.teacher_task or self.task}) with {weights}"


def merged_table(
    tables: Mapping[str, Mapping[str, Any]],
    name: str,
    keys: tuple[str, ...] = RECIPE_KEYS,
    trail: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Recipe ``name`` with its ``base`` chain applied (later keys win); every key must be one of ``keys``."""
    if name not in tables:
        raise MeasurementError(f"no [recipes.{name}] in the claims file.{did_you_mean(name, tables)}")
    if name in trail:
        raise MeasurementError(f"[recipes.{name}]: its `base` chain loops ({' -> '.join((*trail, name))})")
    table = dict(tables[name])
    unknown = [k for k in table if k not in keys]
    if unknown:
        raise MeasurementError(
            f"[recipes.{name}]: unknown key {unknown[0]!r}; known keys: {', '.join(keys)}."
            + did_you_mean(unknown[0], keys)
        )
    if not isinstance(table.get("overrides", {}), Mapping):
        raise RecipeError(
            name, "overrides", 'tables [recipes.<name>.overrides."<task>"]', table["overrides"], "write tables"
        )
    base = table.pop("base", None)
    if base is None:
        return table
    merged = merged_table(tables, str(base), keys, (*trail, name))
    overrides = {**merged.get("overrides", {}), **table.pop("overrides", {})}
    return {**merged, **table, "overrides": overrides}


class RecipeError(MeasurementError):
    """A recipe key of the wrong type or out of range: which recipe, which key, what was expected and found."""

    def __init__(self, recipe: str, key: str, expected: str, found: Any, fix: str) -> None:
        self.recipe, self.key, self.expected, self.found, self.fix = recipe, key, expected, repr(found), fix
        super().__init__(f"[recipes.{recipe}] {key}: expected {expected}; found {found!r}. Fix: {fix}")


def _number(
    name: str,
    table: Mapping[str, Any],
    key: str,
    *,
    low: float,
    low_open: bool,
    high: float | None = None,
    whole: bool = False,
) -> Any:
    """``table[key]``, checked: a number (a whole one if ``whole``) above ``low`` (or at it unless ``low_open``)
    and below ``high``; a ``RecipeError`` otherwise."""
    value = table[key]
    kind = "a whole number" if whole else "a number"
    bound = f"{'>' if low_open else '>='} {low:g}" + (f" and < {high:g}" if high is not None else "")
    wrong_type = isinstance(value, bool) or not isinstance(value, int if whole else (int, float))
    if wrong_type or not (value > low if low_open else value >= low) or (high is not None and value >= high):
        raise RecipeError(name, key, f"{kind} {bound}", value, f"write `{key} = <{kind[2:]}>` without quotes")
    return value


#: numeric recipe keys: (lower bound, open, upper bound, whole number)
RANGES: dict[str, tuple[float, bool, float | None, bool]] = {
    "max_length": (0, True, None, True),
    "batch_size": (0, True, None, True),
    "learning_rate": (0, True, None, False),
    "epochs": (0, True, None, False),
    "warmup_ratio": (0, False, 1, False),
    "warmup_steps": (0, False, None, True),
    "weight_decay": (0, False, None, False),
    "doc_stride": (0, True, None, True),
    "max_query_length": (0, True, None, True),
    "max_answer_length": (0, True, None, True),
    "max_steps": (0, True, None, True),
    "dropout": (0, False, 1, False),
}


def recipe(tables: Mapping[str, Mapping[str, Any]], name: str, task: Task) -> Recipe:
    """The recipe ``name`` resolved for ``task``; a ``MeasurementError`` saying what is wrong otherwise
    (a ``RecipeError`` naming the key for a value of the wrong type or out of range)."""
    table = merged_table(tables, name)
    override = table.pop("overrides", {})
    if not isinstance(override, Mapping) or not isinstance(override.get(task.name, {}), Mapping):
        raise RecipeError(name, "overrides", 'tables [recipes.<name>.overrides."<task>"]', override, "write tables")
    table.update(override.get(task.name, {}))
    where = f"[recipes.{name}]"
    if table.get("dataset", task.name) != task.name:
        raise MeasurementError(f"{where} is for dataset {table['dataset']!r}, not {task.name!r}")
    if "text_field" in table and table["text_field"] not in task.text_fields:
        raise MeasurementError(
            f"{where}: text_field {table['text_field']!r} is not a column of {task.name} "
            f"({', '.join(task.text_fields)})"
        )
    needed = ("max_length", "batch_size", "learning_rate", *(() if "max_steps" in table else ("epochs",)))
    missing = [k for k in needed if k not in table]
    if missing:
        raise MeasurementError(f"{where}: missing {', '.join(missing)} (needed to fine-tune on {task.name})")
    for key, (low, low_open, high, whole) in RANGES.items():
        if key in table:
            _number(name, table, key, low=low, low_open=low_open, high=high, whole=whole)
    seeds = table.get("seeds", [42])
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise RecipeError(
            name,
            "seeds",
            "a non-empty array of integers",
            seeds,
            "seeds must be a non-empty array of integers, e.g. seeds = [42, 43, 44]",
        )
    aggregate = table.get("aggregate", "single" if len(seeds) == 1 else "median")
    if aggregate not in AGGREGATES or (aggregate == "single" and len(seeds) != 1):
        raise MeasurementError(
            f"{where}: aggregate {aggregate!r}: expected median or mean over several seeds, or single with one seed"
        )
    if "warmup_ratio" in table and "warmup_steps" in table:
        raise MeasurementError(f"{where}: give warmup_ratio or warmup_steps, not both")
    warmup = float(table.get("warmup_ratio", 0.0))
    if "warmup_steps" in table:
        warmup = int(table["warmup_steps"])
    max_steps, dropout = table.get("max_steps"), table.get("dropout")  # ranges checked above (RANGES)
    if table.get("truncation", "head") != "head":
        raise MeasurementError(
            f"{where}: truncation {table['truncation']!r} is not implemented (only 'head': "
            "keep the first max_length tokens)"
        )
    return Recipe(
        name=name,
        task=task.name,
        max_length=table["max_length"],
        batch_size=table["batch_size"],
        learning_rate=float(table["learning_rate"]),
        epochs=float(table.get("epochs", 0.0)),
        seeds=tuple(seeds),
        aggregate=aggregate,
        warmup=warmup,
        weight_decay=float(table.get("weight_decay", 0.0)),
        doc_stride=table.get("doc_stride", 128),
        max_query_length=table.get("max_query_length", 64),
        max_answer_length=table.get("max_answer_length", 30),
        source=str(table.get("source", "")),
        **_distillation(table, name),
        max_steps=max_steps,
        dropout=None if dropout is None else float(dropout),
    )


def _distillation(table: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The teacher fields of a recipe: all of them with ``teacher``, none without."""
    from harness.ml.distillation import DistillationWeights

    where = f"[recipes.{name}]"
    declared = [k for k in DISTILL_KEYS if k in table]
    if "teacher" not in table:
        if declared:
            raise MeasurementError(
                f'{where}: field {declared[0]!r}: expected it only with `teacher = "<model>"` (distillation '
                "during fine-tuning), found it without a teacher; fix: add the teacher or remove the field"
            )
        return {}
    teacher = table["teacher"]
    if not isinstance(teacher, str) or not teacher:
        raise RecipeError(name, "teacher", "the name of a model (a string)", teacher, "quote it")
    weights = DistillationWeights.from_table({k: table[k] for k in WEIGHT_KEYS if k in table}, where)
    for key in ("teacher_task", "teacher_recipe"):
        if key in table and not isinstance(table[key], str):
            raise RecipeError(name, key, "a name (a string)", table[key], "quote it")
    return {
        "teacher": teacher,
        "teacher_task": table.get("teacher_task"),
        "teacher_recipe": table.get("teacher_recipe"),
        "distillation": weights.as_dict(),
    }
