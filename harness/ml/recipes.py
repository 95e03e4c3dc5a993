"""Fine-tuning recipes: what a fine-tuned model is.

A recipe (``[recipes.<name>]`` of a claims file, passed here as plain tables) fixes learning rate, batch size,
epochs (or ``max_steps``), maximum length, warm-up (``warmup_ratio`` or ``warmup_steps``), weight decay,
``dropout`` (hidden and attention dropout of the model's config), seeds and how scores over seeds are
aggregated (the median of 5 seeds is ``seeds = [...5 seeds...]``, ``aggregate = "median"``);
``overrides."<task>"`` tables change keys for one task and ``base = "<recipe>"`` inherits another recipe.
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
#: keys of distillation fine-tuning (a teacher's soft targets): described, not implemented here
DISTILL_KEYS = ("teacher", "teacher_task", "temperature", "alpha_ce", "alpha_squad")
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
            + f"max length {self.max_length}, seed(s) {seeds}, {self.aggregate})"
        )


def _merged(tables: Mapping[str, Mapping[str, Any]], name: str, trail: tuple[str, ...] = ()) -> dict[str, Any]:
    if name not in tables:
        raise MeasurementError(f"no [recipes.{name}] in the claims file.{did_you_mean(name, tables)}")
    if name in trail:
        raise MeasurementError(f"[recipes.{name}]: its `base` chain loops ({' -> '.join((*trail, name))})")
    table = dict(tables[name])
    unknown = [k for k in table if k not in RECIPE_KEYS]
    if unknown:
        raise MeasurementError(
            f"[recipes.{name}]: unknown key {unknown[0]!r}; known keys: {', '.join(RECIPE_KEYS)}."
            + did_you_mean(unknown[0], RECIPE_KEYS)
        )
    base = table.pop("base", None)
    if base is None:
        return table
    merged = _merged(tables, str(base), (*trail, name))
    overrides = {**merged.get("overrides", {}), **table.pop("overrides", {})}
    return {**merged, **table, "overrides": overrides}


def recipe(tables: Mapping[str, Mapping[str, Any]], name: str, task: Task) -> Recipe:
    """The recipe ``name`` resolved for ``task``; a ``MeasurementError`` saying what is wrong otherwise."""
    table = _merged(tables, name)
    override = table.pop("overrides", {}).get(task.name, {})
    table.update(override)
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
    seeds = table.get("seeds", [42])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise MeasurementError(f"{where}: seeds must be a non-empty array of integers, e.g. seeds = [42, 43, 44]")
    aggregate = table.get("aggregate", "single" if len(seeds) == 1 else "median")
    if aggregate not in AGGREGATES or (aggregate == "single" and len(seeds) != 1):
        raise MeasurementError(
            f"{where}: aggregate {aggregate!r}: expected median or mean over several seeds, or single with one seed"
        )
    if "warmup_ratio" in table and "warmup_steps" in table:
        raise MeasurementError(f"{where}: give warmup_ratio or warmup_steps, not both")
    warmup = float(table.get("warmup_ratio", 0.0))
    if not 0.0 <= warmup < 1.0:
        raise MeasurementError(f"{where}: warmup_ratio {warmup} is not a fraction in [0, 1)")
    if "warmup_steps" in table:
        warmup = int(table["warmup_steps"])
    max_steps = table.get("max_steps")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise MeasurementError(f"{where}: max_steps {max_steps!r} is not a whole number of steps >= 1")
    dropout = table.get("dropout")
    if dropout is not None and (
        isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1
    ):
        raise MeasurementError(f"{where}: dropout {dropout!r} is not a probability in [0, 1)")
    for key in ("learning_rate", "weight_decay", "epochs"):
        value = table.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise MeasurementError(f"{where}: {key} {value!r} is not a number >= 0")
    if table.get("truncation", "head") != "head":
        raise MeasurementError(
            f"{where}: truncation {table['truncation']!r} is not implemented (only 'head': "
            "keep the first max_length tokens)"
        )
    return Recipe(
        name=name,
        task=task.name,
        max_length=int(table["max_length"]),
        batch_size=int(table["batch_size"]),
        learning_rate=float(table["learning_rate"]),
        epochs=float(table.get("epochs", 0.0)),
        seeds=tuple(seeds),
        aggregate=aggregate,
        warmup=warmup,
        weight_decay=float(table.get("weight_decay", 0.0)),
        doc_stride=int(table.get("doc_stride", 128)),
        max_query_length=int(table.get("max_query_length", 64)),
        max_answer_length=int(table.get("max_answer_length", 30)),
        teacher=table.get("teacher"),
        source=str(table.get("source", "")),
        max_steps=max_steps,
        dropout=None if dropout is None else float(dropout),
    )
