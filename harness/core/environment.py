"""What machine and software a run measured on: recorded with every results file.

Versions are read from package metadata (no heavy import); torch's thread count and GPU are read only
when torch is already loaded by a measurement.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.files import sha256_file

PACKAGES = (
    "torch",
    "transformers",
    "datasets",
    "evaluate",
    "tokenizers",
    "numpy",
    "scipy",
    "pytest",
    "pytest-benchmark",
    "pytest-xdist",
    "hypothesis",
)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def torch_state() -> dict[str, Any]:
    """Threads and accelerator, only if torch is already imported (we never import it just for this)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    state: dict[str, Any] = {"torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        state["gpu"] = torch.cuda.get_device_name(0)
        state["cuda"] = torch.version.cuda
    return state


def git_commit(path: Path) -> dict[str, Any]:
    """The last commit that touched ``path``, and whether the file has uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=path.parent, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("log", "-1", "--format=%H", "--", path.name)
    dirty = git("status", "--porcelain", "--", path.name)
    return {"commit": commit or None, "dirty": bool(dirty) if dirty is not None else None}


def repo_commit(directory: Path) -> dict[str, Any]:
    """The HEAD commit of the git repository that holds ``directory``, and whether its tree has changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit or None, "dirty": bool(dirty) if dirty is not None and commit else None}


def file_digest(path: Path) -> str:
    """The SHA-256 of a file (a claims or replication file)."""
    return sha256_file(path)


def capture() -> dict[str, Any]:
    """The environment of this run."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "versions": versions(),
        **torch_state(),
    }
