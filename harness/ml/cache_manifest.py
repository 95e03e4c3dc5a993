"""The manifest of a fine-tuned model cache entry: written last, and checked against the files on every read.

An entry is served only when its manifest proves it: every file of the entry is listed (a manifest with
``files = {}`` proves nothing) with its size and SHA-256, and matches; every listed name stays inside the entry
(no ``..``, no absolute path, no symlink leading out); and the entry's key, the hash of the cache inputs that
determine the model, is recorded and must be both the hash of the recorded inputs and the key the entry is
looked up by (an entry copied under another seed's key directory is refused). Anything else is a
``MeasurementError`` that says what to delete.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.core.errors import MeasurementError
from harness.core.files import sha256_file

MANIFEST = "harness-manifest.json"
#: the manifest layout; entries written before keys were recorded are rebuilt
FORMAT = 2
KEY_LENGTH = 16
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")


def entry_key(inputs: Mapping[str, Any]) -> str:
    """The key of an entry: a hash of everything that determines the fine-tuned model."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]


def entry_files(path: Path) -> list[Path]:
    """The files of an entry (the manifest aside), symlinks included: all must be listed in the manifest."""
    return sorted(p for p in path.iterdir() if p.name != MANIFEST and (p.is_file() or p.is_symlink()))


def manifest_for(path: Path, inputs: Mapping[str, Any], metrics: Mapping[str, Any], seconds: float) -> dict[str, Any]:
    """The manifest of a freshly trained entry at ``path``: its key, inputs, and every file's size and hash."""
    files = {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in entry_files(path)}
    return {
        "format": FORMAT,
        "key": entry_key(inputs),
        "inputs": dict(inputs),
        "files": files,
        "train_metrics": dict(metrics),
        "seconds": seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


class _Refused(Exception):
    """Why an entry is not served (turned into a MeasurementError with the remedy)."""


def _read(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise _Refused(f"has an unreadable manifest {MANIFEST} ({exc})") from None
    if not isinstance(manifest, dict):
        raise _Refused(f"has a malformed manifest: expected a JSON object, found {type(manifest).__name__}")
    for field, kind in (("key", str), ("inputs", dict), ("files", dict)):
        if not isinstance(manifest.get(field), kind):
            raise _Refused(
                f"has a malformed manifest: {field!r} should be a JSON {kind.__name__}, found "
                f"{type(manifest.get(field)).__name__} (an entry from an older harness, or edited)"
            )
    return manifest


def _check_key(path: Path, manifest: Mapping[str, Any], key: str) -> None:
    recorded = manifest["key"]
    if recorded != entry_key(manifest["inputs"]):
        raise _Refused(f"records the key {recorded!r}, which is not the hash of the inputs it records")
    if recorded != key or not path.name.endswith(f"-{key}"):
        raise _Refused(
            f"was built for the cache key {recorded!r} (seed {manifest['inputs'].get('seed')!r}), not for "
            f"{key!r}, the key it is looked up by: it was copied or renamed from another entry"
        )


def _check_name(path: Path, name: str) -> Path:
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        raise _Refused(f"lists the file name {name!r}, which is not a plain file name inside the entry")
    file = path / name
    if not file.resolve().is_relative_to(path.resolve()):
        raise _Refused(f"lists {name!r}, a symlink that leads outside the entry (to {file.resolve()})")
    return file


def _check_file(file: Path, name: str, expected: Any) -> None:
    if (
        not isinstance(expected, dict)
        or type(expected.get("bytes")) is not int
        or not isinstance(expected.get("sha256"), str)
        or not _SHA256.fullmatch(expected["sha256"])
    ):
        raise _Refused(f"has a malformed manifest: {name!r} should be {{'bytes': <int>, 'sha256': <64 hex>}}")
    try:
        size = file.stat().st_size
        if size != expected["bytes"]:
            raise _Refused(f"is damaged: {name} has {size} bytes, its manifest says {expected['bytes']}")
        if sha256_file(file) != expected["sha256"]:
            raise _Refused(f"is damaged: {name} does not match the SHA-256 in its manifest")
    except OSError as exc:
        raise _Refused(f"is damaged: {name}: {exc}") from None


def verify(path: Path, key: str) -> Mapping[str, Any]:
    """The manifest of the entry at ``path``, after checking its key and every file against it."""
    try:
        manifest = _read(path)
        _check_key(path, manifest, key)
        files = manifest["files"]
        if not files:
            raise _Refused("has a manifest that lists no files, so nothing in it is verified")
        listed = {_check_name(path, name): expected for name, expected in files.items()}
        unlisted = [p.name for p in entry_files(path) if p not in listed]
        if unlisted:
            raise _Refused(f"holds files its manifest does not list ({', '.join(unlisted[:5])}): they are not verified")
        for file, expected in listed.items():
            _check_file(file, file.name, expected)
    except _Refused as why:
        raise MeasurementError(
            f"the cached fine-tuned model {path} {why}; delete it (rm -rf {path}) and rerun: it will be "
            "fine-tuned again"
        ) from None
    return manifest
