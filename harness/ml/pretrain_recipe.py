"""Distillation pre-training recipes: the triple loss of the paper's Section 3 at a declared (reduced) budget.

A ``[recipes.<name>]`` table with ``kind = "distill_pretrain"`` names the teacher (a ``[models.<m>]`` masked LM),
the student (a ``[models.<m>]`` whose checkpoint's ``config.json`` gives the architecture; its weights are not
used), the initialisation (``init = "teacher"``: every other teacher layer, or ``"random"``), the loss weights
(``temperature``, ``alpha_ce``, ``alpha_mlm``, ``alpha_cos``), the corpus and held-out files (one text a line,
relative to ``--claims-data-dir``), the budget (``steps`` x ``batch_size`` sequences of at most ``max_length``
tokens), ``mlm_probability``, ``learning_rate``, the training ``seed`` and the ``eval_seed`` of the held-out masks.
An ablation row is ``base = "<full recipe>"`` with one weight set to 0, or ``init = "random"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import MeasurementError
from harness.ml.recipes import INFO_KEYS, merged_table

PRETRAIN_KIND = "distill_pretrain"
INITS = ("teacher", "random")
WEIGHT_KEYS = ("temperature", "alpha_ce", "alpha_mlm", "alpha_cos")
INT_KEYS = ("steps", "batch_size", "max_length", "seed", "eval_seed")
FLOAT_KEYS = ("mlm_probability", "learning_rate")
PRETRAIN_KEYS = (
    *INFO_KEYS,
    "kind",
    "base",
    "teacher",
    "student",
    "init",
    *WEIGHT_KEYS,
    "corpus",
    "held_out",
    *INT_KEYS,
    *FLOAT_KEYS,
)


@attrs.frozen
class PretrainRecipe:
    """One row of the ablation: a student distilled from a teacher with given weights, init and budget."""

    name: str
    teacher: str
    student: str
    init: str
    weights: Mapping[str, float]
    corpus: str
    held_out: str
    steps: int
    batch_size: int
    max_length: int
    mlm_probability: float
    learning_rate: float
    seed: int
    eval_seed: int
    source: str = ""

    @property
    def token_budget(self) -> int:
        """The most tokens training can see: steps x batch size x maximum length (padding not counted)."""
        return self.steps * self.batch_size * self.max_length

    def training_fields(self) -> dict[str, Any]:
        """What determines the pre-trained student, besides the teacher, student config and corpus contents."""
        fields = attrs.asdict(self)
        for key in ("name", "source", "held_out", "eval_seed", "corpus", "weights", "teacher", "student"):
            fields.pop(key)
        return fields

    def describe(self) -> str:
        weights = ", ".join(f"{k} {v:g}" for k, v in self.weights.items())
        return (
            f"recipe {self.name}: {self.student} from {self.teacher} (init {self.init}; {weights}; {self.steps} steps "
            f"x {self.batch_size} sequences <= {self.max_length} tokens, lr {self.learning_rate:g}, seed {self.seed})"
        )


def pretrain_recipe(tables: Mapping[str, Mapping[str, Any]], name: str) -> PretrainRecipe:
    """The distillation pre-training recipe ``name`` (``base`` chain applied); errors name field and fix."""
    from harness.ml.distillation import DistillationWeights

    table = merged_table(tables, name, PRETRAIN_KEYS)
    table.pop("overrides", None)
    where = f"[recipes.{name}]"
    if table.get("kind") != PRETRAIN_KIND:
        raise MeasurementError(
            f"{where}: field 'kind': expected {PRETRAIN_KIND!r} (a distillation pre-training recipe), found "
            f"{table.get('kind')!r}; fix: add kind = {PRETRAIN_KIND!r} or name a pre-training recipe"
        )
    required = ("teacher", "student", "init", *WEIGHT_KEYS, "corpus", "held_out", *INT_KEYS, *FLOAT_KEYS)
    missing = [k for k in required if k not in table]
    if missing:
        raise MeasurementError(
            f"{where}: field {missing[0]!r}: expected it to be declared (the budget, corpus and seed of a "
            f"reduced-scale run are part of the claim), found it missing; fix: add {', '.join(missing)}"
        )
    if table["init"] not in INITS:
        raise MeasurementError(
            f"{where}: field 'init': expected one of {', '.join(INITS)}, found {table['init']!r}; fix: use "
            "'teacher' (every other teacher layer) or 'random' (the ablation row)"
        )
    for key in INT_KEYS:
        if isinstance(table[key], bool) or not isinstance(table[key], int) or table[key] < (0 if "seed" in key else 1):
            raise MeasurementError(f"{where}: field {key!r}: expected a positive integer, found {table[key]!r}")
    for key in FLOAT_KEYS:
        if isinstance(table[key], bool) or not isinstance(table[key], int | float) or not 0 < table[key] < 1:
            raise MeasurementError(f"{where}: field {key!r}: expected a number in (0, 1), found {table[key]!r}")
    for key in ("teacher", "student", "corpus", "held_out"):
        if not isinstance(table[key], str) or not table[key]:
            raise MeasurementError(f"{where}: field {key!r}: expected a non-empty string, found {table[key]!r}")
    weights = DistillationWeights.from_table({k: table[k] for k in WEIGHT_KEYS}, where)
    return PretrainRecipe(
        name=name,
        teacher=table["teacher"],
        student=table["student"],
        init=table["init"],
        weights={k: v for k, v in weights.as_dict().items() if k in WEIGHT_KEYS},
        corpus=table["corpus"],
        held_out=table["held_out"],
        steps=int(table["steps"]),
        batch_size=int(table["batch_size"]),
        max_length=int(table["max_length"]),
        seed=int(table["seed"]),
        eval_seed=int(table["eval_seed"]),
        mlm_probability=float(table["mlm_probability"]),
        learning_rate=float(table["learning_rate"]),
        source=str(table.get("source", "")),
    )
