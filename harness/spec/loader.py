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
from harness.spec.derived import check_formulas, derive_values
from harness.spec.fields import Fields, describe
from harness.spec.formula import Formula, FormulaError
from harness.spec.records import (
    CLAIM_FIELDS,
    ID_PATTERN,
    METRIC_FIELDS,
    METRICS,
    MODEL_FIELDS,
    NAME_PATTERN,
    REFERENCE_KEYS,
    SCHEMA_VERSION,
    SOURCE_FIELDS,
    TOLERANCE_FIELDS,
    TOLERANCE_KINDS,
    TOP_LEVEL,
    Claim,
    ClaimsFile,
    InvalidRecord,
    MeasureSpec,
    Metric,
    ModelSpec,
    Scalar,
    Source,
    Tolerance,
)
from harness.spec.units import UNITS


def _parse_source(path: str, data: Mapping[str, Any]) -> Source:
    top = Fields(path, None, data)
    raw = top.table_of("source", required=True)
    f = Fields(path, None, raw, "source.")
    f.check_keys(SOURCE_FIELDS)
    key = f.string("key")
    if not NAME_PATTERN.match(key):
        raise f.error("key", "a short name of [a-z0-9_] starting with a letter", describe(key), "rename it")
    return Source(
        key=key,
        title=f.string("title"),
        reference=f.string("reference"),
        version=f.string("version"),
        authors=f.strings("authors"),
        url=f.string("url", required=False),
    )


def _parse_model(path: str, name: str, raw: Any) -> ModelSpec:
    where = Fields(path, None, {name: raw}, "models.")
    if not NAME_PATTERN.match(name):
        raise where.error(name, "a model name of [a-z0-9_] starting with a letter", repr(name), "rename it")
    if not isinstance(raw, dict):
        raise where.error(name, "a table", describe(raw), f"write it as [models.{name}]")
    f = Fields(path, None, raw, f"models.{name}.")
    f.check_keys(MODEL_FIELDS)
    config = f.table_of("config", required=True)
    released = raw.get("released", "hub_id" in raw)
    if not isinstance(released, bool):
        raise f.error("released", "true or false", describe(released), "write released = false (or remove it)")
    if released and "hub_id" not in raw:
        raise f.error(
            "hub_id",
            "the checkpoint's hub id of a released model",
            "released = true without a hub_id",
            'add `hub_id = "..."`, or write released = false for a model whose weights were never published',
        )
    builder = f.string("builder", required=False, default="transformers")
    if builder == "transformers" and not isinstance(config.get("model_type"), str):
        raise f.error(
            "config.model_type",
            "the transformers model_type of the architecture (a string)",
            describe(config.get("model_type")) if "model_type" in config else "nothing",
            'add `model_type = "..."` to the config table, as in the checkpoint\'s config.json',
        )
    finetuned = f.table_of("finetuned")
    for task, hub_id in finetuned.items():
        if not isinstance(hub_id, str):
            raise f.error(f"finetuned.{task}", "a checkpoint id (a string)", describe(hub_id), "quote it")
    return ModelSpec(
        name=name,
        hub_id=f.string("hub_id") if "hub_id" in raw else None,
        auto_class=f.string("auto_class", required=False, default="AutoModel"),
        config_source=f.string("config_source"),
        config=dict(config),
        finetuned=dict(finetuned),
        builder=builder,
        released=released,
    )


def _parse_named_tables(path: str, data: Mapping[str, Any], field: str) -> dict[str, dict[str, Any]]:
    raw = Fields(path, None, data).table_of(field)
    out: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ClaimError(path, None, f"{field}.{name}", "a table", describe(table), f"write [{field}.{name}]")
        out[name] = table
    return out


def _parse_tolerance(f: Fields) -> Tolerance:
    t = Fields(f.path, f.claim_id, f.table_of("tolerance", required=True), "tolerance.")
    t.check_keys(TOLERANCE_FIELDS)
    kind = t.choice("kind", TOLERANCE_KINDS)
    if kind == "precision":
        if "value" in t.table:
            raise t.error("value", "no value (the band is ± precision/2)", describe(t.table["value"]), "remove it")
        width = 0.0
    elif kind in ("lower_bound", "upper_bound"):
        width = t.number("value", required=False) or 0.0
    else:
        width = t.number("value")  # type: ignore[assignment]
    if width < 0:
        raise t.error("value", "a width >= 0", describe(t.table["value"]), "use a non-negative width")
    if kind in ("relative", "relative_or_precision") and width >= 1:
        raise t.error("value", "a fraction below 1 (0.05 = 5%)", describe(t.table["value"]), "write 5% as 0.05")
    return Tolerance(kind=kind, value=width, rationale=t.string("rationale"))


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


def _parse_measure(f: Fields, tables: Mapping[str, Mapping[str, Any]]) -> MeasureSpec | None:
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
    if not ID_PATTERN.match(cid):
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
    value = f.number("value", required=formula is None)
    precision = f.number("precision", required=value is not None, positive=True)
    if "measure" not in raw and formula is None:
        raise f.error(
            "measure",
            "a [claims.measure] table or a formula",
            "neither",
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
    tolerance = _parse_tolerance(f)
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
        measure=_parse_measure(f, tables),
        note=f.string("note", required=False),
    )


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
        version = data.get("schema_version", SCHEMA_VERSION)
        if type(version) is not int or version != SCHEMA_VERSION:  # not True, not 1.0
            raise top.error(
                "schema_version", f"{SCHEMA_VERSION}", describe(version), f"write schema_version = {SCHEMA_VERSION}"
            )
        source = _parse_source(shown, data)
        raw_models = top.table_of("models")
        workloads = _parse_named_tables(shown, data, "workloads")
        recipes = _parse_named_tables(shown, data, "recipes")
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
            models[name] = _parse_model(shown, name, raw)
        except ClaimError as exc:
            invalid.append(InvalidRecord(f"<models.{name}>", exc))
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
            key = rid if isinstance(rid, str) and rid not in errors and rid not in claims else fallback
            errors[key] = exc
            continue
        if claim.id in claims or claim.id in errors:
            errors[f"{claim.id}#{index + 1}"] = ClaimError(
                shown, claim.id, "id", "an id used once in the file", "a duplicate id", "give each claim its own id"
            )
            continue
        model = claim.measure.params.get("model") if claim.measure else None
        if isinstance(model, str) and model not in models:
            errors[claim.id] = ClaimError(
                shown,
                claim.id,
                "measure.model",
                "a valid model",
                f"[models.{model}], which is invalid",
                f"fix [models.{model}] (see its own error)",
            )
            continue
        claims[claim.id] = claim
    check_formulas(shown, claims, errors)
    valid = {cid: c for cid, c in claims.items() if cid not in errors}
    derive_values(shown, valid, errors)
    valid = {cid: c for cid, c in valid.items() if cid not in errors}
    invalid.extend(InvalidRecord(name, err) for name, err in errors.items())
    return ClaimsFile(
        path=shown,
        source=source,
        models=models,
        workloads=workloads,
        recipes=recipes,
        claims=tuple(valid.values()),
        invalid=tuple(invalid),
    )
