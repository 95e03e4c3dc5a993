"""Loading third-party evidence: a replication report, model card or blog post as ``replications/*.toml``.

A replication file records who reported what, on which hardware, with their own numbers (and how they
derived the derived ones) and their own quotes of the paper. ``harness audit`` judges it against a claims
file. The format is described in docs/replications-format.md. A replication file is small and written by
one person, so the first problem found is raised as a ``ReplicationError`` that says where and how to fix it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.core.errors import ClaimError, did_you_mean

# the records, named here too: importers say ``from harness.report.replications import Replication``
from harness.report.replication_records import PaperQuote, Replication, Report, ReportedNumber, Unchecked
from harness.spec import ID_PATTERN, NAME_PATTERN, Scalar
from harness.spec.fields import Fields, describe
from harness.spec.formula import Formula, FormulaError
from harness.spec.units import UNITS

SCHEMA_VERSION = 1
TOP_LEVEL = ("schema_version", "report", "numbers", "quotes", "unchecked")
REPORT_FIELDS = (
    "key",
    "title",
    "authors",
    "affiliation",
    "date",
    "date_note",
    "url",
    "document",
    "claims",
    "paper_version",
    "hardware",
    "note",
)
NUMBER_FIELDS = (
    "id",
    "value",
    "unit",
    "precision",
    "quote",
    "location",
    "claim",
    "formula",
    "conditions",
    "assumed",
    "note",
)
QUOTE_FIELDS = ("id", "quote", "location", "claim", "paper_formula", "value", "unit", "precision", "conditions", "note")
UNCHECKED_FIELDS = ("quote", "location", "reason")


class ReplicationError(ClaimError):
    """A replication file is malformed: the message names the file, record, field, what was expected and the fix."""

    noun = "record"


class _Table(Fields):
    """The claims loader's typed field access, raising ``ReplicationError`` instead of ``ClaimError``."""

    def error(self, field: str | None, expected: str, found: str, fix: str) -> ReplicationError:  # type: ignore[override]
        name = None if field is None else self.prefix + field
        return ReplicationError(self.path, self.claim_id, name, expected, found, fix)

    def conditions(self, field: str = "conditions") -> dict[str, Scalar]:
        raw = self.table_of(field)
        for key, value in raw.items():
            if not isinstance(value, (str, int, float, bool)):
                raise self.error(
                    f"{field}.{key}",
                    "a string, number or boolean",
                    describe(value),
                    "write each condition as one scalar value",
                )
        return dict(raw)

    def unit(self, field: str = "unit") -> str:
        return self.choice(field, list(UNITS))


def _formula(t: _Table, field: str) -> Formula | None:
    if field not in t.table:
        return None
    try:
        return Formula.parse(t.string(field))
    except FormulaError as exc:
        raise t.error(field, "an arithmetic formula over ids", f"{t.table[field]!r}: {exc}", "correct it") from None


def _record_id(t: _Table) -> str:
    rid = t.string("id")
    if not ID_PATTERN.fullmatch(rid):
        raise t.error(
            "id",
            "lowercase words of [a-z0-9_] joined by dots, e.g. 'params.base_model'",
            describe(rid),
            "rename it (ids are used in formulas)",
        )
    return rid


def _parse_report(path: str, data: Mapping[str, Any]) -> Report:
    t = _Table(path, None, _Table(path, None, data).table_of("report", required=True), "report.")
    t.check_keys(REPORT_FIELDS)
    key = t.string("key")
    if not NAME_PATTERN.fullmatch(key):
        raise t.error("key", "a short name of [a-z0-9_] starting with a letter", describe(key), "rename it")
    authors = t.strings("authors")
    if not authors:
        raise t.error("authors", "the report's authors (at least one name)", "nothing", 'add `authors = ["..."]`')
    date = t.string("date", required=False)
    date_note = t.string("date_note", required=False)
    if not date and not date_note:
        raise t.error(
            "date",
            "the report's date, or a date_note saying that it is undated and what is known",
            "neither",
            'add `date = "YYYY-MM-DD"` or `date_note = "undated; ..."`',
        )
    hardware = t.conditions("hardware")
    return Report(
        key=key,
        title=t.string("title"),
        authors=authors,
        claims=t.string("claims"),
        date=date,
        date_note=date_note,
        affiliation=t.string("affiliation", required=False),
        url=t.string("url", required=False),
        document=t.string("document", required=False),
        paper_version=t.string("paper_version", required=False),
        hardware=hardware,
        note=t.string("note", required=False),
    )


def _parse_number(path: str, raw: Mapping[str, Any], index: int, hardware: Mapping[str, Scalar]) -> ReportedNumber:
    rid = raw.get("id") if isinstance(raw.get("id"), str) else f"[[numbers]] #{index + 1}"
    t = _Table(path, rid, raw)
    t.check_keys(NUMBER_FIELDS)
    conditions = {**hardware, **t.conditions()}
    assumed = t.strings("assumed")
    for key in assumed:
        if key not in conditions:
            raise t.error(
                "assumed",
                "keys of [numbers.conditions] (or of [report.hardware])",
                repr(key),
                f"add `{key} = ...` to the conditions or remove it from assumed." + did_you_mean(key, conditions),
            )
    return ReportedNumber(
        id=_record_id(t),
        value=t.number("value"),  # type: ignore[arg-type]
        unit=t.unit(),
        precision=t.number("precision", positive=True),  # type: ignore[arg-type]
        quote=t.string("quote"),
        location=t.string("location"),
        claim=t.string("claim", required=False) or None,
        formula=_formula(t, "formula"),
        conditions=conditions,
        assumed=assumed,
        note=t.string("note", required=False),
    )


