"""Task metrics that work offline, and their bootstrap replicates over evaluation examples.

Every metric is written over the last axis of its arrays, so that the same code gives the point value on
``(n,)`` arrays and a whole chunk of bootstrap replicates on ``(replicates, n)`` arrays of resampled
examples. Definitions follow the GLUE benchmark (F1 of the positive class 1, Matthews correlation, Pearson
and Spearman correlations and their combined variants) and the official SQuAD v1.1 evaluation script
(answer normalization, exact match and token F1, each the maximum over the ground truths), and SQuAD v2.0's
official ``evaluate-v2.0.py`` (``harness.ml.squad_v2``: no-answer questions, HasAns / NoAns subsets).
Scores are fractions in [0, 1] (correlations in [-1, 1]); claims in ``points`` are these x100.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from harness.ml.answer_text import normalize_answer
from harness.ml.squad_v2 import SCORES as SQUAD_V2_SCORES

if TYPE_CHECKING:
    import numpy as np

#: replicates computed at once: bounds memory at CHUNK x n resampled indices
CHUNK = 200


def _binary_counts(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives of the positive class 1, along the last axis."""
    tp = ((pred == 1) & (ref == 1)).sum(axis=-1)
    fp = ((pred == 1) & (ref != 1)).sum(axis=-1)
    fn = ((pred != 1) & (ref == 1)).sum(axis=-1)
    return tp, fp, fn


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's convention for F1 and the Matthews correlation)."""
    import numpy as np

    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def accuracy(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Fraction of predicted labels equal to the reference labels."""
    import numpy as np

    return np.mean(pred == ref, axis=-1)


def f1(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """F1 of the positive class (label 1), as GLUE reports it for MRPC and QQP."""
    tp, fp, fn = _binary_counts(pred, ref)
    return _divide(2 * tp, 2 * tp + fp + fn)


def matthews_correlation(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Matthews correlation of labels (multiclass form of Gorodkin 2004, as scikit-learn computes it)."""
    import numpy as np

    classes = np.union1d(np.unique(pred), np.unique(ref))
    n = pred.shape[-1]
    c = sum(((pred == k) & (ref == k)).sum(axis=-1) for k in classes)  # correctly predicted
    t = np.stack([(ref == k).sum(axis=-1) for k in classes], axis=-1)  # true counts per class
    p = np.stack([(pred == k).sum(axis=-1) for k in classes], axis=-1)  # predicted counts per class
    num = c * n - (t * p).sum(axis=-1)
    den = np.sqrt((n * n - (p * p).sum(axis=-1)).astype(float)) * np.sqrt((n * n - (t * t).sum(axis=-1)).astype(float))
    return _divide(num, den)


def pearson(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Pearson correlation (NaN when either side is constant)."""
    import numpy as np

    constant = (pred == pred[..., :1]).all(axis=-1) | (ref == ref[..., :1]).all(axis=-1)
    x = pred - pred.mean(axis=-1, keepdims=True)
    y = ref - ref.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        # scaled to a maximum of 1 first (as scipy does), so that tiny spreads do not underflow when squared
        x = x / np.abs(x).max(axis=-1, keepdims=True)
        y = y / np.abs(y).max(axis=-1, keepdims=True)
        r = (x * y).sum(axis=-1) / np.sqrt((x * x).sum(axis=-1) * (y * y).sum(axis=-1))
    return np.where(constant, np.nan, np.clip(r, -1.0, 1.0))


def spearman(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Spearman rank correlation: Pearson of the ranks, ties given their average rank."""
    from scipy.stats import rankdata

    return pearson(rankdata(pred, axis=-1), rankdata(ref, axis=-1))


def acc_and_f1(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The mean of accuracy and F1 (GLUE's single score for MRPC and QQP)."""
    return (accuracy(pred, ref) + f1(pred, ref)) / 2.0


def pearson_spearman_mean(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The mean of the Pearson and Spearman correlations (GLUE's single score for STS-B)."""
    return (pearson(pred, ref) + spearman(pred, ref)) / 2.0


# ---------------------------------------------------------------- SQuAD v1.1 (official evaluate-v1.1.py)


def _exact(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def _token_f1(prediction: str, truth: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    truth_tokens = normalize_answer(truth).split()
    common = collections.Counter(pred_tokens) & collections.Counter(truth_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(truth_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_exact(prediction: str, ground_truths: Sequence[str]) -> float:
    """1.0 when the normalized prediction equals a normalized ground truth (maximum over them)."""
    return max(_exact(prediction, t) for t in ground_truths)


def squad_token_f1(prediction: str, ground_truths: Sequence[str]) -> float:
    """Token-overlap F1 of the normalized answers, the maximum over the ground truths."""
    return max(_token_f1(prediction, t) for t in ground_truths)


def _mean_score(per_example: np.ndarray, _unused: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.mean(per_example, axis=-1)


def _subset_mean(per_example: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """The mean of the per-example scores over the examples ``counted`` marks (NaN for a resample of none)."""
    import numpy as np

    n = counted.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (per_example * counted).sum(axis=-1) / np.maximum(n, 1), np.nan)


#: metric name -> function of (predictions, references) over the last axis
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "accuracy": accuracy,
    "f1": f1,
    "matthews_correlation": matthews_correlation,
    "pearson": pearson,
    "spearman": spearman,
    "acc_and_f1": acc_and_f1,
    "pearson_spearman_mean": pearson_spearman_mean,
    "exact_match": _mean_score,
    "squad_f1": _mean_score,
    **{name: _subset_mean for name in SQUAD_V2_SCORES},
}
#: metrics over extracted answers: per-example scores first, then their mean
SPAN_METRICS = {"exact_match": squad_exact, "squad_f1": squad_token_f1}


def _arrays(name: str, predictions: Sequence, references: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The arrays a metric runs on: labels/scores as given, or per-example SQuAD scores for span metrics."""
    import numpy as np

    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if len(predictions) == 0:
        raise ValueError("no examples to score")
    if name in SPAN_METRICS:
        score = SPAN_METRICS[name]
        per_example = np.array([score(p, r) for p, r in zip(predictions, references, strict=True)])
        return per_example, per_example
    if name in SQUAD_V2_SCORES:  # per-question scores, and which questions the metric averages over
        scorer, subset = SQUAD_V2_SCORES[name]
        pairs = list(zip(predictions, references, strict=True))
        per_example = np.array([scorer(p, r) for p, r in pairs])
        counted = np.array([1.0 if subset is None or subset(r) else 0.0 for _, r in pairs])
        if not counted.any():
            raise ValueError(f"metric {name}: none of the {len(pairs)} questions is of its subset")
        return per_example, counted
    return np.asarray(predictions), np.asarray(references)


def compute(name: str, predictions: Sequence, references: Sequence) -> float:
    """The metric ``name`` of the predictions against the references (SQuAD: answers vs lists of answers)."""
    pred, ref = _arrays(name, predictions, references)
    return float(METRICS[name](pred, ref))


def bootstrap(name: str, predictions: Sequence, references: Sequence, seed: int) -> np.ndarray:
    """``N_REPLICATES`` bootstrap replicates of the metric over resampled examples.

    The resampled indices depend only on ``seed`` and the number of examples, so two models scored on
    the same evaluation set with the same seed are resampled alike (paired), which keeps differences and
    ratios of their scores tight.
    """
    import numpy as np

    from harness.core.stats import N_REPLICATES, bootstrap_indices, rng

    pred, ref = _arrays(name, predictions, references)
    function = METRICS[name]
    generator = rng(seed)
    out = []
    for start in range(0, N_REPLICATES, CHUNK):
        idx = bootstrap_indices(len(pred), generator, min(CHUNK, N_REPLICATES - start))
        out.append(np.asarray(function(pred[idx], ref[idx]), dtype=float))
    return np.concatenate(out)
