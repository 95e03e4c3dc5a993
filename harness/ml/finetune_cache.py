"""The on-disk cache of fine-tuned models.

A fine-tuned model lives in ``<cache_dir>/finetuned/<name>-<key>/`` where the key hashes everything
that determines it (the base checkpoint's files, the training data, the recipe, the seed, the device kind and
precision, the library versions). Building an entry holds a file lock, so pytest-xdist workers wait for one
another instead of training the same model twice; it trains into a temporary directory next to the entry,
writes the manifest (file sizes and SHA-256) last and renames the directory into place, so a killed run never
leaves an entry that a later run would serve: the next run removes the leftovers and rebuilds. Every entry is
checked against its manifest before use (``harness.ml.cache_manifest``: every file listed and matching, names
confined to the entry, the key recorded and matching); a damaged one is an error that says what to delete. A
wait for another process's lock says whom it waits for and ends after ``CLAIMS_LOCK_TIMEOUT`` seconds
(``harness.ml.cache_lock``). Entries are written with the ordinary file modes (0644/0755 under umask 022), so a
shared cache serves every user.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from harness.core.errors import MeasurementError, NotRunError
from harness.core.files import atomic_write_text, make_temp_dir, sha256_file
from harness.ml.cache_lock import EntryLock, Notify
from harness.ml.cache_manifest import MANIFEST, entry_key, manifest_for, verify

if TYPE_CHECKING:
    from harness.ml.data import TaskData
    from harness.ml.evaluation import Runtime
from harness.ml.devices import distributed
from harness.ml.finetune import train_model
from harness.ml.recipes import Recipe

LOG = "trainings.jsonl"
__all__ = ["LOG", "MANIFEST", "Entry", "checkpoint_digest", "entry_name", "fine_tuned", "verify"]


#: files of a checkpoint that determine the model and its tokenization (hashed for the cache key)
CHECKPOINT_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model")


# ---------------------------------------------------------------- cache keys


def checkpoint_digest(path: Path) -> str:
    """SHA-256 over the files that determine a checkpoint (config, weights, tokenizer files)."""
    h = hashlib.sha256()
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES and not p.name.startswith(".") and p.name != MANIFEST
    )
    if not files:
        raise MeasurementError(f"{path} holds no checkpoint files (config.json, *.safetensors ...)")
    for file in files:
        h.update(file.name.encode() + b"\0")
        h.update(sha256_file(file).encode())
    return h.hexdigest()


def versions() -> dict[str, str]:
    """The versions of the libraries a fine-tuned model depends on."""
    from importlib.metadata import version

    return {name: version(name) for name in ("torch", "transformers", "tokenizers", "datasets", "accelerate")}


def cache_inputs(base_digest: str, data: TaskData, recipe: Recipe, seed: int, runtime: Runtime) -> dict[str, Any]:
    """Everything that determines a fine-tuned model: the cache key is a hash of this."""
    return {
        "base": base_digest,
        "task": data.task.name,
        "data": data.digest,
        "recipe": recipe.training_fields(),
        "seed": seed,
        "device": runtime.device.split(":")[0],
        "precision": runtime.precision,
        "world_size": distributed()[1],
        "versions": versions(),
    }


def entry_name(label: str, inputs: Mapping[str, Any]) -> str:
    """The entry's directory name: the label, the seed and the key (``cache_manifest.entry_key``)."""
    key = entry_key(inputs)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return f"{safe}-s{inputs['seed']}-{key}"


@attrs.frozen
class TeacherCheckpoint:
    """The fine-tuned teacher of a distillation recipe: where it is, and its digest (part of the student's key)."""

    path: Path
    digest: str
    origin: str


def student_cache_inputs(
    base_digest: str, data: TaskData, recipe: Recipe, seed: int, runtime: Runtime, teacher: TeacherCheckpoint | None
) -> dict[str, Any]:
    """The cache inputs of a fine-tune; with a teacher, the teacher's digest and every loss weight added."""
    from harness.ml.distillation import DistillationWeights, distillation_cache_inputs

    inputs = cache_inputs(base_digest, data, recipe, seed, runtime)
    if teacher is None:
        return inputs
    assert recipe.distillation is not None
    return distillation_cache_inputs(teacher.digest, DistillationWeights(**recipe.distillation), inputs)


# ---------------------------------------------------------------- cache entries


@attrs.frozen
class Entry:
    """A complete, verified fine-tuned model in the cache."""

    path: Path
    manifest: Mapping[str, Any]
    trained_now: bool


def _cache_error(exc: OSError, what: str, where: Path) -> MeasurementError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = f"free disk space under {where} or point --claims-cache-dir (CLAIMS_CACHE_DIR) at a larger disk"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"make {where} writable or point --claims-cache-dir (CLAIMS_CACHE_DIR) at a writable directory"
    else:
        hint = f"check {where} and its disk"
    return MeasurementError(
        f"{what} failed: {exc.strerror or exc} ({type(exc).__name__}: {exc}); {hint}. "
        "Nothing was cached, so no result rests on a partial model"
    )


