"""The report's numbers as evidence: can they be what they say, are they what the paper's are, and are
its percentages percentages?

- Granularity (``harness.verdict.granularity.grim``, Brown and Heathers 2016): an accuracy or exact match
  on n examples is k/n; a reported value that no k/n rounds to (92.75% on SST-2's 872 examples) was not
  computed on those examples, or was mistyped. A finding about the report, not a verdict on the paper.
- Statistic: a single run set against the paper's median of N seeds (the ``statistic`` condition of both);
  its seed spread is in the budget only where ``[uncertainty.seed_sd]`` declares it.
- Percent vs points: "X%" for a difference of two percentages (accuracies, retentions) whose value is the
  difference in percentage points, not the relative change; both readings are computed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from harness.report.audit.budget import ONE_RUN, statistic_of, task_of
from harness.report.audit.model import (
    DIFFERENT_STATISTIC,
    IMPOSSIBLE,
    NOT_APPLICABLE,
    OK,
    POINTS_AS_PERCENT,
    SINGLE_RUN,
    Check,
    decimals_of,
    near,
    stated_text,
)
from harness.report.replications import Replication, ReportedNumber
from harness.report.terminal import fmt_value
from harness.spec import Claim, ClaimsFile
from harness.spec.formula import dotted_name
from harness.spec.units import convert
from harness.verdict import statistic_mismatch
from harness.verdict.granularity import APPLICABLE, grim
from harness.verdict.granularity import NOT_APPLICABLE as GRIM_NOT_APPLICABLE

GRANULARITY, STATISTIC, PERCENT = "granularity", "statistic", "percent"
#: units of a share (a percentage of something): differences of two of them are in percentage points
SHARES = ("percent", "points")


def _check(number: ReportedNumber, aspect: str, status: str, expected: str, reason: str) -> Check:
    return Check(
        id=number.id,
        status=status,
        quote=number.quote,
        location=number.location,
        stated=stated_text(number.value, number.unit, number.precision),
        expected=expected,
        reason=reason,
        claim=number.claim,
        formula=number.formula.text if number.formula else None,
        aspect=aspect,
    )


def granularity(number: ReportedNumber, claim: Claim) -> Check | None:
    """Is the reported score k/n for the claim's split size? None when the claim is no task score."""
    scored = task_of(claim)
    if scored is None:
        return None
    if scored.metric not in APPLICABLE + GRIM_NOT_APPLICABLE:
        return _check(number, GRANULARITY, NOT_APPLICABLE, "-", f"GRIM knows no rule for {scored.metric}")
    scale = convert(1.0, "ratio", number.unit)
    result = grim(number.value, decimals_of(number.precision), scored.examples, scored.metric, scale)
    if not result.applicable:
        return _check(number, GRANULARITY, NOT_APPLICABLE, "-", result.explanation)
    split = (
        f" ({scored.task}'s {claim.metric.split if claim.metric else ''} split, assumed by the auditor: the report "
        "does not name it)"
        if "split" in number.assumed
        else ""
    )
    shown = ", ".join(
        f"{k}/{scored.examples} = {v:.{decimals_of(number.precision) + 2}f}"
        for k, v in zip(result.counts, result.nearest, strict=True)
    )
    return _check(number, GRANULARITY, OK if result.consistent else IMPOSSIBLE, shown, result.explanation + split)


