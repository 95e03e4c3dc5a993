"""Readings made explicit: the source's own point behind a one-sided claim, and its alternative values.

A one-sided band ("at least 1.6x", "within 3.9 points") accepts values the source never stated: the verdict
line therefore also says where the source's own number falls against the measured interval ("the paper's own
668/410 = 1.63 is outside the interval"). This comparison is shown, never decides. An ``alternative`` (a value
the source may have meant, e.g. MNLI 84.7 for the printed 86.7) gets its own band decision, stored and shown
next to the verdict, which stays the decision against the printed value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.spec import Claim
from harness.verdict.bands import Band, claim_band, decide, fmt_number, point_in
from harness.verdict.consistency import Consistency


def _with_stated(text: str, components: Mapping[str, Claim]) -> str:
    """The formula with each claim id replaced by its stated value: "668 / 410"."""
    names = sorted(components, key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile("|".join(re.escape(n) for n in names))
    return pattern.sub(lambda m: fmt_number(components[m.group(0)].value), text)


def paper_point(claim: Claim, consistency: Consistency | None, components: Mapping[str, Claim]) -> tuple[float, str]:
    """The source's own point number for the claim and how it is obtained: ``paper_value`` when declared,
    else the formula over the stated components, else the stated value itself."""
    if claim.paper_value is not None:
        return claim.paper_value, f"the paper's own {fmt_number(claim.paper_value)}"
    if claim.formula is not None and consistency is not None:
        expression = _with_stated(claim.formula.text, components)
        return consistency.recomputed, f"the paper's own {expression} = {fmt_number(consistency.recomputed)}"
    return claim.value, f"the paper's own {fmt_number(claim.value)}"


def point_comparison(
    claim: Claim,
    b: Band,
    consistency: Consistency | None,
    components: Mapping[str, Claim],
    value: float,
    interval: tuple[float, float] | None,
) -> dict[str, Any] | None:
    """For a one-sided (or sign) band: where the source's own point falls against the measurement."""
    if not b.one_sided:
        return None
    point, how = paper_point(claim, consistency, components)
    inside = point_in(interval, point)
    if inside is None:
        text = f"{how} vs measured {fmt_number(value)} (no interval)"
    else:
        lo, hi = interval  # type: ignore[misc]
        where = "inside" if inside else "outside"
        text = f"{how} is {where} the measured interval [{fmt_number(lo)}, {fmt_number(hi)}]"
    return {"paper_value": point, "how": how, "inside_interval": inside, "text": text}


def alternative_decisions(
    claim: Claim, value: float, interval: tuple[float, float] | None
) -> tuple[dict[str, Any], ...]:
    """The band decision against each alternative value, with the same tolerance as the stated value."""
    out = []
    for alt in claim.alternatives:
        b = claim_band(claim, alt.value)
        decision = decide(b, value, interval)
        out.append(
            {
                "value": alt.value,
                "source": alt.source,
                "band": (b.lo, b.hi),
                "verdict": decision.verdict.value,
                "reason": decision.reason,
            }
        )
    return tuple(out)
