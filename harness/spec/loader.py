"""Loading and validating claims files into frozen value objects.

A claims file is data written by people, so every problem is reported as a ``ClaimError`` that names
the file, the claim, the field, what was expected, what was found and the fix. Problems are collected,
not raised: one bad record becomes one failing item and the valid records still run.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import ClaimError, did_you_mean
from harness.core.text import printable
from harness.spec.derived import check_dimensions, check_formulas, derive_values
from harness.spec.fields import Fields, describe
from harness.spec.formula import Formula, FormulaError
from harness.spec.identity import HEADER
from harness.spec.measure_table import parse_measure
from harness.spec.model_table import parse_model
from harness.spec.pins import DatasetSpec, parse_dataset, parse_hub_aliases
from harness.spec.readings import check_orderings, parse_alternatives, parse_inequalities, parse_synonyms
from harness.spec.records import (
    CLAIM_FIELDS,
    DERIVED_BY,
    ID_PATTERN,
    METRIC_FIELDS,
    METRICS,
    NAME_PATTERN,
    SCHEMA_VERSION,
    SOURCE_FIELDS,
    TOP_LEVEL,
    Claim,
    ClaimsFile,
    InvalidRecord,
    Metric,
    ModelSpec,
    Scalar,
    Source,
)
from harness.spec.references import guard_cycles
from harness.spec.references import resolve as resolve_references
from harness.spec.scale import parse_scale
from harness.spec.tolerances import parse_tolerance
from harness.spec.uncertainty import parse_uncertainty
from harness.spec.units import UNITS


def _parse_source(path: str, data: Mapping[str, Any]) -> Source:
    top = Fields(path, None, data)
    raw = top.table_of("source", required=True)
    f = Fields(path, None, raw, "source.")
    f.check_keys(SOURCE_FIELDS)
    key = f.string("key")
    if not NAME_PATTERN.fullmatch(key):
        raise f.error("key", "a short name of [a-z0-9_] starting with a letter", describe(key), "rename it")
    return Source(
        key=key,
        title=f.string("title"),
        reference=f.string("reference"),
        version=f.string("version"),
        authors=f.strings("authors"),
        url=f.string("url", required=False),
    )


def _parse_named_tables(path: str, data: Mapping[str, Any], field: str) -> dict[str, dict[str, Any]]:
    raw = Fields(path, None, data).table_of(field)
    out: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ClaimError(path, None, f"{field}.{name}", "a table", describe(table), f"write [{field}.{name}]")
        out[name] = table
    return out


def _parse_conditions(f: Fields) -> dict[str, Scalar]:
    raw = f.table_of("conditions")
    for key, value in raw.items():
        if not isinstance(value, (str, int, float, bool)):
            raise f.error(
                f"conditions.{key}",
                "a string, number or boolean",
                describe(value),
                "write each condition as one scalar value",
            )
    return dict(raw)


def _parse_claim(
    path: str,
    raw: Mapping[str, Any],
    source: Source,
    tables: Mapping[str, Mapping[str, Any]],
    index: int,
) -> Claim:
    claim_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    f = Fields(path, claim_id or f"[[claims]] #{index + 1}", raw)
    f.check_keys(CLAIM_FIELDS)
    cid = f.string("id")
    if not ID_PATTERN.fullmatch(cid):
        raise f.error(
            "id",
            "lowercase words of [a-z0-9_] joined by dots, e.g. 'params.base_model'",
            describe(cid),
            "rename the claim (ids are used in formulas and test names)",
        )
    unit = f.choice("unit", list(UNITS))
    formula = None
    if "formula" in raw:
        try:
            formula = Formula.parse(f.string("formula"))
        except FormulaError as exc:
            raise f.error(
                "formula", "an arithmetic formula over claim ids", f"{describe(raw['formula'])}: {exc}", "correct it"
            ) from None
        if cid in formula.names:
            raise f.error(
                "formula", "a formula over other claims", f"{cid!r} refers to itself", "remove the self-reference"
            )
        if not formula.names:  # a constant would "measure" the claim without measuring anything
            raise f.error(
                "formula", "a formula over at least one claim id", repr(formula.text), "name the claims it derives from"
            )
    inequalities = parse_inequalities(f, cid)
    if inequalities and (formula is not None or "measure" in raw or "value" in raw):
        raise f.error(
            "inequalities",
            "an ordering claim without value, formula or [claims.measure] (its sides name the claims it orders)",
            "inequalities together with " + ", ".join(k for k in ("value", "formula", "measure") if k in raw),
            "split it into an ordering claim and the claims it orders",
        )
    value = f.number("value", required=formula is None and not inequalities)
    precision = f.number("precision", required=value is not None, positive=True)
    if "measure" not in raw and formula is None and not inequalities:
        raise f.error(
            "measure",
            "a [claims.measure] table, a formula or inequalities",
            "none of them",
            "say how to measure it (kind = ...) or derive it from other claims with formula = ...",
        )
    conditions = _parse_conditions(f)
    comparable_on = f.strings("comparable_on")
    for key in comparable_on:
        if key not in conditions:
            raise f.error(
                "comparable_on",
                "keys of [claims.conditions]",
                repr(key),
                f"add `{key} = ...` to [claims.conditions] or remove it from comparable_on."
                + did_you_mean(key, conditions),
            )
    tolerance = parse_tolerance(f, value)
    if (tolerance.kind == "order") != bool(inequalities):
        raise f.error(
            "tolerance.kind",
            "'order' exactly for a claim with inequalities (its value is the margin a '>=' / '<=' allows)",
            repr(tolerance.kind),
            'use kind = "order" with inequalities, another kind otherwise',
        )
    stated = f.strings("stated")
    for name in stated:
        if not any(name in i.names for i in inequalities):
            raise f.error("stated", "ids used in this claim's inequalities", repr(name), "remove it or correct it")
    if tolerance.kind in ("precision", "relative_or_precision") and precision is None:  # no rounding to widen by
        raise f.error(
            "precision",
            f"the precision the value is stated to (tolerance kind {tolerance.kind!r})",
            "nothing",
            "add `precision = ...` or choose another tolerance kind",
        )
    metric = None
    if "metric" in raw:
        mf = Fields(path, cid, f.table_of("metric"), "metric.")
        mf.check_keys(METRIC_FIELDS)
        metric = Metric(
            name=mf.choice("name", METRICS),
            split=mf.string("split"),
            assumption=mf.string("assumption", required=False),
        )
    scale, budget = parse_scale(f, tolerance)
    return Claim(
        id=cid,
        quote=f.string("quote"),
        location=f.string("location"),
        version=f.string("version", required=False, default=source.version),
        value=math.nan if value is None else value,
        unit=unit,
        precision=precision if precision is not None else math.nan,
        tolerance=tolerance,
        path=path,
        source=source,
        value_is_derived=value is None,
        formula=formula,
        comparable_on=comparable_on,
        conditions=conditions,
        metric=metric,
        measure=parse_measure(f, tables),
        note=f.string("note", required=False),
        paper_value=f.number("paper_value", required=False),
        alternatives=parse_alternatives(f),
        derived_by=f.choice("derived_by", DERIVED_BY) if "derived_by" in raw else "paper",
        inequalities=inequalities,
        stated=stated,
        headline=f.boolean("headline"),
        scale=scale,
        budget=budget,
    )


def _check_kind(claim: Claim, declared: ClaimsFile, errors: dict[str, ClaimError]) -> None:
    """The kind's own load-time check of the claim (``Kind.check``); what it refuses fails the claim."""
    from harness.spec.kinds import KINDS

    if claim.measure is None or (check := KINDS[claim.measure.kind].check) is None:
        return
    try:
        check(claim, declared)
    except ClaimError as exc:
        errors[claim.id] = exc
    except Exception as exc:  # noqa: BLE001 - a plug-in's check that crashes must not stop collection
        errors[claim.id] = ClaimError(
            claim.path,
            claim.id,
            "measure.kind",
            f"a claim the {claim.measure.kind!r} kind's load check accepts",
            f"its check crashed: {type(exc).__name__}: {exc}",
            "fix the claim or report the kind's bug to its author",
        )


