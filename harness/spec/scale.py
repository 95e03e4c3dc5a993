"""The scale a claim is checked at: the paper's, or ``scale = "reduced"`` with its declared ``budget``.

A reduced-scale claim is checked on a smaller run than the paper's (fewer tokens, smaller models, another
statistic), so its verdict can only be about the direction and order of an effect, never its magnitude: its
tolerance must be ``kind = "sign"`` (the band is everything of the claimed value's sign, cut strictly at zero)
or ``kind = "order"`` (inequalities between claims, judged on intervals). Anything else is refused at load.
"""

from __future__ import annotations

from harness.spec.fields import Fields
from harness.spec.records import SCALES, Tolerance

#: the tolerance kinds a reduced-scale claim may have: direction (sign) and order, never a magnitude band
REDUCED_TOLERANCE_KINDS = ("sign", "order")


def parse_scale(f: Fields, tolerance: Tolerance) -> tuple[str, str]:
    """``(scale, budget)`` of a claim; a reduced-scale claim needs a budget and a sign or order tolerance."""
    scale = f.choice("scale", SCALES) if "scale" in f.table else "paper"
    budget = f.string("budget", required=scale == "reduced")
    if budget and scale != "reduced":
        raise f.error(
            "budget",
            'a budget only with scale = "reduced"',
            repr(budget),
            'add scale = "reduced" (a smaller run than the paper\'s) or remove the budget',
        )
    if scale == "reduced" and tolerance.kind not in REDUCED_TOLERANCE_KINDS:
        raise f.error(
            "tolerance.kind",
            'kind = "sign" or "order" (a reduced-scale run checks the direction and order of an effect, '
            "not the paper's magnitude)",
            repr(tolerance.kind),
            'use kind = "sign" (the claimed value\'s sign) or kind = "order" with inequalities',
        )
    return scale, budget
