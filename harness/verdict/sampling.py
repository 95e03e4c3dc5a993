"""The sampling uncertainty of a score from its evaluation split's size: what n examples alone allow.

One approximation per metric, the same wherever the harness needs a score's uncertainty without its
per-example predictions (the plan before measuring, ``harness.measure.plan``; a third party's reported
number, ``harness.report.audit``):

- accuracy, exact match: binomial, ``sqrt(p (1 - p) / n)`` (the normal reading of the examples' bootstrap);
- F1 (binary, SQuAD token F1): the same binomial form with the F1 in place of p (an approximation);
- MCC, Pearson, Spearman: the large-sample SD of a correlation, ``(1 - r^2) / sqrt(n - 1)``;
- the means of two metrics (acc_and_f1, pearson_spearman_mean): the first metric's form (the two are
  strongly correlated, so the mean's SD is close to either's).

Values are on the metric's own scale (a fraction for accuracy, r for a correlation), as is the SD.
"""

from __future__ import annotations

import math

from harness.core.stats_input import require

BINOMIAL = ("accuracy", "exact_match", "f1", "squad_f1", "acc_and_f1")
CORRELATION = ("matthews_correlation", "pearson", "spearman", "pearson_spearman_mean")


def metric_standard_uncertainty(metric: str, value: float, examples: int) -> tuple[float, str] | None:
    """``(sd, how)``: the standard uncertainty of ``metric`` = ``value`` on ``examples`` examples, and the
    approximation used in words; None for a metric with no such approximation (or fewer than 2 examples)."""
    require(
        math.isfinite(value),
        "metric_standard_uncertainty(value)",
        "a finite score on the metric's scale (a fraction, or r)",
        value,
        "pass the score in its base unit (points / 100)",
    )
    if examples < 2:
        return None
    if metric in BINOMIAL:
        p = min(max(value, 0.0), 1.0)
        return math.sqrt(p * (1 - p) / examples), f"binomial sqrt(p(1-p)/n), n = {examples}"
    if metric in CORRELATION:
        r = min(abs(value), 1.0)
        return (1 - r * r) / math.sqrt(examples - 1), f"correlation (1-r^2)/sqrt(n-1), n = {examples}"
    return None