def fine_tuned(
    cache_dir: Path,
    label: str,
    base_dir: Path,
    base_digest: str,
    train: TaskData,
    recipe: Recipe,
    seed: int,
    runtime: Runtime,
    notify: Notify | None = None,
    teacher: TeacherCheckpoint | None = None,
) -> Entry:
    """The cached model ``base_dir`` fine-tuned on ``train`` with ``recipe`` and ``seed``; trained if absent.
    ``notify`` shows a person that this process waits for another's lock (default: stderr). A distillation
    recipe needs its ``teacher``; the teacher's digest and the loss weights are in the key."""
    if (recipe.teacher is None) != (teacher is None):
        raise NotRunError(
            f"recipe {recipe.name} names teacher {recipe.teacher!r} but no teacher checkpoint was resolved"
            if teacher is None
            else f"a teacher checkpoint ({teacher.path}) was given for recipe {recipe.name}, which names no teacher",
            "name the teacher in the recipe (teacher = ...) and let the task measurement resolve it",
        )
    inputs = student_cache_inputs(base_digest, train, recipe, seed, runtime, teacher)
    teacher_dir = None if teacher is None else teacher.path

    def train_into(out: Path | None) -> dict[str, Any]:
        return train_model(base_dir, train, recipe, seed, runtime, out, teacher_dir)

    return cached_entry(cache_dir / "finetuned", entry_name(label, inputs), inputs, train_into, notify)


def cached_entry(
    root: Path,
    name: str,
    inputs: Mapping[str, Any],
    train_into: Callable[[Path | None], dict[str, Any]],
    notify: Notify | None = None,
    doing: str = "fine-tuning",
) -> Entry:
    """The verified entry ``root/name``; built with ``train_into(directory)`` under a file lock if absent.

    ``train_into`` writes the model into the directory it is given and returns its training metrics; under
    ``torchrun`` the ranks other than 0 call it with ``None`` (they train alongside and do not write).
    """
    path = root / name
    key = entry_key(inputs)
    if (path / MANIFEST).is_file():  # complete entries never change: no lock needed to read one
        return Entry(path, verify(path, key), trained_now=False)
    rank, world = distributed()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cache_error(exc, f"creating the cache directory {root}", root) from None
    if world > 1 and rank != 0:  # rank 0 holds the lock and writes; the others train alongside it
        train_into(None)
        _barrier()
        return Entry(path, verify(path, key), trained_now=True)
    lock = EntryLock(root / f"{name}.lock", f"{doing} {name}", notify)
    try:
        lock.acquire()
    except OSError as exc:
        raise _cache_error(exc, f"locking {root / name}.lock", root) from None
    try:
        if (path / MANIFEST).is_file():  # another worker built it while this one waited
            return Entry(path, verify(path, key), trained_now=False)
        return _build(root, name, path, inputs, train_into)
    finally:
        lock.release()


def _build(
    root: Path,
    name: str,
    path: Path,
    inputs: Mapping[str, Any],
    train_into: Callable[[Path | None], dict[str, Any]],
) -> Entry:
    """Train into a temporary directory, write the manifest last, rename into place (holding the lock)."""
    for stale in root.glob(f".tmp-{name}-*"):  # left by a killed run: the lock says nobody else is using it
        shutil.rmtree(stale, ignore_errors=True)
    if path.exists():  # a directory without a manifest was never completed by this code
        shutil.rmtree(path, ignore_errors=True)
    tmp: Path | None = None
    try:
        tmp = make_temp_dir(root, f".tmp-{name}-")  # mkdtemp's 0o700 would keep a shared cache from others
        started = time.perf_counter()
        metrics = train_into(tmp)
        seconds = time.perf_counter() - started
        atomic_write_text(tmp / MANIFEST, json.dumps(manifest_for(tmp, inputs, metrics, seconds), indent=1) + "\n")
        os.rename(tmp, path)
        tmp = None
    except OSError as exc:
        raise _cache_error(exc, f"writing the trained model {name}", root) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        with (root / LOG).open("a", encoding="utf-8") as log:
            log.write(
                json.dumps(
                    {
                        "entry": name,
                        "seconds": round(seconds, 3),
                        "pid": os.getpid(),
                        "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
                    }
                )
                + "\n"
            )
    except OSError as exc:  # the entry is complete; only the log of trainings misses a line
        warnings.warn(f"could not log the training of {name} in {root / LOG}: {exc}", stacklevel=2)
    if distributed()[1] > 1:
        _barrier()
    return Entry(path, verify(path, entry_key(inputs)), trained_now=True)


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
