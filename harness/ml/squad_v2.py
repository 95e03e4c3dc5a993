"""SQuAD v2.0 scoring, as the official ``evaluate-v2.0.py`` computes it (Rajpurkar, Jia and Liang, 2018).

SQuAD v2.0 adds questions the paragraph does not answer; a system abstains by predicting the empty string.
Per question, with the v1.1 normalization (``harness.ml.metrics.normalize_answer``):

- the gold answers are those whose normalized text is not empty; a question without any (an unanswerable
  one) has the single gold answer ``""``;
- exact match is the maximum over the gold answers of ``normalize(prediction) == normalize(gold)``;
- F1 is the maximum over the gold answers of the token F1, except that when the gold or the predicted answer
  has no tokens it is 1 exactly when both have none (abstaining on an unanswerable question scores 1, any
  answer to it 0, and abstaining on an answerable one 0);
- a question "has an answer" (``HasAns``) when its answer list is not empty, else it is ``NoAns``.

The overall scores are the means over all questions (``squad_v2_exact``, ``squad_v2_f1``); ``has_ans_*`` and
``no_ans_*`` are the means over the HasAns and NoAns questions only, as the official script's ``HasAns_exact``,
``HasAns_f1``, ``NoAns_exact`` and ``NoAns_f1`` (fractions here; the script prints them x100). No no-answer
probability threshold is applied: the predictions are scored as given (the script's default without
``--na-prob-file``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence

from harness.ml.answer_text import normalize_answer


def gold_answers(answers: Sequence[str]) -> list[str]:
    """The answers whose normalized text is not empty, or ``[""]`` when there are none (unanswerable)."""
    return [a for a in answers if normalize_answer(a)] or [""]


def has_answer(answers: Sequence[str]) -> bool:
    """Whether the question is answerable (the official script's ``qid_to_has_ans``: a non-empty list)."""
    return bool(answers)


def _exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction: str, gold: str) -> float:
    gold_tokens = normalize_answer(gold).split()
    pred_tokens = normalize_answer(prediction).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    same = sum((collections.Counter(gold_tokens) & collections.Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact(prediction: str, answers: Sequence[str]) -> float:
    """Exact match of one prediction (``""``: no answer) against the question's answers."""
    return max(_exact(prediction, g) for g in gold_answers(answers))


def f1(prediction: str, answers: Sequence[str]) -> float:
    """Token F1 of one prediction (``""``: no answer) against the question's answers."""
    return max(_f1(prediction, g) for g in gold_answers(answers))


#: metric name -> (per-question score, which questions it averages over: None for all)
SCORES: dict[str, tuple[Callable[[str, Sequence[str]], float], Callable[[Sequence[str]], bool] | None]] = {
    "squad_v2_exact": (exact, None),
    "squad_v2_f1": (f1, None),
    "has_ans_exact": (exact, has_answer),
    "has_ans_f1": (f1, has_answer),
    "no_ans_exact": (exact, lambda answers: not has_answer(answers)),
    "no_ans_f1": (f1, lambda answers: not has_answer(answers)),
}
