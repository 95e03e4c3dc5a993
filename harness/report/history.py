"""The history of runs in an output directory: one line per run, newest first (``python -m harness history``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.report.runs import past_runs


def _selection(run: Mapping[str, Any]) -> str:
    selection = run.get("selection") or {}
    parts = []
    if selection.get("markers") or selection.get("markexpr"):
        parts.append(f"-m {selection.get('markers') or selection['markexpr']!r}")
    if selection.get("keywords") or selection.get("keyword"):
        parts.append(f"-k {selection.get('keywords') or selection['keyword']!r}")
    named = [a for a in selection.get("args") or () if "::" in a]
    if named:
        parts.append(" ".join(named))
    return " ".join(parts) or "everything"


def history_line(directory: str, data: Mapping[str, Any]) -> str:
    """One run: id, start time, complete/partial/interrupted, counts per verdict, selection."""
    run = data.get("run") or {}
    state = "INTERRUPTED" if run.get("interrupted") else "partial" if run.get("partial") else "complete"
    counts = ", ".join(f"{n} {v}" for v, n in (data.get("summary") or {}).items() if n) or "no claims"
    version = run.get("harness_version") or "?"
    commit = ((run.get("git") or {}).get("commit") or "")[:10] or "no commit"
    return (
        f"{run.get('id') or directory}  {run.get('started') or '?'}  {state:<11}  {counts}  "
        f"[selection: {_selection(run)}; harness {version}; commit {commit}]"
    )


def history_lines(out: Path) -> list[str]:
    """The runs under ``out``, newest first; a sentence saying so when there are none."""
    runs: Iterable[tuple[Path, dict[str, Any]]] = past_runs(out)
    lines = [history_line(d.name, data) for d, data in runs]
    if not lines:
        return [f"{out}: no runs yet (pytest -m claims writes one directory per run there)"]
    return lines
