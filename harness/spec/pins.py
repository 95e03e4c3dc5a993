"""Pins of hub artifacts in a claims file: ``revision`` (a commit, branch or tag) and the declared download size.

Where a pin may be written:

- ``[models.<m>] revision = "..."`` (and ``size_bytes``): the base checkpoint ``hub_id``;
- ``[models.<m>.finetuned] "<task>" = { hub_id = "...", revision = "...", size_bytes = N }``: a published
  checkpoint (the plain string ``"<task>" = "<hub id>"`` stays valid: unpinned, size unknown); the same table
  may declare the checkpoint's head conventions (``label_order``, ``output_scale``: harness.spec.heads);
- ``[datasets.<name>] hub_id = "...", revision = "...", size_bytes = N | { <config> = N, ... }``: a data set
  repository (``nyu-mll/glue``); tasks whose hub id (or an alias of it) is ``hub_id`` use the pin.

A revision is validated when the file is loaded: 40 hexadecimal digits (a commit: the only real pin), or a
branch or tag name (letters, digits, ``. _ - /``, no ``..``). An abbreviated commit (7-39 hex digits) is refused:
the Hub resolves only full commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from harness.spec.fields import Fields, describe
from harness.spec.heads import HEAD_FIELDS, HeadConvention, parse_head

COMMIT = re.compile(r"[0-9a-f]{40}")
_ABBREVIATED = re.compile(r"[0-9a-f]{7,39}")
_REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
#: a hub repository id: ``name`` or ``org/name``
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?")
PIN_FIELDS = ("hub_id", "revision", "size_bytes")
DATASET_FIELDS = ("hub_id", "revision", "size_bytes", "note")


@attrs.frozen
class HubPin:
    """A hub repository as a claims file names it: id, revision (None = unpinned) and declared size (None = unknown)."""

    hub_id: str
    revision: str | None = None
    size_bytes: int | None = None


@attrs.frozen
class DatasetSpec:
    """``[datasets.<name>]``: a data set repository's pin; ``sizes`` is bytes per config (``"*"`` = any config)."""

    name: str
    hub_id: str
    revision: str | None = None
    sizes: Mapping[str, int] = attrs.field(factory=dict)

    def size_of(self, config: str | None) -> int | None:
        return self.sizes.get(config or "", self.sizes.get("*"))


def parse_revision(f: Fields, field: str = "revision") -> str | None:
    """The revision at ``field`` of ``f``'s table (None when absent), validated as described in the module."""
    if field not in f.table:
        return None
    value = f.table[field]
    fix = 'pin the full commit: revision = "<40 hex digits>" (the commit shown on the Hub), or a branch or tag name'
    if not isinstance(value, str):
        raise f.error(field, "a commit (40 hex digits) or a branch or tag name (a string)", describe(value), fix)
    if COMMIT.fullmatch(value):
        return value
    if _ABBREVIATED.fullmatch(value):
        raise f.error(field, "a full commit (40 hex digits)", f"an abbreviated commit {value!r}", fix)
    if not _REF_NAME.fullmatch(value) or ".." in value or value.endswith(("/", ".lock")):
        raise f.error(field, "a commit (40 hex digits) or a branch or tag name", describe(value), fix)
    return value


def _size(f: Fields, field: str) -> int | None:
    if field not in f.table:
        return None
    value = f.table[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise f.error(
            field, "a download size in bytes (an integer >= 0)", describe(value), "write the size the Hub lists"
        )
    return value


def parse_finetuned(f: Fields, task: str, raw: Any) -> HubPin:
    """One ``[models.<m>.finetuned]`` entry: a hub id string, or ``{hub_id, revision, size_bytes}``."""
    if isinstance(raw, str):
        return HubPin(raw)
    if not isinstance(raw, dict):
        raise f.error(
            f"finetuned.{task}",
            'a checkpoint id (a string) or a table { hub_id = "...", revision = "..." }',
            describe(raw),
            "quote the id",
        )
    entry = Fields(f.path, f.claim_id, raw, f"{f.prefix}finetuned.{task}.")
    entry.check_keys(PIN_FIELDS + HEAD_FIELDS)
    return HubPin(entry.string("hub_id"), parse_revision(entry), _size(entry, "size_bytes"))


def parse_finetuned_head(f: Fields, task: str, raw: Any) -> HeadConvention:
    """The head conventions of one ``[models.<m>.finetuned]`` entry (none for a plain hub id string)."""
    if not isinstance(raw, dict):
        return HeadConvention()
    return parse_head(Fields(f.path, f.claim_id, raw, f"{f.prefix}finetuned.{task}."))


def parse_model_pin(f: Fields, hub_id: str) -> HubPin:
    """The base checkpoint's pin: ``revision`` and ``size_bytes`` of a ``[models.<m>]`` table."""
    return HubPin(hub_id, parse_revision(f), _size(f, "size_bytes"))


def parse_dataset(path: str, name: str, raw: Any) -> DatasetSpec:
    """One ``[datasets.<name>]`` table."""
    where = Fields(path, None, {name: raw}, "datasets.")
    if not isinstance(raw, dict):
        raise where.error(name, "a table", describe(raw), f"write it as [datasets.{name}]")
    f = Fields(path, None, raw, f"datasets.{name}.")
    f.check_keys(DATASET_FIELDS)
    hub_id = f.string("hub_id")
    raw_size = raw.get("size_bytes")
    sizes: dict[str, int] = {}
    if isinstance(raw_size, dict):
        sizes_f = Fields(path, None, raw_size, f"datasets.{name}.size_bytes.")
        sizes = {config: _size(sizes_f, config) or 0 for config in raw_size}
    elif raw_size is not None:
        sizes = {"*": _size(f, "size_bytes") or 0}
    return DatasetSpec(name, hub_id, parse_revision(f), sizes)


def parse_hub_aliases(path: str, data: Mapping[str, Any]) -> dict[str, str]:
    """``[hub_aliases]``: an old hub id = the id it moved to (``"old-name" = "org/old-name"``).
    A look-up of either finds a copy cached under the other, so caches filled before or after a rename both serve."""
    f = Fields(path, None, data)
    raw = f.table_of("hub_aliases")
    out: dict[str, str] = {}
    for old, new in raw.items():
        for which, repo in (("the old id", old), ("the new id", new)):
            if not isinstance(repo, str) or not HUB_ID.fullmatch(repo) or ".." in repo:
                raise f.error(
                    f"hub_aliases.{old}",
                    f"{which} as a hub repository id (name or org/name)",
                    describe(repo),
                    'write it as "old-id" = "org/new-id"',
                )
        out[old] = new
    return out
