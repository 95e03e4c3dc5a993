"""The machine-readable results file a run writes (``results.json``), and reading it back."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.core.files import atomic_write_text, jsonable
from harness.verdict import ClaimResult, summary

RESULTS_SCHEMA = 1


def write_results(
    path: Path,
    results: Sequence[ClaimResult],
    environment: Mapping[str, Any],
    claims_files: Mapping[str, Any],
    command: str,
    run: Mapping[str, Any] | None = None,
) -> None:
    """Write the results file (JSON) of one run; ``run`` is the run's identity (``harness.report.runs``)."""
    payload = {
        "schema": RESULTS_SCHEMA,
        "run": jsonable(run or {}),
        "command": command,
        "environment": jsonable(environment),
        "claims_files": jsonable(claims_files),
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
