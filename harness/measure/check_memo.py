"""A memo of model tables that passed the transformers check, so that collection need not import torch.

Checking a ``[models.<name>]`` table against transformers means importing transformers' config classes, and in
transformers 5 that imports torch: about five seconds on a laptop, at every collection. The outcome depends
only on the table (builder, Auto class, config), the installed transformers and the harness's checking code,
so a pass is remembered under a key made of exactly these: one small JSON file per passed table in
``<claims-cache-dir>/model-checks/`` (``MEMO_SUBDIR``), holding the key's inputs and the facts later checks
read (the model's ``max_position_embeddings``). A changed config, another transformers or an edited check is
another key, and so a fresh check. Failures are never remembered: they are re-checked, and reported, every
time. Delete the folder to forget every pass. Without a memo directory (the CLI, a bare ``load``) every table
is checked.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.files import atomic_write_text
from harness.spec.records import ModelSpec

MEMO_SUBDIR = "model-checks"
#: the modules whose code decides a check's outcome: an edit to one of them is a new key
CHECK_MODULES = ("harness.measure.model_checks", "harness.ml.configs")

_state: dict[str, Path | None] = {"dir": None}


def set_memo_dir(path: Path | None) -> None:
    """Where passes are remembered (the plugin sets ``<claims-cache-dir>/model-checks``); None: nowhere."""
    _state["dir"] = path


def memo_dir() -> Path | None:
    return _state["dir"]


@functools.cache
def _code_digest() -> str:
    import importlib.util

    digest = hashlib.sha256()
    for name in CHECK_MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        digest.update(name.encode())
        digest.update(Path(origin).read_bytes() if origin else b"?")
    return digest.hexdigest()


def key_inputs(spec: ModelSpec) -> dict[str, Any] | None:
    """What decides the check's outcome; None when transformers is not installed (nothing to remember)."""
    try:
        version = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return None
    return {
        "builder": spec.builder,
        "auto_class": spec.auto_class,
        "config": spec.config,
        "transformers": version,
        "check_code_sha256": _code_digest(),
    }


def _path(inputs: dict[str, Any]) -> Path | None:
    folder = memo_dir()
    if folder is None:
        return None
    text = json.dumps(inputs, sort_keys=True, default=str)
    return folder / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"


def recall(spec: ModelSpec) -> dict[str, Any] | None:
    """The facts remembered from a pass of exactly this table, or None (then check it)."""
    inputs = key_inputs(spec)
    path = None if inputs is None else _path(inputs)
    if path is None or not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # unreadable: checked again, and rewritten
    if not isinstance(entry, dict) or entry.get("inputs") != json.loads(json.dumps(inputs, default=str)):
        return None
    facts = entry.get("facts")
    return facts if isinstance(facts, dict) else None


def remember(spec: ModelSpec, facts: dict[str, Any]) -> None:
    """Record a pass; a memo that cannot be written is skipped (the next collection checks again)."""
    inputs = key_inputs(spec)
    path = None if inputs is None else _path(inputs)
    if path is None:
        return
    entry = {"model": spec.name, "inputs": inputs, "facts": facts}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(entry, indent=1, sort_keys=True, default=str) + "\n")
    except OSError:
        pass
