"""Hugging Face Hub artifacts, offline first: what an artifact is, its id aliases, finding it in the hub cache,
the one function that downloads (``fetch``), and the guard that keeps everything else offline.

- ``Artifact``: a model or dataset repository, optionally pinned to a revision, with the files it needs.
- ``aliases`` / ``equivalent_ids``: the Hub moved its canonical ids (``some-model`` is now
  ``some-org/some-model``; a claims file lists its own in ``[hub_aliases]``); a cache filled under either id
  is found under both.
- ``find_cached``: the local snapshot directory in the hub cache (``models--<org>--<name>/snapshots/<commit>/``,
  ``datasets--<org>--<name>/...``), honouring a pinned revision; never touches the network.
- ``fetch``: downloads with ``huggingface_hub.snapshot_download`` into the hub cache or ``<to>/<repo_id>/``, and
  returns the resolved commit with a SHA-256 per file. It is the only function here that goes online, and it
  refuses when the environment says offline (``HF_HUB_OFFLINE=1``).

Lock files and hashes are in ``harness.ml.lock``; parquet snapshots of data sets in ``harness.ml.hub_parquet``;
the offline guard in ``harness.ml.offline``.
Knows nothing of claims files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import HarnessError
from harness.ml.hub_parquet import parquet_files
from harness.ml.lock import KINDS, LockedFile, LockEntry, digest_of, locked_files, snapshot_files
from harness.ml.offline import offline_reason

COMMIT = re.compile(r"[0-9a-f]{40}")
#: (old id, current canonical id) of the data sets the harness's tasks use; a lookup under one also tries the
#: other. Models' renames are data of the claims file that names them (its ``hub_aliases`` table), added with
#: ``add_alias`` when the file is used.
ID_ALIASES: tuple[tuple[str, str], ...] = (
    ("glue", "nyu-mll/glue"),
    ("imdb", "stanfordnlp/imdb"),
    ("squad", "rajpurkar/squad"),
)
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")


class ArtifactError(HarnessError):
    """An ``Artifact`` was described wrongly (unknown kind, malformed id or revision)."""


class HubCacheError(HarnessError):
    """The hub cache holds something, but not unambiguously what was asked for."""


class OfflineError(HarnessError):
    """``fetch`` was called while the environment says the Hub is off limits."""


class FetchError(HarnessError):
    """A download failed: the repository, the revision or a file is not there, or the Hub cannot be reached."""


def _check_kind(instance: Artifact, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in KINDS:
        raise ArtifactError(
            f"Artifact({instance.repo_id!r}): field 'kind': expected one of {KINDS}; found {value!r}. "
            "Fix: kind='model' for checkpoints, kind='dataset' for data sets"
        )


def _check_repo_id(instance: Artifact, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _REPO_ID.fullmatch(value) or "--" in value or value.endswith(".git"):
        raise ArtifactError(
            f"Artifact: field 'repo_id': expected a hub id ('name' or 'org/name'); found {value!r}. "
            "Fix: write the id as on the Hub, e.g. 'org/model-name'"
        )


def _check_revision(instance: Artifact, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value or ".." in value or value.startswith("/")):
        raise ArtifactError(
            f"Artifact({instance.repo_id!r}): field 'revision': expected a commit (40 hex digits), a branch or a "
            f"tag; found {value!r}. Fix: pin the commit the evidence came from, or leave it unset (None)"
        )


def _check_size(instance: Artifact, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ArtifactError(
            f"Artifact({instance.repo_id!r}): field 'size_bytes': expected a size in bytes (an integer >= 0) or None "
            f"(unknown); found {value!r}. Fix: give the download size the Hub lists, or leave it unset"
        )


def _tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class Artifact:
    """A hub repository a measurement needs: a checkpoint (``model``) or a data set (``dataset``).

    ``revision`` None means unpinned (the ``main`` branch, whatever it resolves to). ``allow_patterns`` limits
    the files (``huggingface_hub`` glob patterns, e.g. ``"sst2/*"``); empty means all files. ``size_bytes`` is
    the declared download size (None = unknown). ``config`` and ``split`` name a data set's part. ``aliases``
    adds ids beyond the known ``ID_ALIASES``.
    """

    kind: str = attrs.field(validator=_check_kind)
    repo_id: str = attrs.field(validator=_check_repo_id)
    revision: str | None = attrs.field(default=None, validator=_check_revision)
    allow_patterns: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    size_bytes: int | None = attrs.field(default=None, validator=_check_size)
    config: str | None = None
    split: str | None = None
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def ids(self) -> tuple[str, ...]:
        """The artifact's id first, then every alias (known and declared), without repeats."""
        out = list(equivalent_ids(self.repo_id))
        for extra in self.aliases:
            out.extend(i for i in equivalent_ids(extra) if i not in out)
        return tuple(out)

    @property
    def pinned(self) -> bool:
        return self.revision is not None and COMMIT.fullmatch(self.revision) is not None

    def describe(self) -> str:
        rev = f"@{self.revision}" if self.revision else " (unpinned)"
        part = "/".join(p for p in (self.config, self.split) if p)
        return f"{self.kind} {self.repo_id}{rev}" + (f" [{part}]" if part else "")