@guard_cycles
def load(path: str | Path) -> ClaimsFile:
    """Load and validate one claims file; problems are returned in ``invalid``, never raised."""
    p = Path(path)
    shown = str(path)
    empty = ClaimsFile(shown, None, {}, {}, {}, (), ())

    def file_error(expected: str, found: str, fix: str, field: str | None = None) -> ClaimsFile:
        return attrs.evolve(
            empty, invalid=(InvalidRecord("<file>", ClaimError(shown, None, field, expected, found, fix)),)
        )

    try:
        data = tomllib.loads(p.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        return file_error("UTF-8 text", f"a byte that is not UTF-8 at offset {exc.start}", "save the file as UTF-8")
    except tomllib.TOMLDecodeError as exc:
        return file_error("valid TOML", f"a syntax error: {exc}", "correct the TOML syntax at that line")
    except RecursionError:
        return file_error(
            "valid TOML of a sensible size",
            "arrays or tables nested too deeply to read",
            "write the values as the source states them",
        )
    except ValueError as exc:  # an integer of thousands of digits: Python's limit on reading one
        return file_error(
            "valid TOML of a sensible size",
            f"a value that cannot be read ({str(exc).split(';')[0]})",
            "write the number as the source states it",
        )
    except OSError as exc:
        return file_error(
            "a readable file", f"{type(exc).__name__}: {exc.strerror or exc}", "check the path and its permissions"
        )
    if not data:
        return file_error("a claims file with [source] and [[claims]]", "an empty file", "see docs/claims-format.md")
    invalid: list[InvalidRecord] = []
    try:
        top = Fields(shown, None, data)
        top.check_keys(TOP_LEVEL)
        if "schema_version" not in data:  # the key that identifies a claims file (harness.spec.identity)
            raise top.error(
                "schema_version",
                f"a claims file's header: {HEADER}",
                "no schema_version",
                f"add `schema_version = {SCHEMA_VERSION}` as the first line (if this is not a claims file, "
                "move it out of the claims directory, or set the `claims_dirs` ini option)",
            )
        version = data["schema_version"]
        if type(version) is not int or version != SCHEMA_VERSION:  # not True, not 1.0
            raise top.error(
                "schema_version", f"{SCHEMA_VERSION}", describe(version), f"write schema_version = {SCHEMA_VERSION}"
            )
        source = _parse_source(shown, data)
        raw_models = top.table_of("models")
        raw_datasets = top.table_of("datasets")
        workloads = _parse_named_tables(shown, data, "workloads")
        recipes = _parse_named_tables(shown, data, "recipes")
        synonyms = parse_synonyms(shown, data)
        hub_aliases = parse_hub_aliases(shown, data)
        seed_sd = parse_uncertainty(shown, data)
        raw_claims = data.get("claims")
        if not isinstance(raw_claims, list) or not raw_claims:
            raise top.error(
                "claims",
                "one or more [[claims]] records",
                "nothing" if raw_claims is None else describe(raw_claims),
                "add [[claims]] records (see docs/claims-format.md)",
            )
    except ClaimError as exc:
        return attrs.evolve(empty, invalid=(InvalidRecord("<file>", exc),))

    models: dict[str, ModelSpec] = {}
    for name, raw in raw_models.items():
        try:
            models[name] = parse_model(shown, name, raw)
        except ClaimError as exc:
            invalid.append(InvalidRecord(f"<models.{printable(name, one_line=True)}>", exc))
    datasets: dict[str, DatasetSpec] = {}
    for name, raw in raw_datasets.items():
        try:
            datasets[name] = parse_dataset(shown, name, raw)
        except ClaimError as exc:
            invalid.append(InvalidRecord(f"<datasets.{name}>", exc))
    # a broken model keeps its name, so that the claims using it say "invalid", not "unknown"
    tables = {"models": {**raw_models}, "workloads": workloads, "recipes": recipes}

    claims: dict[str, Claim] = {}
    errors: dict[str, ClaimError] = {}
    for index, raw in enumerate(raw_claims):
        fallback = f"record{index + 1}"
        if not isinstance(raw, dict):
            errors[fallback] = ClaimError(
                shown, None, f"claims[{index}]", "a [[claims]] table", describe(raw), "write it as [[claims]]"
            )
            continue
        try:
            claim = _parse_claim(shown, raw, source, tables, index)
        except ClaimError as exc:
            rid = raw.get("id")
            shown_id = (
                printable(rid, one_line=True) if isinstance(rid, str) else None
            )  # it names a test item: no control characters
            key = shown_id if shown_id and shown_id not in errors and shown_id not in claims else fallback
            errors[key] = exc
            continue
        if claim.id in claims or claim.id in errors:
            errors[f"{claim.id}#{index + 1}"] = ClaimError(
                shown, claim.id, "id", "an id used once in the file", "a duplicate id", "give each claim its own id"
            )
            continue
        used = [(k, claim.measure.params.get(k)) for k in ("model", "baseline")] if claim.measure else []
        key, model = next(((k, m) for k, m in used if isinstance(m, str) and m not in models), ("model", None))
        if model is not None:
            errors[claim.id] = ClaimError(
                shown,
                claim.id,
                f"measure.{key}",
                "a valid model",
                f"[models.{model}], which is invalid",
                f"fix [models.{model}] (see its own error)",
            )
            continue
        claims[claim.id] = claim
    declared = ClaimsFile(shown, source, models, workloads, recipes, (), ())
    for claim in claims.values():
        _check_kind(claim, declared, errors)
    referenced, referenced_files = resolve_references(shown, claims, errors, load)
    claims.update(referenced)  # stated components of the checks below; not claims of this file
    check_dimensions(shown, claims, errors)  # first: check_formulas fails the claims built on a failed one
    check_formulas(shown, claims, errors)
    valid = {cid: c for cid, c in claims.items() if cid not in errors}
    derive_values(shown, valid, errors)
    valid = {cid: c for cid, c in valid.items() if cid not in errors}
    check_orderings(shown, valid, errors)
    valid = {cid: c for cid, c in valid.items() if cid not in errors and cid not in referenced}
    invalid.extend(InvalidRecord(name, err) for name, err in errors.items())
    return ClaimsFile(
        path=shown,
        source=source,
        models=models,
        workloads=workloads,
        recipes=recipes,
        claims=tuple(valid.values()),
        invalid=tuple(invalid),
        synonyms=synonyms,
        hub_aliases=hub_aliases,
        datasets=datasets,
        seed_sd=seed_sd,
        references=referenced,
        referenced_files=referenced_files,
    )
