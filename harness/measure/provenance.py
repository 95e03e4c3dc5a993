"""Which artifact, revision and content a measurement used, checked against the lock file.

Every task result's evidence carries ``checkpoint_id``, ``checkpoint_revision``, ``checkpoint_sha256`` and
``data_id``, ``data_revision``, ``data_sha256`` (``harness.report.diff`` compares evidence maps, so a change of
revision or content shows up there). The revision is the commit of the hub snapshot the files came from
(``.../snapshots/<commit>/``), else the lock file's entry for that repository, else ``unknown``. The SHA-256 is
the content digest of the files (``harness.ml.lock``).

When a lock file exists (``--claims-lock=PATH``, else ``claims.lock.json`` next to the claims file; written by
``python -m harness fetch``) and names the repository (or an alias of it), the local files are verified against it
before they are used: another commit, or a file whose size or SHA-256 differs, is a ``MeasurementError`` (an
ERROR verdict) that names the lock file and the fix. So is a snapshot at another commit than the claims file pins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import MeasurementError
from harness.measure.artifacts import lock_path_for
from harness.measure.measurement import Context
from harness.ml.hub import COMMIT, equivalent_ids
from harness.ml.lock import LockEntry, LockMismatchError, content_digest, read_lock, verify_lock_entry

if TYPE_CHECKING:
    from harness.ml.tasks import TaskData

UNKNOWN = "unknown"


def lock_file(context: Context) -> Path:
    """The lock file that applies to the context's claims file (it may not exist)."""
    if context.options.lock_path is not None:
        return context.options.lock_path
    path = Path(context.file.path)
    if not path.is_absolute() and context.options.root is not None:
        path = context.options.root / path
    return lock_path_for(path)


def lock_entries(context: Context) -> dict[tuple[str, str], LockEntry]:
    """The lock file's entries by (kind, repo id); empty when there is no lock file. Read once per session."""
    path = lock_file(context)

    def read() -> dict[tuple[str, str], LockEntry]:
        return {(e.kind, e.repo_id): e for e in read_lock(path)} if path.is_file() else {}

    return context.cached(("lock-file", str(path)), read)


def locked(context: Context, kind: str, repo_id: str) -> LockEntry | None:
    entries = lock_entries(context)
    for rid in equivalent_ids(repo_id):
        if (kind, rid) in entries:
            return entries[(kind, rid)]
    return None


def snapshot_revision(path: Path) -> str | None:
    """The commit of a hub-cache snapshot directory (``.../snapshots/<commit>``), or None for another folder."""
    return path.name if path.parent.name == "snapshots" and COMMIT.fullmatch(path.name) else None


def _verify(context: Context, kind: str, repo_id: str, path: Path, revision: str | None, pin: str | None) -> str:
    """The revision the files at ``path`` are; raises when they contradict the lock file or the pin."""
    entry = locked(context, kind, repo_id)
    where = lock_file(context)
    refetch = f"python -m harness fetch {context.file.path}"
    if entry is not None:
        if revision is not None and revision != entry.revision:
            raise MeasurementError(
                f"the {kind} {repo_id} at {path} is revision {revision}, but the lock file {where} records "
                f"{entry.revision}. Fix: `{refetch}` to fetch the locked revision again (or update the lock), or "
                "delete that entry of the lock file if the new revision is intended"
            )
        try:
            verify_lock_entry(entry, path)
        except LockMismatchError as exc:
            raise MeasurementError(f"lock file {where}: {exc}") from None
        revision = entry.revision
    if pin is not None and COMMIT.fullmatch(pin) and revision is not None and revision != pin:
        raise MeasurementError(
            f"{context.file.path} pins the {kind} {repo_id} at revision {pin}, but the files at {path} are revision "
            f"{revision}. Fix: `{refetch}` (it fetches the pinned revision), or change the pin"
        )
    return revision or UNKNOWN


def checkpoint_evidence(context: Context, hub_id: str, path: Path, pin: str | None = None) -> dict[str, Any]:
    """``checkpoint_id``, ``checkpoint_revision``, ``checkpoint_sha256`` of the checkpoint at ``path``, verified."""
    revision = _verify(context, "model", hub_id, path, snapshot_revision(path), pin)
    digest = context.cached(("content-digest", str(path)), lambda: content_digest(path))
    return {"checkpoint_id": hub_id, "checkpoint_revision": revision, "checkpoint_sha256": digest}


def data_evidence(context: Context, data: TaskData, pin: str | None = None, prefix: str = "data") -> dict[str, Any]:
    """``data_id``, ``data_revision``, ``data_sha256`` of a loaded split (hub snapshot files verified)."""
    revision = data.revision
    if data.repo_id is not None and data.source is not None:
        revision = _verify(context, "dataset", data.repo_id, data.source, snapshot_revision(data.source), pin)
    return {
        f"{prefix}_id": data.repo_id or "local files",
        f"{prefix}_revision": revision or UNKNOWN,
        f"{prefix}_sha256": data.digest,
    }