@attrs.frozen
class Fetched:
    """The outcome of ``fetch``: the artifact, the commit it resolved to, where its files are, and their hashes."""

    artifact: Artifact
    revision: str
    path: Path
    files: tuple[LockedFile, ...]
    fetched_at: str

    @property
    def hashes(self) -> dict[str, str]:
        """``{relative path: SHA-256}`` of the fetched files."""
        return {f.path: f.sha256 for f in self.files}

    @property
    def content_digest(self) -> str:
        return digest_of(self.hashes)

    def lock_entry(self) -> LockEntry:
        return LockEntry(self.artifact.repo_id, self.artifact.kind, self.revision, self.files, self.fetched_at)


# ---------------------------------------------------------------- ids


_GROUPS: dict[str, tuple[str, ...]] = {}


def add_alias(old: str, new: str) -> None:
    """Make ``old`` and ``new`` one repository for every look-up (both directions; groups merge)."""
    group = tuple(dict.fromkeys((*_GROUPS.get(old, (old,)), *_GROUPS.get(new, (new,)))))
    for member in group:
        _GROUPS[member] = group


for _old, _new in ID_ALIASES:
    add_alias(_old, _new)


def aliases(repo_id: str) -> tuple[str, ...]:
    """The other ids of the same repository (old and new canonical ids), in ``ID_ALIASES`` order; ``()`` if none."""
    return tuple(i for i in _GROUPS.get(repo_id, ()) if i != repo_id)


def equivalent_ids(repo_id: str) -> tuple[str, ...]:
    """``repo_id`` followed by its aliases."""
    return (repo_id, *aliases(repo_id))


# ---------------------------------------------------------------- the hub cache


def hub_cache_dir() -> Path:
    """The hub cache directory ``huggingface_hub`` uses, from the environment as it is now.

    ``HF_HUB_CACHE``, else ``HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``, else
    ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``.
    """
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    chosen = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    return Path(os.path.expandvars(os.path.expanduser(chosen)))


def repo_folder(kind: str, repo_id: str) -> str:
    """The cache folder name of a repository: ``models--org--name``, ``datasets--glue``."""
    return "--".join([f"{kind}s", *repo_id.split("/")])


def _matches(rel: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(rel, pattern + "*" if pattern.endswith("/") else pattern)


def missing_files(snapshot: Path, artifact: Artifact) -> list[str]:
    """What an artifact needs that a snapshot lacks: each allow pattern no file matches, and the data set's
    config/split parquet files when ``config`` and ``split`` are set. ``[]`` when the snapshot is complete."""
    files = snapshot_files(snapshot)
    if not files:
        return ["any file"]
    missing = [p for p in artifact.allow_patterns if not any(_matches(rel, p) for rel in files)]
    if artifact.kind == "dataset" and artifact.config and artifact.split:
        if not parquet_files(snapshot, artifact.config, artifact.split):
            missing.append(f"{artifact.config}/{artifact.split}-*.parquet")
    return missing


def _snapshot_for(storage: Path, artifact: Artifact) -> Path | None:
    """The snapshot directory of ``artifact``'s revision in one repository folder of the cache, or None."""
    snapshots = storage / "snapshots"
    revision = artifact.revision
    if revision is not None and COMMIT.fullmatch(revision):
        candidate = snapshots / revision
        return candidate if candidate.is_dir() else None
    ref = storage / "refs" / (revision or "main")
    if ref.is_file():
        commit = ref.read_text(encoding="utf-8").strip()
        candidate = snapshots / commit
        return candidate if COMMIT.fullmatch(commit) and candidate.is_dir() else None
    if revision is not None:  # a branch or tag that was never fetched here
        return None
    present = sorted(p for p in snapshots.glob("*") if p.is_dir()) if snapshots.is_dir() else []
    if len(present) == 1:
        return present[0]
    if len(present) > 1:
        raise HubCacheError(
            f"{storage}: {len(present)} snapshots ({', '.join(p.name for p in present)}) and no refs/main, so the "
            f"unpinned {artifact.describe()} is ambiguous. Fix: pin revision to one of those commits"
        )
    return None


def find_cached(artifact: Artifact, cache_dir: Path | None = None) -> Path | None:
    """The local snapshot directory of ``artifact`` in the hub cache, or None; never touches the network.

    Tries the artifact's id, then its aliases. An unpinned artifact is the commit ``refs/main`` names (or the
    only snapshot when there is no ref); a commit revision is ``snapshots/<commit>``; a branch or tag goes
    through ``refs/<name>``. A snapshot that lacks what the artifact needs (``missing_files``) does not count.
    """
    root = Path(cache_dir) if cache_dir is not None else hub_cache_dir()
    for repo_id in artifact.ids:
        storage = root / repo_folder(artifact.kind, repo_id)
        if not storage.is_dir():
            continue
        snapshot = _snapshot_for(storage, artifact)
        if snapshot is not None and not missing_files(snapshot, artifact):
            return snapshot
    return None


# ---------------------------------------------------------------- the one online function


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    if not enabled:
        disable_progress_bars()
    try:
        yield
    finally:
        if not enabled and not was_disabled:
            enable_progress_bars()


def _fetch_error(artifact: Artifact, exc: Exception, endpoint: str) -> FetchError:
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    first = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, RevisionNotFoundError):
        what, fix = f"revision {artifact.revision!r} does not exist", "pin a commit that exists (see its history)"
    elif isinstance(exc, RepositoryNotFoundError):
        what, fix = "the repository does not exist (or is private)", "check the id, or log in for a private one"
    elif isinstance(exc, EntryNotFoundError):
        what, fix = "a file is not in the repository", "check allow_patterns against the repository's files"
    else:
        what, fix = "the download failed", f"check the connection to {endpoint} and retry"
    where = f"fetch {artifact.describe()} from {endpoint}"
    return FetchError(f"{where}: {what} ({type(exc).__name__}: {first}). Fix: {fix}")


