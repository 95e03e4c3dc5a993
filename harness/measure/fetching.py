"""Running a fetch plan (``harness.measure.artifacts``): print it, download each artifact, write the lock file.

The one place the harness goes online on purpose, used by ``python -m harness fetch`` and by
``pytest -m claims --claims-fetch``; both print the same lines. ``dry_run`` only says what is already on this
machine (hub cache, or the ``--to`` folder) and never touches the network. Downloads go through
``harness.ml.hub.fetch`` (progress bars), into the hub cache or ``<to>/<repo id>/`` (the
``--claims-models-dir``/``--claims-data-dir`` layout). The lock file (``harness.ml.lock``) records per repository
the commit it resolved to and each file's SHA-256; entries of artifacts not fetched this time are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from harness.core.errors import HarnessError
from harness.measure.artifacts import FetchPlan, PlannedArtifact, describe_claims, human_size, lock_path_for
from harness.ml import hub
from harness.ml.lock import LockedFile, LockEntry, read_lock, write_lock

Printer = Callable[[str], None]


@attrs.frozen
class FetchOutcome:
    """What a fetch did: each artifact's resolved commit and local path, and the lock files written."""

    fetched: tuple[hub.Fetched, ...]
    locks: tuple[Path, ...]


def _local(artifact: hub.Artifact, to: Path | None) -> Path | None:
    """Where the artifact already is on this machine (offline), or None."""
    if to is not None:
        folder = to / artifact.repo_id
        return folder if folder.is_dir() and not hub.missing_files(folder, artifact) else None
    try:
        return hub.find_cached(artifact)
    except hub.HubCacheError:
        return None


def plan_lines(plan: FetchPlan, to: Path | None = None, dry_run: bool = False) -> list[str]:
    """The plan as printed: one block per artifact (what, size, purpose, claims unlocked, whether it is here)."""
    where = f"into {to}/<repo id>/" if to is not None else f"into the hub cache {hub.hub_cache_dir()}"
    head = "fetch plan (dry run: nothing is downloaded)" if dry_run else f"fetch plan ({where})"
    lines = [f"{head}: {len(plan.items)} artifacts for {len(plan.selected)} selected claims"]
    for item in plan.items:
        local = _local(item.artifact, to)
        state = f"here: {local}" if local is not None else "not on this machine"
        lines.append(f"  {item.artifact.describe():<70} size {item.size}")
        lines.append(f"      for: {item.purpose}; {state}")
        lines.append(f"      unlocks {len(item.claims)}: {describe_claims(item.claims)}")
    if plan.needs_nothing:
        lines.append(
            f"  {len(plan.needs_nothing)} selected claims need no download ({describe_claims(plan.needs_nothing)})"
        )
    return lines


def _merge(entries: Iterable[LockEntry]) -> dict[tuple[str, str], LockEntry]:
    """One entry per (kind, repo id): the files of several fetches of one commit (config by config) together."""
    out: dict[tuple[str, str], LockEntry] = {}
    for entry in entries:
        key = (entry.kind, entry.repo_id)
        old = out.get(key)
        if old is not None and old.revision == entry.revision:
            files: dict[str, LockedFile] = {f.path: f for f in (*old.files, *entry.files)}
            entry = attrs.evolve(entry, files=tuple(sorted(files.values(), key=lambda f: f.path)))
        out[key] = entry
    return out


def update_lock(path: Path, fetched: Iterable[hub.Fetched]) -> Path:
    """Write the lock file ``path``: its entries so far, with those of the artifacts just fetched replacing them."""
    kept = _merge(read_lock(path)) if path.is_file() else {}
    new = _merge(f.lock_entry() for f in fetched)
    for key, entry in new.items():
        old = kept.get(key)
        kept[key] = _merge([old, entry])[key] if old is not None and old.revision == entry.revision else entry
    return write_lock(path, list(kept.values()))


def _lock_paths(plan: FetchPlan, lock: Path | None, root: Path) -> dict[Path, list[PlannedArtifact]]:
    out: dict[Path, list[PlannedArtifact]] = {}
    for item in plan.items:
        targets = [lock] if lock is not None else [lock_path_for(_resolve(p, root)) for p in item.claims_files]
        for target in dict.fromkeys(targets):
            out.setdefault(target, []).append(item)
    return out


def _resolve(path: str, root: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p


def run_plan(
    plan: FetchPlan,
    to: Path | None = None,
    lock: Path | None = None,
    root: Path | None = None,
    progress: bool = True,
    echo: Printer = print,
) -> FetchOutcome:
    """Download every artifact of ``plan`` and write the lock file(s); ``HarnessError`` on the first failure.

    ``lock`` None: ``claims.lock.json`` next to each claims file (``root`` resolves relative claims paths).
    """
    base = root if root is not None else Path.cwd()
    done: dict[hub.Artifact, hub.Fetched] = {}
    for n, item in enumerate(plan.items, 1):
        echo(f"[{n}/{len(plan.items)}] fetching {item.artifact.describe()} ({item.purpose})")
        fetched = hub.fetch(item.artifact, to=to, progress=progress)
        size = sum(f.size for f in fetched.files)
        echo(f"      {fetched.revision} at {fetched.path}: {len(fetched.files)} files, {human_size(size)}")
        done[item.artifact] = fetched
    locks = []
    for path, items in _lock_paths(plan, lock, base).items():
        try:
            locks.append(update_lock(path, [done[i.artifact] for i in items]))
        except OSError as exc:
            raise HarnessError(
                f"cannot write the lock file {path}: {exc}. Fix: pass --lock PATH to a writable place"
            ) from None
        echo(f"lock file: {path} ({len(items)} artifacts)")
    return FetchOutcome(tuple(done.values()), tuple(locks))
