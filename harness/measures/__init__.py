"""The registry of measurement kinds (``[claims.measure] kind = ...``).

A kind is a function ``(claim, context) -> Measurement`` plus the keys its table takes and the
pytest markers its items get. Kind modules import torch and transformers inside their functions only,
so that loading the registry (and the pytest plugin) stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from harness.errors import did_you_mean

if TYPE_CHECKING:
    from harness.claims import Claim
    from harness.measurement import Context, Measurement

MeasureFunction = Callable[["Claim", "Context"], "Measurement"]


@attrs.frozen
class Kind:
    """A registered measurement kind."""

    name: str
    function: MeasureFunction
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {}


def register(
    name: str,
    *,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    markers: tuple[str, ...] = (),
) -> Callable[[MeasureFunction], MeasureFunction]:
    """Register a measurement kind under ``name``."""

    def wrap(function: MeasureFunction) -> MeasureFunction:
        if name in KINDS:
            raise ValueError(f"measurement kind {name!r} is registered twice")
        KINDS[name] = Kind(name, function, required, optional, markers)
        return function

    return wrap


def get(name: str) -> Kind:
    """The kind called ``name``; a ``KeyError`` that suggests close names otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown measurement kind {name!r}.{did_you_mean(name, KINDS)}") from None


# The kinds themselves (light modules: heavy imports happen inside their functions).
from harness.measures import architecture, speed, tasks, unavailable  # noqa: E402,F401