def _parse_quote(path: str, raw: Mapping[str, Any], index: int) -> PaperQuote:
    rid = raw.get("id") if isinstance(raw.get("id"), str) else f"[[quotes]] #{index + 1}"
    t = _Table(path, rid, raw)
    t.check_keys(QUOTE_FIELDS)
    claim = t.string("claim", required=False) or None
    formula = _formula(t, "paper_formula")
    if claim is None and formula is None:
        raise t.error(
            "claim",
            "the paper's claim id the quote is about (or a paper_formula over claim ids)",
            "neither",
            'add `claim = "<claim id>"` or `paper_formula = "..."`',
        )
    if claim is not None and formula is not None:
        raise t.error(
            "paper_formula",
            "either claim or paper_formula, not both",
            "both",
            "keep claim for a number the paper states, paper_formula for one derived from its numbers",
        )
    has_value = [k for k in ("value", "unit", "precision") if k in raw]
    if has_value and len(has_value) != 3:
        raise t.error(
            "value",
            "value, unit and precision together",
            f"only {', '.join(has_value)}",
            "give all three (precision: one unit in the last digit quoted)",
        )
    conditions = t.conditions()
    if not has_value and not conditions:
        raise t.error(
            "value",
            "a quoted value (value, unit, precision) or quoted [quotes.conditions]",
            "neither",
            "say what the report attributes to the paper",
        )
    if formula is not None and not has_value:
        raise t.error("value", "a quoted value for a paper_formula", "nothing", "add value, unit and precision")
    return PaperQuote(
        id=_record_id(t),
        quote=t.string("quote"),
        location=t.string("location"),
        claim=claim,
        paper_formula=formula,
        value=t.number("value", required=False),
        unit=t.unit() if has_value else None,
        precision=t.number("precision", required=False, positive=True),
        conditions=conditions,
        note=t.string("note", required=False),
    )


def _check_formulas(path: str, numbers: tuple[ReportedNumber, ...], items: Mapping[str, Any]) -> None:
    """Formulas of numbers refer to valued ids of this file, without cycles."""
    for number in numbers:
        for name in number.formula.names if number.formula else ():
            if name not in items:
                raise ReplicationError(
                    path,
                    number.id,
                    "formula",
                    "ids of numbers or quotes in this file",
                    f"the unknown id {name!r}",
                    "correct the id." + did_you_mean(name, items),
                )
            if getattr(items[name], "value", None) is None:
                raise ReplicationError(
                    path,
                    number.id,
                    "formula",
                    "ids of records with a value",
                    f"{name!r}, which has no value",
                    "give it value, unit and precision",
                )
    state: dict[str, int] = {}

    def visit(rid: str, trail: tuple[str, ...]) -> None:
        if state.get(rid) == 2:
            return
        if state.get(rid) == 1:
            cycle = " -> ".join((*trail[trail.index(rid) :], rid))
            raise ReplicationError(path, rid, "formula", "formulas without cycles", f"the cycle {cycle}", "break it")
        state[rid] = 1
        formula = getattr(items[rid], "formula", None)
        for name in formula.names if formula else ():
            visit(name, (*trail, rid))
        state[rid] = 2

    for number in numbers:
        visit(number.id, ())


def load(path: str | Path) -> Replication:
    """Load and validate a replication file; ``ReplicationError`` on the first problem."""
    shown = str(path)
    try:
        data = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ReplicationError(
            shown, None, None, "a readable file", f"{type(exc).__name__}: {exc.strerror or exc}", "check the path"
        ) from None
    except UnicodeDecodeError as exc:
        raise ReplicationError(
            shown, None, None, "UTF-8 text", f"a byte that is not UTF-8 at offset {exc.start}", "save the file as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ReplicationError(shown, None, None, "valid TOML", f"a syntax error: {exc}", "correct the TOML") from None
    except RecursionError:
        raise ReplicationError(shown, None, None, "a few levels of nesting", "deeper", "flatten the file") from None
    top = _Table(shown, None, data)
    top.check_keys(TOP_LEVEL)
    if data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise top.error(
            "schema_version",
            str(SCHEMA_VERSION),
            describe(data["schema_version"]),
            f"write schema_version = {SCHEMA_VERSION}",
        )
    report = _parse_report(shown, data)

    def records(name: str) -> list[Mapping[str, Any]]:
        raw = data.get(name, [])
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise top.error(name, f"[[{name}]] records", describe(raw), f"write each as a [[{name}]] table")
        return raw

    numbers = tuple(_parse_number(shown, r, i, report.hardware) for i, r in enumerate(records("numbers")))
    quotes = tuple(_parse_quote(shown, r, i) for i, r in enumerate(records("quotes")))
    if not numbers and not quotes:
        raise top.error("numbers", "[[numbers]] or [[quotes]] records", "neither", "see docs/replications-format.md")
    items: dict[str, ReportedNumber | PaperQuote] = {}
    everything: tuple[ReportedNumber | PaperQuote, ...] = (*numbers, *quotes)
    for item in everything:
        if item.id in items:
            raise ReplicationError(
                shown,
                item.id,
                "id",
                "an id used once in the file",
                "a duplicate id",
                "give each number and quote its own id",
            )
        items[item.id] = item
    _check_formulas(shown, numbers, items)
    unchecked = []
    for i, raw in enumerate(records("unchecked")):
        t = _Table(shown, f"[[unchecked]] #{i + 1}", raw)
        t.check_keys(UNCHECKED_FIELDS)
        unchecked.append(Unchecked(t.string("quote"), t.string("reason"), t.string("location", required=False)))
    return Replication(shown, report, numbers, quotes, tuple(unchecked))
