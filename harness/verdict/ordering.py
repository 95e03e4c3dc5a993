"""The verdict of an ordering claim: inequalities judged on intervals, not on points.

Each inequality ``left <op> right`` is read as "the bigger side is above the smaller one" (for ``<`` and
``<=`` the sides swap). With ``margin`` m (the claim's ``tolerance.value``; only for ``>=``/``<=``, e.g. the
room "on par" leaves), an inequality

- **agrees** when the bigger side's whole interval is above the smaller's: ``big.lo > small.hi`` (strict) or
  ``big.lo >= small.hi - m``;
- **contradicts** when it is wholly below: ``big.hi < small.lo`` (strict) or ``big.hi < small.lo - m``;
- **overlaps** otherwise.

The claim is REPRODUCED when every inequality agrees, NOT_REPRODUCED when any contradicts, INCONCLUSIVE
otherwise. Pure functions over numbers, unit-tested with exact values.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from harness.verdict.bands import Decision, Verdict, fmt_number

AGREES, CONTRADICTS, OVERLAPS = "agrees", "contradicts", "overlaps"


@attrs.frozen
class Side:
    """One side of an inequality: its point value and interval (a stated number's is ± precision/2)."""

    point: float
    interval: tuple[float, float]
    #: "measured" or "stated" (the source's number, used as given)
    origin: str = "measured"

    def shown(self) -> str:
        lo, hi = self.interval
        return f"{fmt_number(self.point)} [{fmt_number(lo)}, {fmt_number(hi)}] ({self.origin})"


@attrs.frozen
class InequalityOutcome:
    text: str
    status: str
    left: Side
    right: Side
    reason: str


def judge_inequality(text: str, relation: str, left: Side, right: Side, margin: float = 0.0) -> InequalityOutcome:
    """Whether the intervals of the two sides agree with ``left relation right``, contradict it or overlap."""
    if relation not in (">", ">=", "<", "<="):
        raise ValueError(f"unknown relation {relation!r}")
    big, small = (left, right) if relation in (">", ">=") else (right, left)
    strict = relation in (">", "<")
    m = 0.0 if strict else margin
    if (big.interval[0] > small.interval[1]) if strict else (big.interval[0] >= small.interval[1] - m):
        status = AGREES
    elif big.interval[1] < small.interval[0] - m:
        status = CONTRADICTS
    else:
        status = OVERLAPS
    room = f" (margin {fmt_number(m)})" if m else ""
    reason = f"{text}{room}: {status}, {left.shown()} vs {right.shown()}"
    return InequalityOutcome(text, status, left, right, reason)


def decide_order(outcomes: Sequence[InequalityOutcome]) -> Decision:
    """REPRODUCED when every inequality agrees, NOT_REPRODUCED when one contradicts, INCONCLUSIVE otherwise."""
    if not outcomes:
        raise ValueError("an ordering claim needs at least one inequality")
    by = {s: [o for o in outcomes if o.status == s] for s in (AGREES, CONTRADICTS, OVERLAPS)}
    counts = (
        f"{len(by[AGREES])} of {len(outcomes)} inequalities agree on the intervals, "
        f"{len(by[CONTRADICTS])} contradicted, {len(by[OVERLAPS])} overlap"
    )
    if by[CONTRADICTS]:
        return Decision(
            Verdict.NOT_REPRODUCED, f"{counts}; contradicted: " + "; ".join(o.reason for o in by[CONTRADICTS])
        )
    if by[OVERLAPS]:
        return Decision(Verdict.INCONCLUSIVE, f"{counts}; overlapping: " + "; ".join(o.reason for o in by[OVERLAPS]))
    return Decision(Verdict.REPRODUCED, counts)
