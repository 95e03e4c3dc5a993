"""Output paths are checked when the session is configured, before anything is measured.

A run that measures for an hour and then cannot write its results has lost the hour: ``--claims-out`` (a
directory, created when the run ends) and pytest-benchmark's ``--benchmark-json`` (a file) must be writable
now, or the session stops with a ``pytest.UsageError`` that says what, why and the fix.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")


def _probe(directory: Path) -> str | None:
    """Why nothing can be written in ``directory`` (an existing directory), or None when a file can be."""
    probe = directory / f".claims-write-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.write_bytes(b"")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    probe.unlink(missing_ok=True)
    return None


def directory_problem(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a directory the run writes into; None when it can."""
    base = _existing_ancestor(path.absolute())
    if not base.is_dir():
        what = "is" if base == path.absolute() else f"is under {base}, which is"
        return f"it {what} an existing file, not a directory"
    why = _probe(base)
    if why is not None:
        return f"{base} is not writable ({why})"
    return None


def file_problem(path: Path) -> str | None:
    """Why the file ``path`` cannot be written (its directory must exist); None when it can."""
    if path.is_dir():
        return "it is a directory"
    parent = path.absolute().parent
    if not parent.is_dir():
        return f"its directory {parent} does not exist" if not parent.exists() else f"{parent} is not a directory"
    why = _probe(parent)
    return None if why is None else f"{parent} is not writable ({why})"


def check_output_paths(config: pytest.Config, out: Path) -> None:
    """Raise ``pytest.UsageError`` when the claims output directory or the benchmark JSON cannot be written."""
    problem = directory_problem(out)
    if problem is not None:
        raise pytest.UsageError(
            f"--claims-out={out}: the run could not write its results there: {problem}. "
            "Fix: give a writable directory (it is created if missing), e.g. --claims-out=claims-results"
        )
    bench = getattr(config.option, "benchmark_json", None)
    if bench is not None and not hasattr(config, "workerinput"):
        problem = file_problem(Path(bench))
        if problem is not None:
            raise pytest.UsageError(
                f"--benchmark-json={bench}: pytest-benchmark could not write its JSON there after the run: "
                f"{problem}. Fix: give a file path in an existing, writable directory"
            )
