"""The machine-readable results file a run writes (``results.json``), and reading it back."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.core.files import atomic_write_text, jsonable
from harness.report.multiplicity import expected_false
from harness.report.results_schema import RESULTS_SCHEMA, ResultsFileError, check
from harness.verdict import ClaimResult, summary


def write_results(
    path: Path,
    results: Sequence[ClaimResult],
    environment: Mapping[str, Any],
    claims_files: Mapping[str, Any],
    command: str,
    run: Mapping[str, Any] | None = None,
) -> None:
    """Write the results file (JSON) of one run; ``run`` is the run's id, times and selection."""
    payload = {
        "schema": RESULTS_SCHEMA,
        "run": jsonable(run or {}),
        "command": command,
        "environment": jsonable(environment),
        "claims_files": jsonable(claims_files),
        "summary": summary(results),
        "summary_harness_derived": summary(results, derived_by="harness"),
        "multiplicity": expected_false(results),
        "results": [r.to_dict() for r in sorted(results, key=lambda r: r.nodeid)],
    }
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def read_results(path: Path) -> dict[str, Any]:
    """Read a results file and check its shape (``results_schema``); a ``ValueError`` that names the file
    and the field otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError:
        raise ResultsFileError(str(path), None, "a results file", "JSON nested too deeply to read") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable results file ({exc})") from None
    return check(data, str(path))


def is_results_file(path: Path) -> bool:
    """True when ``path`` holds a results file (any schema): what ``report -o`` must never overwrite."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return False
    text = head.decode("utf-8", errors="replace").lstrip()
    return text.startswith("{") and '"results"' in text and '"schema"' in text
