"""The verdict and its statistics: bands, decisions, consistency of the source, comparability, results.

Pure functions over numbers and the claims language's records, so that every decision can be unit-tested
with exact values: a claimed value and its tolerance give a band; a measured value and its interval give a
verdict; a derived claim is checked against the source's own components; a measurement's conditions are
compared with the claim's; a score known only as a number gets its sampling uncertainty from its split size
(``sampling``). ``ClaimResult`` is the value object every output reads.

May import: ``harness.core`` and ``harness.spec``.
"""

from harness.verdict.bands import (
    SEVERITY,
    Band,
    Decision,
    InvalidInterval,
    Verdict,
    band,
    check_interval,
    claim_band,
    decide,
    deviation,
    point_in,
    unjudgeable,
)
from harness.verdict.conditions import condition_matches, differing_conditions, normalise, statistic_mismatch
from harness.verdict.consistency import Consistency, check_consistency
from harness.verdict.ordering import InequalityOutcome, Side, decide_order, judge_inequality
from harness.verdict.result import ClaimResult, summary

__all__ = [
    "SEVERITY",
    "Band",
    "ClaimResult",
    "Consistency",
    "Decision",
    "InequalityOutcome",
    "InvalidInterval",
    "Side",
    "Verdict",
    "band",
    "check_consistency",
    "check_interval",
    "claim_band",
    "condition_matches",
    "decide",
    "decide_order",
    "deviation",
    "differing_conditions",
    "judge_inequality",
    "normalise",
    "point_in",
    "statistic_mismatch",
    "summary",
    "unjudgeable",
]
