"""Tolerances: the band a claim's value must fall in, parsed and checked so that no band accepts anything."""

from __future__ import annotations

import math

from harness.spec.fields import Fields, describe
from harness.spec.records import (
    SIGNS,
    TOLERANCE_FIELDS,
    TOLERANCE_KINDS,
    Tolerance,
)

#: an absolute width more than this many times the claimed magnitude (or 1) accepts any plausible value
MAX_WIDTH_FACTOR = 1e3


def parse_tolerance(f: Fields, value: float | None = None) -> Tolerance:
    t = Fields(f.path, f.claim_id, f.table_of("tolerance", required=True), "tolerance.")
    t.check_keys(TOLERANCE_FIELDS)
    kind = t.choice("kind", TOLERANCE_KINDS)
    if kind in ("precision", "sign"):
        if "value" in t.table:
            what = "± precision/2" if kind == "precision" else "everything of the claimed value's sign"
            raise t.error("value", f"no value (the band is {what})", describe(t.table["value"]), "remove it")
        width = 0.0
    elif kind in ("lower_bound", "upper_bound", "order"):
        width = t.number("value", required=False) or 0.0
    else:
        width = t.number("value")  # type: ignore[assignment]
    if width < 0:
        raise t.error("value", "a width >= 0", describe(t.table["value"]), "use a non-negative width")
    if kind in ("relative", "relative_or_precision") and width >= 1:
        raise t.error("value", "a fraction below 1 (0.05 = 5%)", describe(t.table["value"]), "write 5% as 0.05")
    if kind == "relative" and value == 0:
        raise t.error(
            "kind",
            "a tolerance that gives a band of some width",
            "a relative tolerance around a claimed value of 0 (the band is [0, 0])",
            'use kind = "absolute" with a width in the claim\'s unit, or kind = "precision"',
        )
    limit = MAX_WIDTH_FACTOR * max(1.0, abs(value) if value is not None and math.isfinite(value) else 1.0)
    if kind in ("absolute", "lower_bound", "upper_bound") and width > limit:
        raise t.error(
            "value",
            f"a width at most {limit:g} ({MAX_WIDTH_FACTOR:g} x the claimed value's magnitude, or 1)",
            f"{width:g}, a band that accepts any plausible measurement",
            "give the width the claim can really be checked to, in the claim's unit",
        )
    sign = t.choice("sign", SIGNS) if "sign" in t.table else None
    return Tolerance(kind=kind, value=width, rationale=t.string("rationale"), sign=sign)
