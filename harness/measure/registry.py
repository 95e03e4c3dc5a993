"""Registering measurement kinds: ``@register("my_kind", required=(...), markers=(...))``.

A kind is a function ``(claim, context) -> Measurement`` plus the keys its ``[claims.<id>.measure]`` table
takes and the pytest markers its items get. Register one from a module named by a ``claims_harness.kinds``
entry point of an installed package, or from a ``conftest.py``; docs/extending.md shows a complete example.
Kind modules import torch and transformers inside their functions only, so that loading the registry (and
the pytest plugin) stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.spec.kinds import KINDS, CheckFunction, Kind

if TYPE_CHECKING:
    from harness.measure.measurement import Context, Measurement
    from harness.spec import Claim

MeasureFunction = Callable[["Claim", "Context"], "Measurement"]

__all__ = ["KINDS", "CheckFunction", "Kind", "MeasureFunction", "get", "register"]


def register(
    name: str,
    *,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    markers: tuple[str, ...] = (),
    check: CheckFunction | None = None,
) -> Callable[[MeasureFunction], MeasureFunction]:
    """Register a measurement kind under ``name`` (a second kind of the same name is an error); ``check``
    validates a claim of this kind when its file loads (``harness.spec.kinds``)."""

    def wrap(function: MeasureFunction) -> MeasureFunction:
        origin = f"{function.__module__}.{function.__qualname__}"
        KINDS.add(name, Kind(name, function, required, optional, markers, check), origin)
        return function

    return wrap


def get(name: str) -> Kind:
    """The kind called ``name``; ``UnknownName`` (a ``KeyError``) that suggests close names otherwise."""
    return KINDS[name]