def _write_ref(storage: Path, name: str, commit: str) -> None:
    """``refs/<name>`` = ``commit`` in a repository folder of the hub cache, written atomically."""
    ref = storage / "refs" / name
    ref.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref.with_name(f".{ref.name}.{os.getpid()}.tmp")
    tmp.write_text(commit, encoding="utf-8")
    os.replace(tmp, ref)


def fetch(artifact: Artifact, to: Path | None = None, progress: bool = True, cache_dir: Path | None = None) -> Fetched:
    """Download ``artifact`` (the only function here that goes online) and hash what was downloaded.

    The revision is resolved to a commit first (one info request), then exactly that commit is downloaded with
    ``snapshot_download`` (``allow_patterns`` respected): into the hub cache (``cache_dir``, default the
    environment's) or, when ``to`` is given, into ``<to>/<repo_id>/``. Returns the commit, the local directory and
    each downloaded file's SHA-256 and size. Refuses (``OfflineError``) when the environment says offline.
    """
    reason = offline_reason()
    if reason is not None:
        raise OfflineError(
            f"fetch {artifact.describe()}: refused, the Hugging Face Hub is off limits here ({reason}); nothing "
            "was downloaded. To opt in, run the fetch in a process started with HF_HUB_OFFLINE=0 (and "
            "TRANSFORMERS_OFFLINE unset), e.g. `HF_HUB_OFFLINE=0 python -m harness fetch ...`"
        )
    import httpx2
    from huggingface_hub import HfApi, constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    endpoint = constants.ENDPOINT
    patterns = list(artifact.allow_patterns) or None
    local_dir = Path(to) / artifact.repo_id if to is not None else None
    cache = Path(cache_dir) if cache_dir is not None else hub_cache_dir()
    try:
        info = HfApi().repo_info(artifact.repo_id, repo_type=artifact.kind, revision=artifact.revision)
        commit = info.sha
        if not commit or not COMMIT.fullmatch(commit):
            raise FetchError(
                f"fetch {artifact.describe()} from {endpoint}: the Hub answered without a commit sha (found "
                f"{commit!r}); expected 40 hex digits. Fix: check that HF_ENDPOINT points to a Hugging Face Hub"
            )
        with _progress_bars(progress):
            path = snapshot_download(
                artifact.repo_id,
                repo_type=artifact.kind,
                revision=commit,
                allow_patterns=patterns,
                cache_dir=str(cache),
                local_dir=str(local_dir) if local_dir is not None else None,
            )
    except (HfHubHTTPError, httpx2.HTTPError, OSError) as exc:
        raise _fetch_error(artifact, exc, endpoint) from None
    if local_dir is None and not artifact.pinned:
        # downloaded by commit, so huggingface_hub wrote no ref: record what the branch or tag resolved to
        _write_ref(cache / repo_folder(artifact.kind, artifact.repo_id), artifact.revision or "main", commit)
    root = Path(path)
    names = [rel for rel in snapshot_files(root) if patterns is None or any(_matches(rel, p) for p in patterns)]
    if not names:
        raise FetchError(
            f"fetch {artifact.describe()} from {endpoint}: no file matched allow_patterns {patterns!r} at commit "
            f"{commit}. Fix: check the patterns against the repository's files"
        )
    return Fetched(artifact, commit, root, locked_files(root, names), _utc_now())
