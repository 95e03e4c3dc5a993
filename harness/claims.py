"""Loading and validating claims files into frozen value objects.

A claims file is data written by people, so every problem is reported as a ``ClaimError`` that names
the file, the claim, the field, what was expected, what was found and the fix. Problems are collected,
not raised: one bad record becomes one failing item and the valid records still run.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from harness.errors import ClaimError, did_you_mean
from harness.formula import Formula, FormulaError
from harness.units import UNITS, from_base, to_base

SCHEMA_VERSION = 1
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TOLERANCE_KINDS = ("absolute", "relative", "precision", "lower_bound", "upper_bound")
METRICS = (
    "accuracy",
    "f1",
    "matthews_correlation",
    "pearson",
    "spearman",
    "acc_and_f1",
    "pearson_spearman_mean",
    "exact_match",
    "squad_f1",
)
TOP_LEVEL = ("schema_version", "source", "models", "workloads", "recipes", "claims")
SOURCE_FIELDS = ("key", "title", "authors", "reference", "version", "url", "date")
MODEL_FIELDS = ("hub_id", "auto_class", "config_source", "config", "finetuned", "note")
CLAIM_FIELDS = (
    "id",
    "quote",
    "location",
    "version",
    "value",
    "unit",
    "precision",
    "formula",
    "comparable_on",
    "note",
    "metric",
    "conditions",
    "tolerance",
    "measure",
)
METRIC_FIELDS = ("name", "split", "assumption")
TOLERANCE_FIELDS = ("kind", "value", "rationale")
#: measure keys whose value names a file-level table entry
REFERENCE_KEYS = {"model": "models", "workload": "workloads", "recipe": "recipes"}
#: the longest chain of formulas over formulas (deriving and measuring a claim recurse along it)
MAX_FORMULA_CHAIN = 50

Scalar = str | int | float | bool


@attrs.frozen
class Source:
    """The paper (or report) the claims are quoted from."""

    key: str
    title: str
    reference: str
    version: str
    authors: tuple[str, ...] = ()
    url: str = ""


@attrs.frozen
class ModelSpec:
    """A model measurements refer to: where its checkpoint is found, and its configuration as a fallback."""

    name: str
    hub_id: str
    auto_class: str
    config_source: str
    config: Mapping[str, Any]
    finetuned: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Tolerance:
    """The band around a claimed value inside which a measurement reproduces it (fixed before any run)."""

    kind: str
    value: float
    rationale: str


@attrs.frozen
class Metric:
    """Which metric a task score is, on which split, and the assumption made where the source is silent."""

    name: str
    split: str
    assumption: str = ""


@attrs.frozen
class MeasureSpec:
    """How the harness measures a claim: a registered kind and its kind-specific parameters."""

    kind: str
    params: Mapping[str, Any]


@attrs.frozen
class Claim:
    """One quantitative claim: the stated number, its provenance, conditions and tolerance."""

    id: str
    quote: str
    location: str
    version: str
    value: float
    unit: str
    precision: float
    tolerance: Tolerance
    path: str
    source: Source
    value_is_derived: bool = False
    formula: Formula | None = None
    comparable_on: tuple[str, ...] = ()
    conditions: Mapping[str, Scalar] = attrs.field(factory=dict)
    metric: Metric | None = None
    measure: MeasureSpec | None = None
    note: str = ""

    @property
    def provenance(self) -> str:
        """One line: the source, its version and where in it the claim is."""
        return f'{self.source.reference} {self.version}, {self.location}: "{self.quote}"'


@attrs.frozen
class InvalidRecord:
    """A record (or a whole file) that could not be loaded; it becomes one failing test item."""

    name: str
    error: ClaimError


@attrs.frozen
class ClaimsFile:
    """A loaded claims file: its valid claims, and the problems found in it."""

    path: str
    source: Source | None
    models: Mapping[str, ModelSpec]
    workloads: Mapping[str, Mapping[str, Any]]
    recipes: Mapping[str, Mapping[str, Any]]
    claims: tuple[Claim, ...]
    invalid: tuple[InvalidRecord, ...]

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)


def _describe(value: Any) -> str:
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


class _Fields:
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
            raise self.error(field, "a non-empty string", _describe(value), f'write `{field} = "..."`')
        return value

    def number(self, field: str, *, required: bool = True, positive: bool = False) -> float | None:
        if field not in self.table:
            if required:
                raise self.error(field, "a number", "nothing", f"add `{field} = <number>`")
            return None
        value = self.table[field]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(
                field, "a number", _describe(value), f"write the number without quotes, e.g. `{field} = 1.5`"
            )
        if abs(value) > 1e300 or not math.isfinite(value):  # abs first: a huge int overflows isfinite
            raise self.error(field, "a finite number", _describe(value), "write the number the source states")
        if positive and value <= 0:
            raise self.error(field, "a number > 0", _describe(value), "use a positive number")
        return float(value)

    def strings(self, field: str) -> tuple[str, ...]:
        value = self.table.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "an array of strings", _describe(value), f'write `{field} = ["...", ...]`')
        return tuple(value)

    def table_of(self, field: str, *, required: bool = False) -> dict[str, Any]:
        if field not in self.table:
            if required:
                raise self.error(field, "a table", "nothing", f"add a [{self.prefix}{field}] table")
            return {}
        value = self.table[field]
        if not isinstance(value, dict):
            raise self.error(field, "a table", _describe(value), f"write it as a [{self.prefix}{field}] table")
        return value

    def choice(self, field: str, choices: tuple[str, ...] | list[str]) -> str:
        value = self.string(field)
        if value not in choices:
            raise self.error(
                field,
                "one of " + ", ".join(repr(c) for c in choices),
                _describe(value),
                "use one of those." + did_you_mean(value, choices),
            )
        return value


def _parse_source(path: str, data: Mapping[str, Any]) -> Source:
    top = _Fields(path, None, data)
    raw = top.table_of("source", required=True)
    f = _Fields(path, None, raw, "source.")
    f.check_keys(SOURCE_FIELDS)
    key = f.string("key")
    if not NAME_PATTERN.match(key):
        raise f.error("key", "a short name of [a-z0-9_] starting with a letter", _describe(key), "rename it")
    return Source(
        key=key,
        title=f.string("title"),
        reference=f.string("reference"),
        version=f.string("version"),
        authors=f.strings("authors"),
        url=f.string("url", required=False),
    )


def _parse_model(path: str, name: str, raw: Any) -> ModelSpec:
    where = _Fields(path, None, {name: raw}, "models.")
    if not NAME_PATTERN.match(name):
        raise where.error(name, "a model name of [a-z0-9_] starting with a letter", repr(name), "rename it")
    if not isinstance(raw, dict):
        raise where.error(name, "a table", _describe(raw), f"write it as [models.{name}]")
    f = _Fields(path, None, raw, f"models.{name}.")
    f.check_keys(MODEL_FIELDS)
    config = f.table_of("config", required=True)
    if not isinstance(config.get("model_type"), str):
        raise f.error(
            "config.model_type",
            "the transformers model_type of the architecture (a string)",
            _describe(config.get("model_type")) if "model_type" in config else "nothing",
            'add `model_type = "..."` to the config table, as in the checkpoint\'s config.json',
        )
    finetuned = f.table_of("finetuned")
    for task, hub_id in finetuned.items():
        if not isinstance(hub_id, str):
            raise f.error(f"finetuned.{task}", "a checkpoint id (a string)", _describe(hub_id), "quote it")
    return ModelSpec(
        name=name,
        hub_id=f.string("hub_id"),
        auto_class=f.string("auto_class", required=False, default="AutoModel"),
        config_source=f.string("config_source"),
        config=dict(config),
        finetuned=dict(finetuned),
    )


def _parse_named_tables(path: str, data: Mapping[str, Any], field: str) -> dict[str, dict[str, Any]]:
    raw = _Fields(path, None, data).table_of(field)
    out: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ClaimError(path, None, f"{field}.{name}", "a table", _describe(table), f"write [{field}.{name}]")
        out[name] = table
    return out


def _parse_tolerance(f: _Fields) -> Tolerance:
    t = _Fields(f.path, f.claim_id, f.table_of("tolerance", required=True), "tolerance.")
    t.check_keys(TOLERANCE_FIELDS)
    kind = t.choice("kind", TOLERANCE_KINDS)
    if kind == "precision":
        if "value" in t.table:
            raise t.error("value", "no value (the band is ± precision/2)", _describe(t.table["value"]), "remove it")
        width = 0.0
    elif kind in ("lower_bound", "upper_bound"):
        width = t.number("value", required=False) or 0.0
    else:
        width = t.number("value")  # type: ignore[assignment]
    if width < 0:
        raise t.error("value", "a width >= 0", _describe(t.table["value"]), "use a non-negative width")
    if kind == "relative" and width >= 1:
        raise t.error("value", "a fraction below 1 (0.05 = 5%)", _describe(t.table["value"]), "write 5% as 0.05")
    return Tolerance(kind=kind, value=width, rationale=t.string("rationale"))


def _parse_conditions(f: _Fields) -> dict[str, Scalar]:
    raw = f.table_of("conditions")
    for key, value in raw.items():
        if not isinstance(value, (str, int, float, bool)):
            raise f.error(
                f"conditions.{key}",
                "a string, number or boolean",
                _describe(value),
                "write each condition as one scalar value",
            )
    return dict(raw)


def _parse_measure(f: _Fields, tables: Mapping[str, Mapping[str, Any]]) -> MeasureSpec | None:
    if "measure" not in f.table:
        return None
    from harness.measures import KINDS  # the registry imports nothing heavy

    m = _Fields(f.path, f.claim_id, f.table_of("measure"), "measure.")
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
                    _describe(value),
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
    f = _Fields(path, claim_id or f"[[claims]] #{index + 1}", raw)
    f.check_keys(CLAIM_FIELDS)
    cid = f.string("id")
    if not ID_PATTERN.match(cid):
        raise f.error(
            "id",
            "lowercase words of [a-z0-9_] joined by dots, e.g. 'params.base_model'",
            _describe(cid),
            "rename the claim (ids are used in formulas and test names)",
        )
    unit = f.choice("unit", list(UNITS))
    formula = None
    if "formula" in raw:
        try:
            formula = Formula.parse(f.string("formula"))
        except FormulaError as exc:
            raise f.error(
                "formula", "an arithmetic formula over claim ids", f"{_describe(raw['formula'])}: {exc}", "correct it"
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
    if tolerance.kind == "precision" and precision is None:  # the band would have zero width
        raise f.error(
            "precision",
            "the precision the value is stated to (tolerance kind 'precision')",
            "nothing",
            "add `precision = ...` or choose another tolerance kind",
        )
    metric = None
    if "metric" in raw:
        mf = _Fields(path, cid, f.table_of("metric"), "metric.")
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


def _check_formulas(path: str, claims: dict[str, Claim], errors: dict[str, ClaimError]) -> None:
    """Unknown ids, cycles and over-long chains in formulas; a claim whose component is broken is broken
    too. Depth first with an explicit stack, so that no file can exhaust Python's recursion limit here, and
    chains are bounded so that deriving and measuring (which recurse along them) cannot either."""
    depth: dict[str, int] = {}  # finished claims: the longest chain of formulas below them (0: measured)

    def names(cid: str) -> tuple[str, ...]:
        formula = claims[cid].formula
        return formula.names if formula else ()

    def fail(cid: str, expected: str, found: str, fix: str) -> None:
        errors.setdefault(cid, ClaimError(path, cid, "formula", expected, found, fix))

    for root in claims:
        if root in depth or root in errors:
            continue
        stack = [(root, iter(names(root)))]
        on_stack = {root}
        while stack:
            cid, pending = stack[-1]
            name = next(pending, None) if cid not in errors else None
            if name is None:  # cid's components are all checked
                stack.pop()
                on_stack.discard(cid)
                broken = [n for n in names(cid) if n in errors]
                if broken:
                    fail(
                        cid,
                        "components that load",
                        f"the component {broken[0]!r} is invalid",
                        f"fix {broken[0]!r} first (see its own error)",
                    )
                if cid in errors:
                    continue
                depth[cid] = 1 + max(depth[n] for n in names(cid)) if names(cid) else 0
                if depth[cid] > MAX_FORMULA_CHAIN:
                    fail(
                        cid,
                        f"chains of formulas at most {MAX_FORMULA_CHAIN} claims deep",
                        f"a chain {depth[cid]} claims deep",
                        "derive it from fewer intermediate claims",
                    )
            elif name in on_stack:
                members = [c for c, _ in stack][[c for c, _ in stack].index(name) :]
                cycle = " -> ".join([*members, name])
                for member in members:
                    errors[member] = ClaimError(
                        path, member, "formula", "formulas without cycles", f"the cycle {cycle}", "break the cycle"
                    )
            elif name not in claims and name not in errors:
                fail(
                    cid,
                    "ids of claims in this file",
                    f"the unknown id {name!r}",
                    "correct the id or add that claim." + did_you_mean(name, claims),
                )
            elif name not in depth and name not in errors:
                stack.append((name, iter(names(name))))
                on_stack.add(name)


def _derive_values(path: str, claims: dict[str, Claim], errors: dict[str, ClaimError]) -> None:
    """Fill in the claimed value of claims that state only a formula, from the stated components. A formula
    that gives no finite number over the stated values (a division by zero, an overflow) is an error."""
    done: set[str] = set()

    def value_of(cid: str) -> float:
        claim = claims[cid]
        if claim.formula is None or cid in done:
            return claim.value
        done.add(cid)
        base = {n: to_base(value_of(n), claims[n].unit) for n in claim.formula.names}
        broken = [n for n in claim.formula.names if n in errors]
        try:
            value = from_base(float(claim.formula.evaluate(base)), claim.unit)
        except ZeroDivisionError:
            value = math.nan
        if broken:
            errors[cid] = ClaimError(
                path,
                cid,
                "formula",
                "components that load",
                f"the component {broken[0]!r} is invalid",
                f"fix {broken[0]!r} first (see its own error)",
            )
        elif not math.isfinite(value):
            errors[cid] = ClaimError(
                path,
                cid,
                "formula",
                "a finite number over the source's stated values",
                f"{value} (a division by zero or an overflow)",
                "correct the formula or the components' values",
            )
        elif claim.value_is_derived:
            precision = 0.0 if math.isnan(claim.precision) else claim.precision
            claims[cid] = attrs.evolve(claim, value=value, precision=precision)
        return claims[cid].value

    for cid in list(claims):
        value_of(cid)


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
        top = _Fields(shown, None, data)
        top.check_keys(TOP_LEVEL)
        version = data.get("schema_version", SCHEMA_VERSION)
        if type(version) is not int or version != SCHEMA_VERSION:  # not True, not 1.0
            raise top.error(
                "schema_version", f"{SCHEMA_VERSION}", _describe(version), f"write schema_version = {SCHEMA_VERSION}"
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
                "nothing" if raw_claims is None else _describe(raw_claims),
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
                shown, None, f"claims[{index}]", "a [[claims]] table", _describe(raw), "write it as [[claims]]"
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
    _check_formulas(shown, claims, errors)
    valid = {cid: c for cid, c in claims.items() if cid not in errors}
    _derive_values(shown, valid, errors)
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
