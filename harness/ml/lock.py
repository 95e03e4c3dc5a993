"""Pinned evidence for hub artifacts: the SHA-256 of a snapshot's files, and the lock file that records them.

A lock file records, per fetched artifact, what was used: the hub id, the kind, the resolved revision (a commit),
each file with its SHA-256 and size, and when it was fetched. Its format (JSON, UTF-8, written atomically)::

    {
      "lock_version": 1,
      "artifacts": [
        {
          "repo_id": "some-org/some-model",
          "kind": "model",
          "revision": "<40 hex digits: the commit the files came from>",
          "fetched_at": "2026-12-01T11:20:00Z",
          "files": [{"path": "config.json", "sha256": "<64 hex digits>", "size": 483}, ...]
        }
      ]
    }

``path`` is relative to the snapshot directory, with ``/`` separators; files are sorted by path. The content
digest of a snapshot (``content_digest``) is the SHA-256 of the lines ``<path>\\0<sha256>\\n`` over its files
in path order, so two snapshots with the same files and contents have the same digest wherever they live.
Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import ClaimError, HarnessError
from harness.core.files import atomic_write_text
from harness.core.files import sha256_file as file_sha256

LOCK_VERSION = 1
KINDS = ("model", "dataset")
#: folders inside a snapshot directory that hold a downloader's bookkeeping, not the repository's files
METADATA_DIRS = (".cache",)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")


class LockFileError(ClaimError):
    """A lock file is malformed: the message names the file, the entry, the field, what was expected and found."""

    noun = "lock entry"


class LockMismatchError(HarnessError):
    """Local files differ from what a lock entry recorded (changed, missing or extra files)."""


@attrs.frozen
class LockedFile:
    """One file of a locked artifact: its path in the snapshot, SHA-256 and size in bytes."""

    path: str
    sha256: str
    size: int


@attrs.frozen
class LockEntry:
    """What one fetched artifact was: hub id, kind, resolved commit, files, and when it was fetched (UTC, ISO 8601)."""

    repo_id: str
    kind: str
    revision: str
    files: tuple[LockedFile, ...]
    fetched_at: str

    @property
    def content_digest(self) -> str:
        """The snapshot's content digest, computed from the recorded hashes (see the module docstring)."""
        return digest_of({f.path: f.sha256 for f in self.files})


# ---------------------------------------------------------------- hashing


def snapshot_files(path: Path) -> list[str]:
    """The files under a snapshot directory, as sorted ``/``-separated relative paths (symlinks followed).

    A downloader's bookkeeping folders (``.cache/`` of a ``local_dir`` download) are left out.
    """
    if not path.is_dir():
        raise HarnessError(f"{path} is not a directory: expected a snapshot directory of a hub repository")
    out = []
    for p in path.rglob("*"):
        rel = p.relative_to(path)
        if rel.parts[0] in METADATA_DIRS or not p.is_file():
            continue
        out.append(rel.as_posix())
    return sorted(out)


def file_hashes(path: Path) -> dict[str, str]:
    """``{relative path: SHA-256}`` for every file of a snapshot directory (see ``snapshot_files``)."""
    return {rel: file_sha256(path / rel) for rel in snapshot_files(path)}


def digest_of(hashes: Mapping[str, str]) -> str:
    """The content digest of a set of files given as ``{relative path: SHA-256}``."""
    h = hashlib.sha256()
    for rel in sorted(hashes):
        h.update(f"{rel}\0{hashes[rel]}\n".encode())
    return h.hexdigest()


def content_digest(path: Path) -> str:
    """The content digest of a snapshot directory: ``digest_of(file_hashes(path))``."""
    return digest_of(file_hashes(path))


def locked_files(path: Path, names: Iterable[str] | None = None) -> tuple[LockedFile, ...]:
    """``LockedFile`` records for the given files of a snapshot (all of its files when ``names`` is None)."""
    chosen = snapshot_files(path) if names is None else sorted(names)
    return tuple(LockedFile(rel, file_sha256(path / rel), (path / rel).stat().st_size) for rel in chosen)


# ---------------------------------------------------------------- the lock file


def _entry_json(entry: LockEntry) -> dict[str, Any]:
    return {
        "repo_id": entry.repo_id,
        "kind": entry.kind,
        "revision": entry.revision,
        "fetched_at": entry.fetched_at,
        "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in sorted(entry.files, key=_by_path)],
    }


def _by_path(f: LockedFile) -> str:
    return f.path


def write_lock(path: Path, entries: Sequence[LockEntry]) -> Path:
    """Write ``entries`` to the lock file ``path`` atomically (a temporary file in the same folder, then a rename).

    Entries are sorted by (kind, repo id); the same (kind, repo id) twice is refused.
    """
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.kind, entry.repo_id)
        if key in seen:
            raise HarnessError(
                f"{path}: two lock entries for the {entry.kind} {entry.repo_id!r}; expected one entry per artifact. "
                "Fix: keep only the entry of the revision you used"
            )
        seen.add(key)
    document = {
        "lock_version": LOCK_VERSION,
        "artifacts": [_entry_json(e) for e in sorted(entries, key=lambda e: (e.kind, e.repo_id))],
    }
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=False) + "\n")
    return path