def statistic(number: ReportedNumber, claim: Claim, claims_file: ClaimsFile) -> Check | None:
    """A single run (or another statistic) against the paper's median of N; None when the paper states none."""
    scored = task_of(claim)
    claimed = claim.conditions.get("statistic")
    if scored is None or claimed is None:
        return None
    what, assumed = statistic_of(number)
    mismatch = statistic_mismatch(claim, {"statistic": what})
    paper = f"the paper's {fmt_value(claim.value, claim.unit)} is a {claimed} ({claim.location})"
    mine = f"the report's {stated_text(number.value, number.unit, number.precision)} is {what}" + (
        " (assumed: the report states no number of runs or seeds)" if assumed else ""
    )
    if mismatch is None:
        return _check(number, STATISTIC, OK, str(claimed), f"{mine}; {paper}: the same statistic")
    declared = claims_file.seed_sd.get(scored.task)
    spread = (
        f"the spread of one fine-tuning run around the median, declared as {declared.value:g} {declared.unit} "
        f"({declared.source}), is in the number's budget"
        if declared is not None
        else (
            f"that difference includes the spread of one fine-tuning run around the median, which no "
            f"[uncertainty.seed_sd] entry for {scored.task} declares: the verdict on this number is at best "
            "INCONCLUSIVE"
        )
    )
    status = SINGLE_RUN if what == ONE_RUN else DIFFERENT_STATISTIC
    return _check(number, STATISTIC, status, str(claimed), f"{mine}; {paper}: {spread}")


def _difference(number: ReportedNumber) -> tuple[str, str] | None:
    """The two ids of a formula that is a plain difference ``a - b``, else None."""
    if number.formula is None:
        return None
    tree = ast.parse(number.formula.text, mode="eval").body
    if not isinstance(tree, ast.BinOp) or not isinstance(tree.op, ast.Sub):
        return None
    left, right = dotted_name(tree.left), dotted_name(tree.right)
    return None if left is None or right is None else (left, right)


def _written_as_percent(number: ReportedNumber) -> bool:
    """Whether the report's quote writes this number followed by a percent sign ("1.6%", "+0.59 %")."""
    text = f"{abs(number.value):.{decimals_of(number.precision)}f}"
    return re.search(rf"(?<![\d.]){re.escape(text)}\s*%", number.quote) is not None


def percent_vs_points(number: ReportedNumber, replication: Replication) -> Check | None:
    """ "X%" for a difference of two percentages: the points (absolute) and the relative reading computed."""
    pair = _difference(number)
    if pair is None or number.unit not in SHARES or not _written_as_percent(number):
        return None
    items = [replication.item(name) for name in pair]
    if any(i.value is None or i.unit not in SHARES for i in items):
        return None
    a, b = (convert(float(i.value), str(i.unit), "points") for i in items)  # type: ignore[arg-type]
    papers = [i for i in items if not isinstance(i, ReportedNumber)]
    reference = papers[0] if len(papers) == 1 else items[1]
    ref_value = convert(float(reference.value), str(reference.unit), "points")  # type: ignore[arg-type]
    if ref_value == 0:
        return None
    points = a - b
    relative = 100.0 * points / ref_value
    stated = convert(number.value, number.unit, "points")
    half = number.precision / 2
    readings = (
        f"{pair[0]} - {pair[1]} = {fmt_value(a)} - {fmt_value(b)} = {points:.4g} percentage points (absolute); "
        f"relative to {reference.id} ({fmt_value(ref_value)}): {points:.4g} / {fmt_value(ref_value)} = "
        f"{relative:.3g}%"
    )
    if not near(abs(stated), abs(points), half) or near(abs(stated), abs(relative), half):
        return None  # not the points reading (the arithmetic check says what it is), or both readings agree
    reason = (
        f'the report writes "{fmt_value(abs(number.value))}%" for a difference of two percentages: {readings}. '
        f"It is {abs(points):.4g} percentage points, a relative change of {abs(relative):.3g}%"
    )
    return _check(number, PERCENT, POINTS_AS_PERCENT, readings, reason)


def evidence_checks(
    replication: Replication, claims_file: ClaimsFile, invalid: Mapping[str, Exception]
) -> tuple[Check, ...]:
    """Granularity, statistic and percent-vs-points checks of every reported number, in the file's order."""
    valid: dict[str, Any] = {c.id: c for c in claims_file.claims}
    out: list[Check] = []
    for number in replication.numbers:
        claim = valid.get(str(number.claim)) if number.claim and number.claim not in invalid else None
        if claim is not None:
            out += filter(None, (granularity(number, claim), statistic(number, claim, claims_file)))
        found = percent_vs_points(number, replication)
        if found is not None:
            out.append(found)
    return tuple(out)
