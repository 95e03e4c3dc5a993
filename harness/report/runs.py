"""Where runs are kept: one directory per run under the output directory, ``latest`` pointing at the newest.

Layout (the contract shared with the session that writes them): ``<out>/<UTC %Y%m%dT%H%M%SZ>[-N]/`` holds
``results.json`` and ``report.html`` (and ``diff-vs-previous.txt`` when a previous complete run exists);
``<out>/latest`` is a relative symlink to the newest run. ``results.json`` has a top-level ``run`` object:
``id``, ``started``, ``finished``, ``partial``, ``selection``, ``interrupted``, ``harness_version`` and
``git`` (the claims repository's HEAD commit and whether its tree had changes).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.report.results import read_results

LATEST = "latest"
RESULTS_NAME = "results.json"
#: the text diff against the previous complete run, next to the report when there is one
DIFF_NAME = "diff-vs-previous.txt"
ID_FORMAT = "%Y%m%dT%H%M%SZ"


def run_id(started: dt.datetime) -> str:
    return started.astimezone(dt.UTC).strftime(ID_FORMAT)


def new_run_dir(out: Path, started: dt.datetime) -> Path:
    """A fresh directory for a run that started at ``started`` (``-2``, ``-3`` ... when the second is taken)."""
    out.mkdir(parents=True, exist_ok=True)
    base = run_id(started)
    for n in range(1, 10_000):
        candidate = out / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise OSError(f"{out}: no free run directory name for {base}")


def point_latest(out: Path, run_dir: Path) -> None:
    """Make ``<out>/latest`` a relative symlink to ``run_dir`` (replaced atomically)."""
    link = out / LATEST
    tmp = out / f".{LATEST}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, link)


def past_runs(out: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The readable runs under ``out``, newest first (by run id, then by directory name)."""
    if not out.is_dir():
        return
    dirs = [d for d in out.iterdir() if d.is_dir() and not d.is_symlink() and (d / RESULTS_NAME).is_file()]
    for d in sorted(dirs, key=lambda d: _sort_key(d.name), reverse=True):
        try:
            yield d, read_results(d / RESULTS_NAME)
        except ValueError:
            continue


def _sort_key(name: str) -> tuple[str, int]:
    base, _, n = name.partition("-")
    return base, int(n) if n.isdigit() else 1


def previous_complete(out: Path, current: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest run before ``current`` that was complete (not partial, not interrupted), if any."""
    key = _sort_key(current.name)
    for d, data in past_runs(out):
        if d == current or _sort_key(d.name) >= key:
            continue
        run = data.get("run") or {}
        if not run.get("partial") and not run.get("interrupted"):
            return d, data
    return None