def _field(
    where: str, record: Mapping[str, Any], entry_id: str | None, key: str, expected: str, ok: Any, shown: str = ""
) -> Any:
    """``record[key]`` when ``ok`` accepts it; a ``LockFileError`` naming the field (``shown``, default ``key``)."""
    value = record.get(key)
    if not ok(value):
        raise LockFileError(
            where,
            entry_id,
            shown or key,
            expected,
            "nothing" if value is None else repr(value),
            "re-run the fetch that wrote this lock file, or repair the entry by hand",
        )
    return value


def _is_str(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


def _read_entry(where: str, index: int, record: Any) -> LockEntry:
    if not isinstance(record, dict):
        raise LockFileError(
            where, f"#{index}", None, "a JSON object", type(record).__name__, "re-run the fetch that wrote it"
        )
    repo_id = _field(where, record, f"#{index}", "repo_id", "a hub id (a non-empty string)", _is_str)
    kind = _field(where, record, repo_id, "kind", f"one of {KINDS}", lambda v: v in KINDS)
    revision = _field(
        where, record, repo_id, "revision", "a commit (40 hex digits)", lambda v: _is_str(v) and _COMMIT.fullmatch(v)
    )
    fetched_at = _field(where, record, repo_id, "fetched_at", "an ISO 8601 UTC time (a string)", _is_str)
    raw_files = _field(where, record, repo_id, "files", "a list of {path, sha256, size}", lambda v: isinstance(v, list))
    files = []
    for i, f in enumerate(raw_files):
        item = f if isinstance(f, dict) else {}
        label = f"files[{i}]"
        rel = _field(where, item, repo_id, "path", "a relative path", _is_str, f"{label}.path")
        if rel.startswith("/") or ".." in rel.split("/"):
            raise LockFileError(
                where, repo_id, f"{label}.path", "a path inside the snapshot", repr(rel), "repair the entry"
            )
        sha = _field(
            where,
            item,
            repo_id,
            "sha256",
            "64 hex digits",
            lambda v: _is_str(v) and _SHA256.fullmatch(v),
            f"{label}.sha256",
        )
        size = _field(
            where,
            item,
            repo_id,
            "size",
            "a size in bytes (an integer >= 0)",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            f"{label}.size",
        )
        files.append(LockedFile(rel, sha, size))
    return LockEntry(repo_id, kind, revision, tuple(sorted(files, key=_by_path)), fetched_at)


def read_lock(path: Path) -> tuple[LockEntry, ...]:
    """The entries of the lock file ``path``; a ``LockFileError`` naming the entry and field when it is malformed."""
    where = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HarnessError(f"cannot read the lock file {path}: {exc}") from None
    except ValueError as exc:
        raise LockFileError(where, None, None, "a JSON document", f"invalid JSON ({exc})", "re-run the fetch") from None
    if not isinstance(document, dict):
        raise LockFileError(where, None, None, "a JSON object", type(document).__name__, "re-run the fetch")
    if document.get("lock_version") != LOCK_VERSION:
        raise LockFileError(
            where,
            None,
            "lock_version",
            str(LOCK_VERSION),
            repr(document.get("lock_version")),
            "re-run the fetch with this version of the harness",
        )
    artifacts = document.get("artifacts")
    if not isinstance(artifacts, list):
        raise LockFileError(where, None, "artifacts", "a list", repr(artifacts), "re-run the fetch")
    return tuple(_read_entry(where, i, record) for i, record in enumerate(artifacts))


def verify_lock_entry(entry: LockEntry, local_path: Path) -> None:
    """Re-hash the entry's files under ``local_path``; a ``LockMismatchError`` listing every difference.

    Files under ``local_path`` that the entry does not list are not checked (a snapshot may hold more files than
    one fetch asked for); a listed file that is missing, or whose size or SHA-256 differs, is a mismatch.
    """
    problems = []
    for f in entry.files:
        p = local_path / f.path
        if not p.is_file():
            problems.append(f"{f.path}: missing")
            continue
        size = p.stat().st_size
        if size != f.size:
            problems.append(f"{f.path}: size {size}, locked {f.size}")
            continue
        sha = file_sha256(p)
        if sha != f.sha256:
            problems.append(f"{f.path}: sha256 {sha}, locked {f.sha256}")
    if problems:
        raise LockMismatchError(
            f"{local_path}: the files of the {entry.kind} {entry.repo_id!r} at revision {entry.revision} differ from "
            f"the lock entry ({len(problems)} of {len(entry.files)} files): " + "; ".join(problems) + ". Fix: fetch "
            "that revision again (the local copy changed), or update the lock if the new files are intended"
        )
