"""Units of claimed and measured values, and conversion between them.

A handful of domain units (parameters, bytes, seconds and hours, FLOPs, score points) is all a paper's claims need; each
has a dimension and a factor to its base unit, so that "418 MiB" and "438 MB" compare correctly. More units
are plug-ins: ``register_unit(Unit(...))`` from a module named by a ``claims_harness.units`` entry point or
from a ``conftest.py`` (docs/extending.md).
"""

from __future__ import annotations

from typing import TypeVar

import attrs

from harness.core.registry import Registry

#: a float, or a numpy array of bootstrap replicates: conversion is the same multiplication
T = TypeVar("T")


@attrs.frozen
class Unit:
    """A named unit: ``value_in_base = value * factor``."""

    name: str
    dimension: str
    factor: float


UNITS: Registry[Unit] = Registry("unit", "claims_harness.units")


def register_unit(unit: Unit, origin: str = "") -> Unit:
    """Add a unit (a second unit of the same name is an error)."""
    return UNITS.add(unit.name, unit, origin or "a conftest.py or plug-in")


for _unit in (
    Unit("parameters", "count", 1.0),
    Unit("count", "count", 1.0),
    Unit("million parameters", "count", 1e6),
    Unit("bytes", "bytes", 1.0),
    Unit("MB", "bytes", 1e6),
    Unit("MiB", "bytes", float(2**20)),
    Unit("seconds", "time", 1.0),
    Unit("milliseconds", "time", 1e-3),
    Unit("hours", "time", 3600.0),
    Unit("FLOP", "flops", 1.0),
    Unit("MFLOP", "flops", 1e6),
    Unit("GFLOP", "flops", 1e9),
    Unit("billion FLOPs", "flops", 1e9),  # "#FLOPs 1.2B" as papers print it
    Unit("B", "flops", 1e9),  # the same, spelt as a table cell prints it ("1.2B" FLOPs)
    Unit("ratio", "ratio", 1.0),
    Unit("percent", "ratio", 0.01),
    Unit("points", "ratio", 0.01),
):
    UNITS.add(_unit.name, _unit, "harness.spec.units")


def to_base(value: T, unit: str) -> T:
    """Convert ``value`` in ``unit`` to the unit's base unit."""
    return value * UNITS[unit].factor  # type: ignore[operator,return-value]


def from_base(value: T, unit: str) -> T:
    """Convert a base-unit ``value`` into ``unit``."""
    return value / UNITS[unit].factor  # type: ignore[operator,return-value]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between two units of the same dimension; ``ValueError`` otherwise."""
    a, b = UNITS[from_unit], UNITS[to_unit]
    if a.dimension != b.dimension:
        raise ValueError(f"cannot convert {from_unit!r} ({a.dimension}) to {to_unit!r} ({b.dimension})")
    return value * a.factor / b.factor
