"""The verdict and its statistics: bands, decisions, consistency of the source, comparability, results.

Pure functions over numbers and the claims language's records, so that every decision can be unit-tested
with exact values: a claimed value and its tolerance give a band; a measured value and its interval give a
verdict; a derived claim is checked against the source's own components; a measurement's conditions are
compared with the claim's. ``ClaimResult`` is the value object every output reads.

May import: ``harness.core`` and ``harness.spec``.
"""

from harness.verdict.bands import SEVERITY, Band, Decision, Verdict, band, claim_band, decide, deviation, unjudgeable
from harness.verdict.conditions import condition_matches, differing_conditions
from harness.verdict.consistency import Consistency, check_consistency
from harness.verdict.ordering import sign_decision
from harness.verdict.result import ClaimResult, summary

__all__ = [
    "SEVERITY",
    "Band",
    "ClaimResult",
    "Consistency",
    "Decision",
    "Verdict",
    "band",
    "check_consistency",
    "claim_band",
    "condition_matches",
    "decide",
    "deviation",
    "differing_conditions",
    "sign_decision",
    "summary",
    "unjudgeable",
]
