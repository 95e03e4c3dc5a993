"""Keeping the Hugging Face libraries offline: why the Hub is off limits in this process, and a guard that makes a
block of code offline (environment variables and the flags of already imported libraries) and then restores it.

``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, when it is imported, and ``datasets`` copies it into
``datasets.config``; setting the environment variable alone does not stop a library imported earlier, so the guard
sets those module flags too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

_TRUE = ("1", "ON", "YES", "TRUE")  # huggingface_hub's ENV_VARS_TRUE_VALUES
OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
#: module -> its offline flags, set by the guard when the module is already imported
OFFLINE_FLAGS = {
    "huggingface_hub.constants": ("HF_HUB_OFFLINE",),
    "datasets.config": ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"),
}


def _env_true(name: str) -> bool:
    return (os.environ.get(name) or "").upper() in _TRUE


def offline_reason() -> str | None:
    """Why the Hub is off limits in this process (an environment variable, or ``huggingface_hub`` imported
    offline), or None when it may be used."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if _env_true(name):
            return f"{name}={os.environ[name]} is set in the environment"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and getattr(constants, "HF_HUB_OFFLINE", False):
        return "huggingface_hub was imported while HF_HUB_OFFLINE was set (it reads the variable once, at import)"
    return None


@contextlib.contextmanager
def offline_guard() -> Iterator[None]:
    """Keep the block offline: HF_HUB_OFFLINE=1 and HF_DATASETS_OFFLINE=1, and the offline flags of an already
    imported ``huggingface_hub`` and ``datasets`` set; everything is restored afterwards, even on an error."""
    saved_env = {name: os.environ.get(name) for name in OFFLINE_VARS}
    patched: list[tuple[Any, str, Any]] = []
    for module_name, flags in OFFLINE_FLAGS.items():
        module = sys.modules.get(module_name)
        for name in flags:
            if module is not None and hasattr(module, name):
                patched.append((module, name, getattr(module, name)))
    try:
        for name in OFFLINE_VARS:
            os.environ[name] = "1"
        for module, name, _ in patched:
            setattr(module, name, True)
        yield
    finally:
        for module, name, old in patched:
            setattr(module, name, old)
        for name, old in saved_env.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
