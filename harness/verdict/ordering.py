"""Signs: the verdict of a claim about the direction of an effect (``sign`` in ``[claims.tolerance]``).

A direction claim ("removing L_ce lowers the score", "the row without L_mlm scores above the row without L_ce")
is strict: zero is neither negative nor positive, so a measured difference of exactly 0 (two rows that predict
every held-out token alike) does not reproduce it. Pure functions over numbers, tested with exact values.

(The minimal sign verdict issue 15 needs; the fuller reading of signs and orderings is issue 11's.)
"""

from __future__ import annotations

import math

from harness.verdict.bands import Decision, Verdict, fmt_number

SIGNS = ("negative", "positive")


def sign_decision(sign: str, value: float, interval: tuple[float, float] | None = None) -> Decision:
    """REPRODUCED when the value (its whole interval) is strictly of ``sign``; NOT_REPRODUCED when it is wholly
    zero or of the other sign; INCONCLUSIVE when the interval reaches across zero."""
    if sign not in SIGNS:
        raise ValueError(f"unknown sign {sign!r}: expected one of {', '.join(SIGNS)}")
    if math.isnan(value):
        return Decision(Verdict.NOT_REPRODUCED, "the measurement is not a number (NaN)")
    lo, hi = interval if interval is not None else (value, value)
    # flip so that the claimed side is always "> 0"
    lo, hi = (lo, hi) if sign == "positive" else (-hi, -lo)
    shown = f"[{fmt_number(interval[0])}, {fmt_number(interval[1])}]" if interval else fmt_number(value)
    what = "the interval " + shown if interval else "measured " + shown
    if lo > 0:
        return Decision(Verdict.REPRODUCED, f"{what} is strictly {sign}")
    if hi <= 0:
        return Decision(Verdict.NOT_REPRODUCED, f"{what} is not {sign} (zero counts as neither sign)")
    return Decision(Verdict.INCONCLUSIVE, f"{what} reaches across zero: its sign is not settled")
