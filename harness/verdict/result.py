"""One claim's result: a plain value object that every output reads.

A ``ClaimResult`` carries everything a reviewer (or the HTML report, or ``harness diff``) needs without
re-measuring: the claim and its provenance, the measurement, the verdict and how to reproduce it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from harness.core.files import jsonable
from harness.verdict.bands import SEVERITY


@attrs.frozen
class ClaimResult:
    """The outcome of one claim (a plain value object; ``to_dict`` is its JSON form)."""

    id: str
    nodeid: str
    verdict: str
    reason: str
    unit: str
    claimed: float | None
    band: tuple[float, float] | None
    tolerance: Mapping[str, Any]
    measured: float | None = None
    interval: tuple[float, float] | None = None
    deviation: float | None = None
    deviation_widths: float | None = None
    conditions_claimed: Mapping[str, Any] = attrs.field(factory=dict)
    conditions_measured: Mapping[str, Any] = attrs.field(factory=dict)
    conditions_differing: Sequence[str] = ()
    provenance: Mapping[str, Any] = attrs.field(factory=dict)
    evidence: Mapping[str, Any] = attrs.field(factory=dict)
    consistency: Mapping[str, Any] | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)
    remedy: str | None = None
    #: the missing resources of a NOT_RUN claim, one by one: "checkpoint <hub id>" / "data <task>" -> how
    needs: Mapping[str, str] = attrs.field(factory=dict)
    smoke: bool = False
    #: the claim was checked at reduced scale (``scale = "reduced"``): direction and order, not magnitudes
    reduced_scale: bool = False
    reproduce: str = ""
    claims_file: str = ""
    #: timed on synthetic inputs (token lengths drawn from a declared distribution), not the paper's data
    synthetic: bool = False
    #: "paper" or "harness" (a value the source never printed: kept out of the paper's tally)
    derived_by: str = "paper"
    #: the band decision against the stated value, recorded even when the verdict is INCONSISTENT
    band_decision: Mapping[str, Any] | None = None
    #: the band decision against each alternative value the source may have meant
    alternatives: Sequence[Mapping[str, Any]] = ()
    #: a one-sided claim's point comparison with the source's own number
    point_comparison: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(attrs.asdict(self, recurse=True))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimResult:
        names = {a.name for a in attrs.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("band", "interval"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        values["conditions_differing"] = tuple(values.get("conditions_differing", ()))
        values["alternatives"] = tuple(values.get("alternatives", ()))
        return cls(**values)


def summary(results: Sequence[ClaimResult], derived_by: str = "paper") -> dict[str, int]:
    """Counts per verdict, in severity order, of the claims ``derived_by`` the paper (the default: the
    paper's tally) or by the harness (its own arithmetic on stated numbers, counted apart)."""
    counts = {v.value: 0 for v in SEVERITY}
    counts["ERROR"] = 0
    for r in results:
        if r.derived_by == derived_by:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts
