"""Granularity: can a reported score be k/n at all? The GRIM test (Brown and Heathers, 2016).

A mean of n per-example 0/1 scores (accuracy, SQuAD exact match) can only take the values k/n. A reported
percentage with d decimals is consistent when some k in 0..n rounds to it; e.g. 92.75% on the 872 SST-2
validation examples is not: 808/872 = 92.66% and 809/872 = 92.78%. Rounding is read leniently (any k within
half a unit of the last decimal, inclusive), so neither round-half-up nor round-half-even is assumed.
F1, the Matthews correlation, correlations and SQuAD's token F1 are not means of 0/1 scores: the test does
not apply to them, and ``grim`` says so rather than passing them.
"""

from __future__ import annotations

import math

import attrs

from harness.core.stats_input import require

#: metrics that are a mean of per-example 0/1 scores
APPLICABLE = ("accuracy", "exact_match")
#: metrics known not to be such a mean (anything else is refused as unknown)
NOT_APPLICABLE = (
    "f1",
    "matthews_correlation",
    "pearson",
    "spearman",
    "acc_and_f1",
    "pearson_spearman_mean",
    "squad_f1",
)


@attrs.frozen
class GrimResult:
    """The test's outcome. ``consistent`` is None when it does not apply; ``nearest`` are the reachable values
    (on the reported scale, unrounded) nearest below and above the reported one, with their counts."""

    applicable: bool
    consistent: bool | None
    reported: float
    examples: int
    nearest: tuple[float, ...]
    counts: tuple[int, ...]
    explanation: str


def grim(reported: float, decimals: int, examples: int, metric: str = "accuracy", scale: float = 100.0) -> GrimResult:
    """Is ``reported`` (with ``decimals`` decimals, on ``scale``: 100 for percent, 1 for fractions) k/n?"""
    require(
        examples >= 1,
        "grim(examples)",
        "the split's number of examples >= 1",
        examples,
        "pass the evaluation split's size",
    )
    require(decimals >= 0, "grim(decimals)", "decimals >= 0", decimals, "count the digits after the point")
    require(scale > 0, "grim(scale)", "a positive scale (100 for percent, 1 for fractions)", scale, "pass 100 or 1")
    require(
        math.isfinite(reported),
        "grim(reported)",
        "a finite reported value",
        reported,
        "pass the number as the source prints it",
    )
    known = APPLICABLE + NOT_APPLICABLE
    require(metric in known, "grim(metric)", f"one of {known}", metric, "name the metric the paper reports")
    if metric in NOT_APPLICABLE:
        return GrimResult(
            False,
            None,
            reported,
            examples,
            (),
            (),
            f"GRIM does not apply to {metric}: it is not a mean of per-example 0/1 scores, so its values are not "
            "restricted to k/n",
        )
    half_unit = 0.5 * 10.0**-decimals
    slack = 1e-9 * max(1.0, abs(reported))
    exact = reported * examples / scale
    low = max(0, min(examples, math.floor(exact)))
    high = max(0, min(examples, math.ceil(exact)))
    counts = tuple(sorted({low, high}))
    values = tuple(scale * k / examples for k in counts)
    consistent = any(abs(v - reported) <= half_unit + slack for v in values)
    shown = ", ".join(f"{k}/{examples} = {v:.{decimals + 2}f}" for k, v in zip(counts, values, strict=True))
    step = scale / examples
    if consistent:
        note = " (uninformative: steps of 1/n are finer than the reported decimals)" if step < 2 * half_unit else ""
        explanation = f"{reported:.{decimals}f} is reachable on {examples} examples: {shown}{note}"
    else:
        explanation = (
            f"{reported:.{decimals}f} is not reachable as k/{examples} with {decimals} decimal(s): the nearest are "
            f"{shown}; the reported number was not computed on {examples} examples, or was mistyped"
        )
    return GrimResult(True, consistent, reported, examples, values, counts, explanation)
