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
    smoke: bool = False
    #: the claim was checked at reduced scale (``scale = "reduced"``): direction and order, not magnitudes
    reduced_scale: bool = False
    reproduce: str = ""
    claims_file: str = ""

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
        return cls(**values)


def summary(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Counts per verdict, in severity order."""
    counts = {v.value: 0 for v in SEVERITY}
    counts["ERROR"] = 0
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts
