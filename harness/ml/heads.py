"""A published checkpoint's task head: did it load, and does its label order fit the data?

``load_reporting_missing`` loads a checkpoint with its task head and returns the weights transformers had to
initialize at random (``output_loading_info``): a base checkpoint placed where a fine-tuned one belongs loads
without error, with a random head, so a score on it says nothing.

``check_permutations`` is the sanity check of a label order: the checkpoint's argmax classes are mapped to labels
by every permutation (no re-inference: the predictions are permuted, which is cheap) and each permutation's
accuracy is compared with the declared order's, paired on the same examples. A permutation is *far better*
when the lower end of the two-sided 99.9% normal interval of the paired accuracy difference (per-example
correct(best) - correct(declared), z = 3.29) exceeds ``MARGIN`` = 0.05 (5 accuracy points). z = 3.29 keeps the
chance of refusing a right order below 0.1% per alternative even after choosing the best of up to 5 of them
(3 labels); the margin keeps a tiny or near-chance model (whose permutations score alike) from being refused
for noise. A wrong order of a model that learned its task loses tens of points (TextAttack's MNLI read in GLUE's
order scores about a third), far beyond both.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import MeasurementError

#: z of the two-sided 99.9% interval of the paired accuracy difference
Z = 3.29
#: how much better (accuracy, as a fraction) the interval's lower end must be to call a permutation far better
MARGIN = 0.05


def load_reporting_missing(model_class: Any, path: Path) -> tuple[Any, list[str]]:
    """The checkpoint at ``path`` loaded with ``model_class`` (local files only) and the keys it lacked."""
    try:
        model, info = model_class.from_pretrained(str(path), local_files_only=True, output_loading_info=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise MeasurementError(
            f"the checkpoint at {path} cannot be loaded: {str(exc).splitlines()[0]}; "
            "check that its files are complete (re-download or re-copy it)"
        ) from None
    return model, sorted(info.get("missing_keys") or ())


def head_keys(model: Any, missing: Sequence[str]) -> list[str]:
    """The missing keys outside the base model (``bert.``, ``distilbert.``): the task head's."""
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    return [k for k in missing if prefix == "." or not k.startswith(prefix)]


@attrs.frozen
class PermutationCheck:
    """The declared label order against the best permutation of the checkpoint's outputs, on the same examples."""

    declared: tuple[int, ...]
    declared_accuracy: float
    best: tuple[int, ...]
    best_accuracy: float
    #: the lower end of the 99.9% interval of best minus declared accuracy (paired); 0 when best is declared
    lower: float
    examples: int

    @property
    def suspect(self) -> bool:
        return self.best != self.declared and self.lower > MARGIN

    def describe(self) -> dict[str, Any]:
        return {
            "declared_output_to_label": list(self.declared),
            "declared_accuracy": self.declared_accuracy,
            "best_output_to_label": list(self.best),
            "best_accuracy": self.best_accuracy,
            "difference_lower_99.9": self.lower,
            "margin": MARGIN,
            "examples": self.examples,
            "rule": f"suspect when the best permutation's paired accuracy gain has a 99.9% lower bound > {MARGIN}",
        }


def check_permutations(classes: Any, references: Any, declared: Sequence[int], num_labels: int) -> PermutationCheck:
    """Every permutation of ``num_labels`` outputs (output index -> label) scored against the declared one.

    ``classes`` are the checkpoint's argmax output indices, ``references`` the data set's labels, ``declared``
    the output -> label mapping the evaluation uses.
    """
    import numpy as np

    raw = np.asarray(classes, dtype=int)
    refs = np.asarray(references, dtype=int)
    declared_t = tuple(int(i) for i in declared)
    right = np.asarray(declared_t)[raw] == refs
    n = len(refs)
    best, best_right = declared_t, right
    for perm in itertools.permutations(range(num_labels)):
        candidate = np.asarray(perm)[raw] == refs
        if candidate.sum() > best_right.sum():
            best, best_right = perm, candidate
    lower = 0.0
    if best != declared_t and n >= 2:
        diff = best_right.astype(float) - right.astype(float)
        se = float(np.std(diff, ddof=1)) / math.sqrt(n)
        lower = float(diff.mean()) - Z * se
    return PermutationCheck(
        declared=declared_t,
        declared_accuracy=float(right.mean()) if n else math.nan,
        best=tuple(int(i) for i in best),
        best_accuracy=float(best_right.mean()) if n else math.nan,
        lower=lower,
        examples=n,
    )


def inverse(order: Sequence[int]) -> list[int]:
    """The inverse permutation: from ``label -> output`` (a declared label_order) to ``output -> label``."""
    out = [0] * len(order)
    for label, output in enumerate(order):
        out[output] = label
    return out
