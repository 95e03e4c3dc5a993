"""The run-directory layout: every ``pytest -m claims`` session writes into a directory of its own.

``<claims-out>/<UTC timestamp %Y%m%dT%H%M%SZ>[-N]/`` holds that run's ``results.json`` and ``report.html``;
``<claims-out>/latest`` points at the newest one: a relative symlink, replaced atomically (rename over the
old link), or, where the file system refuses symlinks, a text file ``latest`` holding the directory's name.
Nothing a run wrote is ever overwritten by a later run. ``resolve_results`` turns what a person types
(a results file, a run directory, ``<claims-out>`` itself or its ``latest``) into the results file.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.core.files import atomic_write_text

RESULTS_NAME = "results.json"
LATEST = "latest"
STAMP = "%Y%m%dT%H%M%SZ"
#: the text diff against the previous complete run, next to the report when there is one
DIFF_NAME = "diff-vs-previous.txt"
#: -m expressions that select every claim (a run under them is not partial for its markers)
FULL_MARKERS = (None, "", "claims")


def new_run_dir(out: Path, now: dt.datetime | None = None) -> Path:
    """Create and return a fresh run directory under ``out``: the UTC timestamp, with ``-N`` if it exists."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.astimezone(dt.UTC).strftime(STAMP)
    out.mkdir(parents=True, exist_ok=True)
    for n in range(0, 10_000):
        candidate = out / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{out}: 10,000 run directories named {stamp}[-N] already exist; clean some up")


def point_latest(out: Path, run_dir: Path) -> Path:
    """Point ``out/latest`` at ``run_dir`` (relative symlink, replaced atomically; else a text file)."""
    latest = out / LATEST
    if latest.is_dir() and not latest.is_symlink():
        raise IsADirectoryError(
            f"{latest} is a real directory, not the harness's pointer to the newest run; move it away"
        )
    tmp = out / f".latest.{os.getpid()}.{time.time_ns()}.tmp"
    try:
        os.symlink(run_dir.name, tmp, target_is_directory=True)
    except OSError:
        atomic_write_text(latest, run_dir.name + "\n")
        return latest
    try:
        os.replace(tmp, latest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return latest


def latest_dir(out: Path) -> Path | None:
    """The run directory ``out/latest`` points at (symlink or text file), or None when there is none."""
    latest = out / LATEST
    if latest.is_symlink() or latest.is_dir():
        return latest
    if latest.is_file():
        name = latest.read_text(encoding="utf-8").strip()
        if name and "/" not in name and "\\" not in name and name not in (".", ".."):
            return out / name
    return None


def resolve_results(path: Path) -> Path:
    """The results file meant by ``path``: the file itself, a run directory, ``<claims-out>`` or its latest."""
    if path.is_file() and path.name == LATEST:
        pointed = latest_dir(path.parent)
        if pointed is not None:
            return pointed / RESULTS_NAME
    if path.is_dir():
        if (path / RESULTS_NAME).is_file():
            return path / RESULTS_NAME
        pointed = latest_dir(path)
        if pointed is not None and (pointed / RESULTS_NAME).is_file():
            return pointed / RESULTS_NAME
        raise FileNotFoundError(
            f"{path}: a directory without {RESULTS_NAME} and without a `{LATEST}` run; give a results file, "
            f"a run directory or the --claims-out directory of a finished `pytest -m claims`"
        )
    return path


def describe_partial(run: Mapping[str, Any]) -> str:
    """'PARTIAL RUN: 3 of 61 claims; selected by -k speed' (empty when the run is complete)."""
    if not run or not run.get("partial"):
        return ""
    sel = run.get("selection") or {}
    how = []
    if sel.get("node_ids"):
        how.append("node id " + " ".join(sel["node_ids"]))
    if sel.get("keywords"):
        how.append(f"-k {sel['keywords']!r}")
    if sel.get("markers") not in FULL_MARKERS:
        how.append(f"-m {sel['markers']!r}")
    if sel.get("lf"):
        how.append("--lf")
    deselected = sel.get("deselected")
    n_deselected = len(deselected) if isinstance(deselected, list) else deselected
    if not how and n_deselected:
        how.append(f"{n_deselected} claims deselected")
    if not how and not run.get("unmeasured") and not run.get("interrupted"):
        how.append("some selected claims have no result")
    text = f"PARTIAL RUN: {sel.get('selected')} of {sel.get('collected')} claims"
    if how:
        text += f"; selected by {', '.join(how)}"
    if run.get("interrupted"):
        text += "; interrupted (Ctrl-C or a -x/--maxfail stop)"
    if run.get("unmeasured"):
        text += f"; {run['unmeasured']} selected claims not measured (skipped by a marker or an option)"
    return text


def past_runs(out: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The readable runs under ``out``, newest first (by run id, then by ``-N``)."""
    from harness.report.results import read_results

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
    return base, int(n) if n.isdigit() else 0


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
