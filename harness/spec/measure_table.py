"""One claim's ``[claims.measure]`` table: a registered kind, its required and optional keys, and its references.

The kind is looked up in ``harness.spec.kinds.KINDS`` (built-in kinds, entry points, a conftest.py); a key
that names another table of the file (``model``, ``baseline``, ``workload``, ``recipe``: ``REFERENCE_KEYS``)
must name one that exists. What the kind itself checks (its ``check=`` at registration) runs later, once the
whole file is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.errors import did_you_mean
from harness.spec.fields import Fields, describe
from harness.spec.records import REFERENCE_KEYS, MeasureSpec


def parse_measure(f: Fields, tables: Mapping[str, Mapping[str, Any]]) -> MeasureSpec | None:
    """The claim's ``[claims.measure]`` table checked against its kind; None when the claim has none."""
    if "measure" not in f.table:
        return None
    from harness.spec.kinds import KINDS  # filled on first use: built-in kinds, entry points, conftest.py

    m = Fields(f.path, f.claim_id, f.table_of("measure"), "measure.")
    kind_name = m.choice("kind", sorted(KINDS))
    kind = KINDS[kind_name]
    params = {k: v for k, v in m.table.items() if k != "kind"}
    allowed = ("kind", *kind.required, *kind.optional)
    m.check_keys(allowed)
    for key in kind.required:
        if key not in params:
            raise m.error(key, f"the {key!r} key required by kind {kind_name!r}", "nothing", f"add `{key} = ...`")
    for key, table_name in REFERENCE_KEYS.items():
        if key in params:
            value = params[key]
            known = tables[table_name]
            if not isinstance(value, str) or value not in known:
                raise m.error(
                    key,
                    f"the name of a [{table_name}.<name>] table in this file ({', '.join(sorted(known)) or 'none'})",
                    describe(value),
                    f"define [{table_name}.{value}] or use an existing name."
                    + (did_you_mean(value, known) if isinstance(value, str) else ""),
                )
    return MeasureSpec(kind=kind_name, params=params)
