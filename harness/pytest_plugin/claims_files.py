"""Which files are claims files: each collected once, and nothing skipped without a word.

A claims file is a ``*.toml`` file (any case: ``.TOML`` too) directly inside a folder listed in the
``claims_dirs`` ini setting. A file is collected once however many ways lead to it (a symlink loop under
``claims/``, two ``claims_dirs`` entries for one folder, a folder given twice on the command line): by its
resolved path, and never through a symlinked sub-folder (a link back up is not even entered). Sub-folders of
a claims folder are not collected; one that holds ``*.toml`` files gets a warning naming them and saying how
to include them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

_SEEN = pytest.StashKey[set[Path]]()


def claims_dirs(config: pytest.Config) -> list[Path]:
    """The claims folders, absolute (not resolved: a path through a symlinked folder is not one of them)."""
    return [Path(os.path.normpath(config.rootpath / entry)) for entry in config.getini("claims_dirs")]


def is_toml(path: Path) -> bool:
    return path.suffix.lower() == ".toml"


def first_visit(config: pytest.Config, file_path: Path) -> bool:
    """True when ``file_path`` is a claims file not collected yet in this process."""
    if not is_toml(file_path) or Path(os.path.normpath(file_path.parent)) not in claims_dirs(config):
        return False
    seen = config.stash.setdefault(_SEEN, set())
    real = file_path.resolve()
    if real in seen:
        return False
    seen.add(real)
    return True


def is_loop(config: pytest.Config, path: Path) -> bool:
    """A symlinked folder under a claims folder that leads back to the folder it is in (or above): pytest
    would walk it again and again (two such links: exponentially often); it is not entered."""
    if not path.is_symlink() or not path.is_dir():
        return False
    if not any(Path(os.path.normpath(path)).is_relative_to(d) for d in claims_dirs(config)):
        return False
    return path.parent.resolve().is_relative_to(path.resolve())


def uncollected_folders(config: pytest.Config) -> list[tuple[Path, list[str]]]:
    """Sub-folders of claims folders that hold ``*.toml`` files which are not collected, with those files."""
    folders = claims_dirs(config)
    listed = {d.resolve() for d in folders}
    out: list[tuple[Path, list[str]]] = []
    for directory in folders:
        if not directory.is_dir():
            continue
        for sub in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")):
            target = sub.resolve()
            if sub.is_symlink() and any(target == d or target.is_relative_to(d) for d in listed):
                continue  # a link into a claims folder (a loop): its files are collected there, once
            found: list[str] = []
            for root, dirs, files in os.walk(sub):  # does not follow symlinked folders below: no loop
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                if Path(os.path.normpath(root)) in folders:
                    continue  # itself a claims folder: collected
                found += [str(Path(root, f).relative_to(directory)) for f in sorted(files) if is_toml(Path(f))]
            if found:
                out.append((sub, found))
    return out


def warn_uncollected(config: pytest.Config) -> None:
    for sub, files in uncollected_folders(config):
        try:
            shown = sub.relative_to(config.rootpath)
        except ValueError:
            shown = sub
        names = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        warnings.warn(
            pytest.PytestCollectionWarning(
                f"claims folder {shown.parent}: its sub-folder {shown}/ holds claims files that are not collected "
                f"({names}); only files directly in a claims_dirs folder are. To include them, add "
                f'"{shown}" to claims_dirs (pyproject.toml [tool.pytest.ini_options] or pytest.ini)'
            ),
            stacklevel=1,
        )
