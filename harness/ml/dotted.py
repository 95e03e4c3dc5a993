"""A builder named by its dotted path, ``"package.module:function"``: imported, with an error that says why not.

Shared by ``harness.ml.builders`` (resolving a ``[models.<name>] builder``) and ``harness.ml.models`` (building
the model a kind measures), so that neither imports the other.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.core.errors import did_you_mean
from harness.ml.errors import FieldError


def from_dotted_path(path: str) -> Any:
    """The object ``"package.module:attribute"`` names (a builder function); a ``FieldError`` of ``builder``
    saying what is missing otherwise."""
    module_name, _, attribute = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise FieldError(
            "builder",
            "'package.module:function' naming an importable module",
            f"{path!r}: {type(exc).__name__}: {exc}",
            f"install the package that provides {module_name!r}, put it on PYTHONPATH, or correct the path",
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_")]
            raise FieldError(
                "builder",
                f"a function of module {module_name!r}",
                f"{path!r}: {getattr(target, '__name__', module_name)!r} has no attribute {part!r}",
                "correct the function's name." + did_you_mean(part, names),
            )
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]
