"""How a claim is read, beyond its value and band: alternatives, orderings and condition synonyms.

``alternatives`` are other values the source may have meant (a likely typo); ``inequalities`` make an ordering
claim; ``[synonyms.<condition>]`` lists the measured values accepted for a claimed condition (exact matching
after normalisation, ``harness.verdict.conditions``). Parsed here so that ``harness.spec.loader`` stays one
concept: reading records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.errors import ClaimError, did_you_mean
from harness.spec.fields import Fields, describe
from harness.spec.formula import FormulaError
from harness.spec.inequality import Inequality
from harness.spec.records import ALTERNATIVE_FIELDS, Alternative, Claim


def parse_inequalities(f: Fields, cid: str) -> tuple[Inequality, ...]:
    out = []
    for text in f.strings("inequalities"):
        try:
            inequality = Inequality.parse(text)
        except FormulaError as exc:
            raise f.error(
                "inequalities", "inequalities `<formula> <relation> <formula>`", str(exc), "correct it"
            ) from None
        if cid in inequality.names:
            raise f.error("inequalities", "inequalities over other claims", f"{cid!r} refers to itself", "remove it")
        out.append(inequality)
    return tuple(out)


def parse_alternatives(f: Fields) -> tuple[Alternative, ...]:
    raw = f.table.get("alternatives", [])
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise f.error(
            "alternatives", "an array of tables {value, source}", describe(raw), "write [[claims.alternatives]]"
        )
    out = []
    for index, table in enumerate(raw):
        a = Fields(f.path, f.claim_id, table, f"alternatives[{index}].")
        a.check_keys(ALTERNATIVE_FIELDS)
        out.append(Alternative(value=a.number("value"), source=a.string("source")))  # type: ignore[arg-type]
    return tuple(out)


def parse_synonyms(path: str, data: Mapping[str, Any]) -> dict[str, dict[str, tuple[str, ...]]]:
    raw = Fields(path, None, data).table_of("synonyms")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for condition, table in raw.items():
        f = Fields(path, None, {condition: table}, "synonyms.")
        accepted = f.table_of(condition)
        out[condition] = {}
        for claimed in accepted:
            out[condition][claimed] = Fields(path, None, accepted, f"synonyms.{condition}.").strings(claimed)
    return out


def check_orderings(path: str, claims: dict[str, Claim], errors: dict[str, ClaimError]) -> None:
    """Every id an ordering claim names is a valid claim of this file (orderings are not components), and an
    ordering over reduced-scale claims is itself reduced-scale (its verdict rests on the reduced runs)."""
    for cid, claim in claims.items():
        reduced = [n for n in claim.references if n in claims and claims[n].scale == "reduced"]
        if claim.inequalities and reduced and claim.scale != "reduced":
            errors.setdefault(
                cid,
                ClaimError(
                    path,
                    cid,
                    "scale",
                    'scale = "reduced" (it orders reduced-scale claims)',
                    f"a paper-scale ordering over {', '.join(reduced)}",
                    'add scale = "reduced" and its budget, or order paper-scale claims',
                ),
            )
        for name in claim.references if claim.inequalities else ():
            if name not in claims or name in errors:
                found = f"the invalid id {name!r}" if name in errors else f"the unknown id {name!r}"
                errors.setdefault(
                    cid,
                    ClaimError(
                        path,
                        cid,
                        "inequalities",
                        "ids of valid claims in this file",
                        found,
                        "correct the id or fix that claim." + did_you_mean(name, claims),
                    ),
                )
