"""One claim's result, and the machine-readable results file a run writes.

A ``ClaimResult`` carries everything a reviewer (or the HTML report, or ``harness diff``) needs without
re-measuring: the claim and its provenance, the measurement, the verdict and how to reproduce it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

RESULTS_SCHEMA = 1


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
    reproduce: str = ""
    claims_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(attrs.asdict(self, recurse=True))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimResult:
        names = {a.name for a in attrs.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("band", "interval"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        values["conditions_differing"] = tuple(values.get("conditions_differing", ()))
        return cls(**values)


def _jsonable(value: Any) -> Any:
    """JSON has no NaN or infinity: they become None / "inf" strings; tuples become lists."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist())
    return value


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(
    path: Path,
    results: Sequence[ClaimResult],
    environment: Mapping[str, Any],
    claims_files: Mapping[str, Any],
    command: str,
) -> None:
    """Write the results file (JSON) of one run."""
    payload = {
        "schema": RESULTS_SCHEMA,
        "command": command,
        "environment": _jsonable(environment),
        "claims_files": _jsonable(claims_files),
        "summary": summary(results),
        "results": [r.to_dict() for r in sorted(results, key=lambda r: r.nodeid)],
    }
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def read_results(path: Path) -> dict[str, Any]:
    """Read a results file; a ``ValueError`` that says what is wrong with it otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable results file ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != RESULTS_SCHEMA or "results" not in data:
        raise ValueError(
            f"{path}: not a results file of schema {RESULTS_SCHEMA} (was it written by `pytest -m claims`?)"
        )
    return data


def summary(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Counts per verdict, in severity order."""
    from harness.verdict import SEVERITY

    counts = {v.value: 0 for v in SEVERITY}
    counts["ERROR"] = 0
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts
