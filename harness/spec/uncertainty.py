"""Declared (Type B) uncertainty components of a claims file: ``[uncertainty.seed_sd]``.

A one-seed task score (a published checkpoint, a recipe run with one seed) leaves out the spread between
fine-tuning runs. The claims file may declare it per task, with a source::

    [uncertainty.seed_sd]
    "glue/rte" = { value = 2.0, unit = "points", source = "Study X (year), Table N: SD over 20 seeds" }

The value is the standard deviation of ONE fine-tuning run's score, in a unit of the claims' dimension
(points, percent, ratio). Without a declaration for a task, a one-seed score of it is at best INCONCLUSIVE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import ClaimError
from harness.spec.fields import Fields, describe
from harness.spec.units import UNITS, to_base

UNCERTAINTY_TABLES = ("seed_sd",)
SEED_SD_FIELDS = ("value", "unit", "source")


@attrs.frozen
class SeedSD:
    """The declared SD of one fine-tuning run's score on ``task``, in ``unit``, with its source."""

    task: str
    value: float
    unit: str
    source: str

    def in_base(self) -> float:
        """The SD in the unit's base (a fraction for points and percent)."""
        return float(to_base(self.value, self.unit))


def parse_uncertainty(path: str, data: Mapping[str, Any]) -> dict[str, SeedSD]:
    """The ``[uncertainty]`` table: task name -> declared seed SD (empty when the file declares none)."""
    top = Fields(path, None, data)
    raw = top.table_of("uncertainty")
    Fields(path, None, raw, "uncertainty.").check_keys(UNCERTAINTY_TABLES)
    seeds = Fields(path, None, raw, "uncertainty.").table_of("seed_sd")
    out: dict[str, SeedSD] = {}
    for task, entry in seeds.items():
        where = f"uncertainty.seed_sd.{task}"
        if not isinstance(entry, dict):
            raise ClaimError(
                path, None, where, "a table {value, unit, source}", describe(entry), f'write "{task}" = {{ ... }}'
            )
        f = Fields(path, None, entry, f"{where}.")
        f.check_keys(SEED_SD_FIELDS)
        value = f.number("value")
        assert value is not None
        if value < 0:
            raise f.error("value", "an SD >= 0", describe(value), "give the standard deviation of one run's score")
        unit = f.string("unit")
        if unit not in UNITS or UNITS[unit].dimension != "ratio":
            raise f.error("unit", "points, percent or ratio", describe(unit), 'write unit = "points"')
        source = f.string("source")
        out[task] = SeedSD(task, float(value), unit, source)
    return out
