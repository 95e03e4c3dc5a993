"""Ordering and grouping results for people: severity first, then how far outside the band, then the id."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from harness.verdict import SEVERITY, ClaimResult

#: the report's order of verdicts, most severe first (an ERROR means the harness could not judge at all)
ORDER = ("ERROR", *(v.value for v in SEVERITY))
#: a group with more claims than this is split by the second part of its ids (task -> task.model_a, task.model_b)
GROUP_SPLIT = 10


def as_number(x: Any) -> float | None:
    """A JSON number (or "inf"/"-inf" string) as a float; None stays None."""
    if x is None:
        return None
    return float(x)


def as_pair(x: Sequence[Any] | None) -> tuple[float, float] | None:
    """A (lo, hi) pair as floats; None for none, or for a pair with an undefined end (NaN is written null)."""
    if x is None or len(x) != 2:
        return None
    lo, hi = (as_number(v) for v in x)
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return None
    return lo, hi


def tolerance_width(result: ClaimResult) -> float | None:
    """The width a deviation is expressed in: half the band, or for a one-sided bound its margin (else the
    claim's precision); None when the claim has no band."""
    band = as_pair(result.band)
    claimed = as_number(result.claimed)
    if band is None or claimed is None or math.isnan(claimed):
        return None
    lo, hi = band
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        return (hi - lo) / 2.0
    for candidate in (result.tolerance.get("value"), (result.provenance or {}).get("precision")):
        if isinstance(candidate, (int, float)) and candidate > 0:
            return float(candidate)
    return abs(claimed) * 0.05 or 1.0


def deviation_widths(result: ClaimResult) -> float | None:
    measured, claimed, width = as_number(result.measured), as_number(result.claimed), tolerance_width(result)
    if measured is None or claimed is None or width is None or math.isnan(measured):
        return None
    return (measured - claimed) / width


def severity_key(result: ClaimResult) -> tuple[int, float, str]:
    """Most severe verdict first; within a verdict, the largest deviation (in widths) first."""
    rank = ORDER.index(result.verdict) if result.verdict in ORDER else len(ORDER)
    dev = deviation_widths(result)
    return rank, -abs(dev) if dev is not None else math.inf, result.id


def group_of(claim_id: str, split: bool) -> str:
    parts = claim_id.split(".")
    return ".".join(parts[:2]) if split and len(parts) > 2 else parts[0]


def groups(ids: Iterable[str]) -> dict[str, str]:
    """claim id -> chart group: the id's first word, or its first two words for a large group."""
    ids = list(ids)
    sizes: dict[str, int] = {}
    for cid in ids:
        sizes[cid.split(".")[0]] = sizes.get(cid.split(".")[0], 0) + 1
    return {cid: group_of(cid, sizes[cid.split(".")[0]] > GROUP_SPLIT) for cid in ids}


def anchor(nodeid: str) -> str:
    """An HTML id for a claim (ids and node ids are plain, but anything else becomes '-')."""
    return "claim-" + "".join(c if c.isalnum() or c in "._-" else "-" for c in nodeid)
