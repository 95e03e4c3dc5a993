"""The run's multiplicity statement and the family-wise adjustment (issue 11, item 5).

- ``expected_false``: the expected number of NOT_REPRODUCED verdicts if every measured claim were replicated
  exactly: the sum over band verdicts with a budget of P(NOT_REPRODUCED | truth = claimed value), each from
  ``details.power`` (normal model, the budget's u and coverage factor).
- ``apply_familywise``: ``--claims-familywise=holm|bonferroni|bh``. Each band verdict with a budget gets its
  band-test p-value (``band_p_value`` from the measured value and u), the method gives each claim its interval
  level (``familywise_levels``), and the verdict is decided again on value +- k(level) u_c (k the budget's
  Student t at its effective dof). Holm and BH need every p-value, so this runs once all claims are measured:
  results.json, the terminal summary and the report carry the adjusted verdicts and ``details.familywise``
  (method, level); each test's own pass/fail outcome stays at the unadjusted 95%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from harness.core.distributions import normal_ppf, t_ppf
from harness.verdict import ClaimResult
from harness.verdict.bands import Band, Verdict, decide, limited
from harness.verdict.multiplicity import METHODS, band_p_value, expected_false_not_reproduced, familywise_levels

BAND_VERDICTS = (Verdict.REPRODUCED.value, Verdict.NOT_REPRODUCED.value, Verdict.INCONCLUSIVE.value)


def _judged(result: ClaimResult) -> bool:
    return (
        result.verdict in BAND_VERDICTS
        and result.measured is not None
        and result.band is not None
        and isinstance(result.details.get("power"), dict)
    )


def expected_false(results: Sequence[ClaimResult]) -> dict[str, Any]:
    """The multiplicity statement: expected false NOT_REPRODUCED, over how many band verdicts."""
    judged = [r for r in results if _judged(r)]
    probabilities = [float(r.details["power"]["false_not_reproduced"]) for r in judged]
    expected = expected_false_not_reproduced(probabilities) if probabilities else 0.0
    largest = sorted(zip(probabilities, (r.id for r in judged), strict=True), reverse=True)[:3]
    return {
        "expected_false_not_reproduced": expected,
        "band_verdicts_with_budget": len(judged),
        "band_verdicts_without_budget": sum(1 for r in results if r.verdict in BAND_VERDICTS and not _judged(r)),
        "largest": [{"id": i, "probability": p} for p, i in largest if p > 0],
    }


def summary_line(statement: dict[str, Any]) -> str:
    """One line for the terminal summary."""
    largest = ", ".join(f"{x['id']} {x['probability']:.2g}" for x in statement["largest"])
    line = (
        f"multiplicity: expected false NOT_REPRODUCED under exact replication = "
        f"{statement['expected_false_not_reproduced']:.3g} over {statement['band_verdicts_with_budget']} band "
        "verdicts with a budget"
    )
    if statement["band_verdicts_without_budget"]:
        line += f" ({statement['band_verdicts_without_budget']} band verdicts without one are not counted)"
    return line + (f"; largest: {largest}" if largest else "")


def apply_familywise(results: Sequence[ClaimResult], method: str | None, level: float = 0.95) -> list[ClaimResult]:
    """The results with band verdicts re-decided at the method's per-claim levels (unchanged for None)."""
    if method is None:
        return list(results)
    if method not in METHODS:
        raise ValueError(f"--claims-familywise={method!r}: expected one of {', '.join(METHODS)}")
    judged = [i for i, r in enumerate(results) if _judged(r) and r.details.get("budget")]
    if not judged:
        return list(results)
    p_values = []
    for i in judged:
        r = results[i]
        lo, hi = r.band  # type: ignore[misc]
        p_values.append(
            band_p_value(float(r.measured), float(r.details["budget"]["combined_standard_uncertainty"]), lo, hi)
        )  # type: ignore[arg-type]
    levels = familywise_levels(p_values, method, level)
    out = list(results)
    for i, p, new_level in zip(judged, p_values, levels, strict=True):
        out[i] = _redecide(results[i], method, new_level, p, len(judged))
    return out


def _redecide(result: ClaimResult, method: str, level: float, p_value: float, family: int) -> ClaimResult:
    budget = result.details["budget"]
    u = float(budget["combined_standard_uncertainty"])
    dof = budget.get("effective_dof")
    q = 0.5 + level / 2.0
    k = normal_ppf(q) if dof is None or not math.isfinite(dof) else t_ppf(q, dof)
    value = float(result.measured)  # type: ignore[arg-type]
    interval = (value - k * u, value + k * u)
    lo, hi = result.band  # type: ignore[misc]
    decision = decide(Band(lo, hi), value, interval)
    limits = result.details.get("limits") or {}
    decided, reason = limited(
        decision.verdict, decision.reason, limits.get("inconclusive"), limits.get("at_best_inconclusive")
    )
    verdict = decided.value
    reason += f" (family-wise {method} over {family} band verdicts: interval level {level:.4%}, p = {p_value:.3g})"
    details = {
        **result.details,
        "familywise": {
            "method": method,
            "level": level,
            "p_value": p_value,
            "family": family,
            "unadjusted": {"verdict": result.verdict, "interval": result.interval},
        },
    }
    return attrs.evolve(result, verdict=verdict, reason=reason, interval=interval, details=details)
