"""Writing and fingerprinting files: atomic writes, modes, containment, SHA-256 digests, JSON-ready values.

Every file the harness writes (results, reports, cache manifests, lock files) goes through
``atomic_write_text``, so a reader never sees half a file and a killed run leaves the old file whole. Files and
directories get the mode an ordinary ``open``/``mkdir`` would give them (0644/0755 under umask 022), not the
0600/0700 of ``tempfile``: results and a shared cache are read by other users. ``contained`` joins a path
named by a claims file to the directory it must stay inside.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


class OutsideError(ValueError):
    """A relative path that would leave the directory it must stay inside."""


def umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the umask (0o644 under umask 022)."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode ``mkdir()`` gives a new directory: 0o777 less the umask (0o755 under umask 022)."""
    return 0o777 & ~umask()


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new directory under ``parent`` with the ordinary directory mode (``mkdtemp`` alone gives 0o700)."""
    path = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    path.chmod(dir_mode())
    return path


def contained(root: Path, relative: str) -> Path:
    """``root / relative``, refused (``OutsideError``) when ``relative`` is absolute or its ``..`` parts leave
    ``root``. Lexical: symlinks the owner of ``root`` put there are followed (a checkpoint may be linked in)."""
    if not relative or os.path.isabs(relative) or "\\" in relative or "\0" in relative:
        raise OutsideError(f"{relative!r} is not a relative path inside {root}")
    base = os.path.normpath(os.path.abspath(root))
    joined = os.path.normpath(os.path.join(base, relative))
    if os.path.commonpath([base, joined]) != base:
        raise OutsideError(f"{relative!r} leaves {root}")
    return Path(root) / relative


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file; the file gets the
    ordinary mode (``mkstemp`` alone gives 0o600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks (checkpoints are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def jsonable(value: Any) -> Any:
    """JSON has no NaN or infinity: they become None / "inf" strings; tuples become lists."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    return value
