"""Typed access to one TOML table, with errors that name the file, the claim, the field and the fix."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.core.errors import ClaimError, did_you_mean


def describe(value: Any) -> str:
    """How a found value is shown in an error: its TOML-ish type and a short repr."""
    kind = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )
    try:
        text = repr(value)
    except ValueError:  # an integer beyond Python's digit limit for str()
        text = f"of about {int(value.bit_length() * math.log10(2))} digits"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}"


class Fields:
    """Typed access to one TOML table, raising ``ClaimError`` with full context."""

    def __init__(self, path: str, claim_id: str | None, table: Mapping[str, Any], prefix: str = "") -> None:
        self.path = path
        self.claim_id = claim_id
        self.table = table
        self.prefix = prefix

    def error(self, field: str | None, expected: str, found: str, fix: str) -> ClaimError:
        name = None if field is None else self.prefix + field
        return ClaimError(self.path, self.claim_id, name, expected, found, fix)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.error(
                    key,
                    "one of the known fields (" + ", ".join(allowed) + ")",
                    f"an unknown field {key!r}",
                    "remove it or correct its name." + did_you_mean(key, allowed),
                )

    def string(self, field: str, *, required: bool = True, default: str = "") -> str:
        if field not in self.table:
            if required:
                raise self.error(field, "a non-empty string", "nothing", f'add `{field} = "..."`')
            return default
        value = self.table[field]
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "a non-empty string", describe(value), f'write `{field} = "..."`')
        return value

    def number(self, field: str, *, required: bool = True, positive: bool = False) -> float | None:
        if field not in self.table:
            if required:
                raise self.error(field, "a number", "nothing", f"add `{field} = <number>`")
            return None
        value = self.table[field]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(
                field, "a number", describe(value), f"write the number without quotes, e.g. `{field} = 1.5`"
            )
        if abs(value) > 1e300 or not math.isfinite(value):  # abs first: a huge int overflows isfinite
            raise self.error(field, "a finite number", describe(value), "write the number the source states")
        if positive and value <= 0:
            raise self.error(field, "a number > 0", describe(value), "use a positive number")
        return float(value)

    def boolean(self, field: str, *, default: bool = False) -> bool:
        if field not in self.table:
            return default
        value = self.table[field]
        if not isinstance(value, bool):
            raise self.error(field, "true or false", describe(value), f"write `{field} = true` (no quotes)")
        return value

    def strings(self, field: str) -> tuple[str, ...]:
        value = self.table.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "an array of strings", describe(value), f'write `{field} = ["...", ...]`')
        return tuple(value)

    def table_of(self, field: str, *, required: bool = False) -> dict[str, Any]:
        if field not in self.table:
            if required:
                raise self.error(field, "a table", "nothing", f"add a [{self.prefix}{field}] table")
            return {}
        value = self.table[field]
        if not isinstance(value, dict):
            raise self.error(field, "a table", describe(value), f"write it as a [{self.prefix}{field}] table")
        return value

    def choice(self, field: str, choices: tuple[str, ...] | list[str]) -> str:
        value = self.string(field)
        if value not in choices:
            raise self.error(
                field,
                "one of " + ", ".join(repr(c) for c in choices),
                describe(value),
                "use one of those." + did_you_mean(value, choices),
            )
        return value
