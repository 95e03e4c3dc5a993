"""Bad claims files: every malformed file or record gives the harness's own ClaimError, never a traceback.

Each case is a claims file with two valid claims and one broken record (or a whole broken file). At the
loader level the broken record is in ``invalid`` with a message naming the file, the claim and the field,
and the valid claims still load; end to end (pytester) the broken record is one failed item whose report
has that message and no "Traceback", and the valid claims pass. Hypothesis adds generated records,
formulas and bytes. The figure to quote is MALFORMED_COUNT (printed by the catalogue test).
"""

from __future__ import annotations

import copy
import datetime
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import tomli_w
from claimsfile import HEADER, TINY_PARAMETERS, claim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.errors import ClaimError
from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Options
from harness.spec import CLAIM_FIELDS, load
from harness.verdict import check_consistency

pytestmark = pytest.mark.fast

Record = dict[str, Any]
File = dict[str, Any]

# ---------------------------------------------------------------- the valid file every case breaks

TOLERANCE = {"kind": "relative", "value": 0.01, "rationale": "an exact count: 1% covers nothing but typos"}
GOOD_IDS = ("good.params", "good.bytes")
GOOD = (
    claim(
        "good.params",
        value=TINY_PARAMETERS,
        unit="parameters",
        precision=1,
        tolerance=TOLERANCE,
        measure={"kind": "parameter_count", "model": "tiny"},
    ),
    # measured by its formula: the parameter count above, 4 bytes each
    claim("good.bytes", value=None, unit="bytes", formula="good.params * 4", tolerance=TOLERANCE, measure=None),
)
BAD = claim(
    "bad.one",
    value=TINY_PARAMETERS,
    unit="parameters",
    precision=1,
    tolerance=TOLERANCE,
    measure={"kind": "parameter_count", "model": "tiny"},
)
SPARE_MODEL = copy.deepcopy(HEADER["models"]["tiny"])


def valid_file() -> File:
    return {**copy.deepcopy(HEADER), "claims": [copy.deepcopy(r) for r in (*GOOD, BAD)]}


# ---------------------------------------------------------------- the cases


@attrs.frozen
class Case:
    """One malformed file: its bytes, and the error it must give.

    ``claim_id`` and ``field`` are those of the expected error (``claim_id`` None: a file-level error);
    ``errors`` is how many records the file must report (a cycle breaks two claims, a broken model breaks
    the model and the claim that uses it); ``file_level``: the whole file is rejected, nothing runs;
    ``also_valid``: valid claims the case adds besides the two good ones.
    """

    name: str
    content: bytes
    claim_id: str | None
    field: str | None
    errors: int = 1
    file_level: bool = False
    also_valid: tuple[str, ...] = ()


def record_case(
    name: str,
    field: str,
    change: Callable[[Record, File], Any],
    *,
    claim_id: str | None = "bad.one",
    errors: int = 1,
    also_valid: tuple[str, ...] = (),
) -> Case:
    """The valid file with ``change(bad_record, file)`` applied."""
    data = valid_file()
    change(data["claims"][-1], data)
    return Case(name, tomli_w.dumps(data).encode(), claim_id, field, errors, also_valid=also_valid)


def file_case(name: str, content: bytes | str | Callable[[File], Any], field: str | None = None) -> Case:
    """A whole file that cannot load: raw bytes or text, or the valid file with a change applied."""
    if callable(content):
        data = valid_file()
        content(data)
        content = tomli_w.dumps(data)
    raw = content.encode() if isinstance(content, str) else content
    return Case(name, raw, None, field, 1, file_level=True)


def put(key: str, value: Any) -> Callable[[Record, File], None]:
    """Set ``key`` (dotted: into a sub-table) of the broken record."""

    def change(record: Record, data: File) -> None:
        *path, last = key.split(".")
        table = record
        for part in path:
            table = table[part]
        table[last] = value

    return change


def drop(key: str) -> Callable[[Record, File], None]:
    def change(record: Record, data: File) -> None:
        *path, last = key.split(".")
        table = record
        for part in path:
            table = table[part]
        del table[last]

    return change


def both(*changes: Callable[[Record, File], Any]) -> Callable[[Record, File], None]:
    def change(record: Record, data: File) -> None:
        for c in changes:
            c(record, data)

    return change


def derived(formula: str) -> Callable[[Record, File], None]:
    """The broken record becomes a claim whose value is derived from ``formula``."""
    return both(drop("value"), drop("precision"), drop("measure"), put("formula", formula))


def spare_model(change: Callable[[Record], Any]) -> Callable[[Record, File], None]:
    """A second model, broken by ``change``, that only the broken record uses (so the good claims run)."""

    def apply(record: Record, data: File) -> None:
        model = copy.deepcopy(SPARE_MODEL)
        change(model)
        data["models"]["spare"] = model
        record["measure"]["model"] = "spare"

    return apply


def model_not_a_table(record: Record, data: File) -> None:
    data["models"]["spare"] = "tiny"
    record["measure"]["model"] = "spare"


def cycle(record: Record, data: File) -> None:
    derived("bad.two + 1")(record, data)
    data["claims"].append(claim("bad.two", value=None, formula="bad.one * 2", measure=None))


def long_chain(record: Record, data: File) -> None:
    """bad.one at the top of a chain of 60 derived claims, listed bottom first: deriving or measuring it
    recurses 60 claims deep (the limit is 50), though checking the file in order never goes deep."""
    derived("bad.c59 + 1")(record, data)
    data["claims"] += [
        claim(
            f"bad.c{i}",
            value=None,
            unit="parameters",  # a count plus one is a count (a formula's result has its claim's dimension)
            formula=f"{'good.params' if i == 1 else f'bad.c{i - 1}'} + 1",
            measure=None,
        )
        for i in range(1, 60)
    ]


def not_a_table(record: Record, data: File) -> None:
    data["claims"][-1] = 42


def huge_hex_value() -> Case:
    """A 6000-digit integer: valid TOML (hex has no digit limit), too many digits for Python's str()."""
    case = record_case("value_integer_of_six_thousand_digits", "value", put("value", 987654321))
    return attrs.evolve(case, content=case.content.replace(b"value = 987654321", b"value = 0x" + b"f" * 5000))


def tolerance(**fields: Any) -> dict[str, Any]:
    return {"rationale": "test", **fields}


RECORD_CASES = [
    # wrong types
    record_case("value_is_a_string", "value", put("value", "110")),
    record_case("value_is_a_boolean", "value", put("value", True)),
    record_case("value_is_a_date", "value", put("value", datetime.date(2019, 10, 2))),
    record_case("value_is_an_array", "value", put("value", [1, 2])),
    record_case("unit_is_an_integer", "unit", put("unit", 6)),
    record_case("precision_is_a_string", "precision", put("precision", "0.1")),
    record_case("quote_is_an_integer", "quote", put("quote", 1)),
    record_case("location_is_an_array", "location", put("location", ["Table 1"])),
    record_case("version_is_an_integer", "version", put("version", 4)),
    record_case("note_is_a_table", "note", put("note", {"text": "x"})),
    record_case("id_is_an_integer", "id", put("id", 7), claim_id="[[claims]] #3"),
    record_case("comparable_on_is_a_string", "comparable_on", put("comparable_on", "device")),
    record_case("conditions_is_a_string", "conditions", put("conditions", "cpu")),
    record_case("condition_is_an_array", "conditions.device", put("conditions", {"device": ["cpu", "gpu"]})),
    record_case("condition_is_a_table", "conditions.device", put("conditions", {"device": {"name": "cpu"}})),
    record_case("tolerance_is_a_number", "tolerance", put("tolerance", 0.01)),
    record_case("measure_is_a_string", "measure", put("measure", "parameter_count")),
    record_case("metric_is_an_array", "metric", put("metric", ["accuracy"])),
    record_case("formula_is_a_number", "formula", put("formula", 3)),
    record_case("measure_model_is_an_array", "measure.model", put("measure.model", ["tiny"])),
    record_case("tolerance_value_is_a_string", "tolerance.value", put("tolerance.value", "1%")),
    # missing fields
    record_case("missing_quote", "quote", drop("quote")),
    record_case("missing_location", "location", drop("location")),
    record_case("missing_unit", "unit", drop("unit")),
    record_case("missing_value", "value", drop("value")),
    record_case("missing_precision", "precision", drop("precision")),
    record_case("missing_tolerance", "tolerance", drop("tolerance")),
    record_case("missing_tolerance_kind", "tolerance.kind", drop("tolerance.kind")),
    record_case("missing_tolerance_rationale", "tolerance.rationale", drop("tolerance.rationale")),
    record_case("missing_relative_width", "tolerance.value", drop("tolerance.value")),
    record_case("missing_measure_and_formula", "measure", drop("measure")),
    record_case("missing_measure_kind", "measure.kind", drop("measure.kind")),
    record_case("missing_measure_model", "measure.model", drop("measure.model")),
    record_case("missing_metric_split", "metric.split", put("metric", {"name": "accuracy"})),
    # unknown names
    record_case("unknown_unit", "unit", put("unit", "GB")),
    record_case("unknown_tolerance_kind", "tolerance.kind", put("tolerance.kind", "relativ")),
    record_case("unknown_measurement_kind", "measure.kind", put("measure.kind", "paramter_count")),
    record_case("unknown_metric", "metric.name", put("metric", {"name": "acc", "split": "validation"})),
    record_case("unknown_claim_field", "valeu", put("valeu", 1)),
    record_case("unknown_tolerance_field", "tolerance.width", put("tolerance.width", 0.1)),
    record_case("unknown_measure_field", "measure.dtype", put("measure.dtype", "float32")),
    record_case("unknown_metric_field", "metric.average", put("metric", {"name": "f1", "split": "v", "average": "m"})),
    record_case("measure_names_an_unknown_model", "measure.model", put("measure.model", "huge")),
    record_case(
        "measure_names_an_unknown_workload",
        "measure.workload",
        put("measure", {"kind": "latency", "model": "tiny", "workload": "nowhere"}),
    ),
    record_case(
        "measure_names_an_unknown_recipe",
        "measure.recipe",
        put("measure", {"kind": "task_score", "model": "tiny", "task": "glue/sst2", "recipe": "nothing"}),
    ),
    record_case(
        "comparable_on_a_missing_condition",
        "comparable_on",
        both(put("conditions", {"device": "cpu"}), put("comparable_on", ["batch_size"])),
    ),
    # ids
    record_case("id_with_capitals", "id", put("id", "Bad.One"), claim_id="Bad.One"),
    record_case("id_with_a_space", "id", put("id", "bad one"), claim_id="bad one"),
    record_case("id_empty", "id", put("id", ""), claim_id="[[claims]] #3"),
    record_case("duplicate_id", "id", put("id", "good.params"), claim_id="good.params"),
    # numbers
    record_case("value_nan", "value", put("value", math.nan)),
    record_case("value_inf", "value", put("value", math.inf)),
    record_case("value_huge_integer", "value", put("value", 10**400)),
    record_case("value_huge_float", "value", put("value", 1e301)),
    huge_hex_value(),
    record_case("precision_zero", "precision", put("precision", 0)),
    record_case("precision_negative", "precision", put("precision", -0.1)),
    record_case("precision_minus_inf", "precision", put("precision", -math.inf)),
    record_case("tolerance_negative", "tolerance.value", put("tolerance.value", -0.01)),
    record_case("tolerance_nan", "tolerance.value", put("tolerance.value", math.nan)),
    record_case("relative_tolerance_of_one", "tolerance.value", put("tolerance.value", 1)),
    record_case("relative_tolerance_above_one", "tolerance.value", put("tolerance.value", 5.0)),
    record_case(
        "lower_bound_negative_margin", "tolerance.value", put("tolerance", tolerance(kind="lower_bound", value=-1))
    ),
    record_case(
        "precision_tolerance_with_a_width", "tolerance.value", put("tolerance", tolerance(kind="precision", value=0.5))
    ),
    record_case(
        "precision_tolerance_without_a_precision",
        "precision",
        both(derived("good.params * 2"), put("tolerance", tolerance(kind="precision"))),
    ),
    # formulas
    record_case("formula_over_an_unknown_id", "formula", put("formula", "good.parms * 2")),
    record_case("formula_referring_to_itself", "formula", put("formula", "bad.one + 1")),
    record_case("formula_cycle", "formula", cycle, errors=2),
    record_case(
        "formula_chain_sixty_claims_deep",
        "formula",
        long_chain,
        errors=10,
        also_valid=tuple(f"bad.c{i}" for i in range(1, 51)),
    ),
    record_case("formula_import", "formula", put("formula", "__import__('os').system('true')")),
    record_case("formula_attribute_trick", "formula", put("formula", "good.params.__class__.__base__()")),
    record_case("formula_dunder_call", "formula", put("formula", "good.params.__add__(1)")),
    record_case("formula_lambda", "formula", put("formula", "(lambda: 1)()")),
    record_case("formula_comparison", "formula", put("formula", "good.params > 1")),
    record_case("formula_string", "formula", put("formula", "'110'")),
    record_case("formula_power", "formula", put("formula", "good.params ** 99999")),
    record_case("formula_subscript", "formula", put("formula", "good.params[0]")),
    record_case("formula_walrus", "formula", put("formula", "(x := good.params)")),
    record_case("formula_keyword_argument", "formula", put("formula", "mean(good.params, start=1)")),
    record_case("formula_starred", "formula", put("formula", "mean(*good.params)")),
    record_case("formula_comprehension", "formula", put("formula", "mean([x for x in (1, 2)])")),
    record_case("formula_empty_mean", "formula", put("formula", "mean()")),
    record_case("formula_abs_of_two", "formula", put("formula", "abs(good.params, 1)")),
    record_case("formula_syntax_error", "formula", put("formula", "good.params *")),
    record_case("formula_null_byte", "formula", put("formula", "good.params\x00")),
    record_case("formula_constant_only", "formula", put("formula", "110 * 4")),
    record_case("formula_infinite_literal", "formula", put("formula", "good.params * 1e999")),
    record_case("formula_nested_too_deep", "formula", put("formula", " + ".join(["good.params"] * 3000))),
    record_case(
        "formula_divides_by_zero_over_stated_values", "formula", derived("good.params / (good.params - good.params)")
    ),
    record_case(
        "formula_divides_by_zero_with_a_stated_value",
        "formula",
        both(drop("measure"), put("formula", "good.bytes / (good.params * 4 - good.bytes)")),
    ),
    record_case("formula_overflows_over_stated_values", "formula", derived("good.params * 1e300 * 1e300")),
    # a claim that is not a table
    record_case("claim_not_a_table", "claims[2]", not_a_table, claim_id=None),
    # models the broken record uses (the model and the claim both fail)
    record_case("model_not_a_table", "measure.model", model_not_a_table, errors=2),
    record_case("model_without_config", "measure.model", spare_model(lambda m: m.pop("config")), errors=2),
    record_case(
        "model_config_without_model_type",
        "measure.model",
        spare_model(lambda m: m["config"].pop("model_type")),
        errors=2,
    ),
    record_case("model_unknown_field", "measure.model", spare_model(lambda m: m.update(checkpoint="x")), errors=2),
    record_case(
        "model_finetuned_not_a_string",
        "measure.model",
        spare_model(lambda m: m.update(finetuned={"glue/sst2": 1})),
        errors=2,
    ),
]

FILE_CASES = [
    file_case("empty_file", b""),
    file_case("only_whitespace_and_comments", "\n  \n# nothing here\n"),
    file_case("toml_syntax_error", "schema_version = 1\n[source\nkey = 'x'\n"),
    file_case("toml_duplicate_key", "schema_version = 1\nschema_version = 1\n"),
    file_case("toml_unterminated_string", 'schema_version = 1\n[source]\nkey = "toy\n'),
    file_case("toml_invalid_date", "schema_version = 1\nwhen = 2023-02-30\n"),
    file_case("not_utf8", b'schema_version = 1\n[source]\nkey = "caf\xe9"\n'),
    file_case("utf16_with_bom", "schema_version = 1\n".encode("utf-16")),
    file_case("binary_garbage", bytes(range(256)) * 4),
    file_case("arrays_nested_thousands_deep", "x = " + "[" * 5000 + "]" * 5000),
    file_case("integer_of_five_thousand_digits", "schema_version = " + "9" * 5000 + "\n"),
    file_case("schema_version_2", lambda d: d.update(schema_version=2), "schema_version"),
    file_case("schema_version_string", lambda d: d.update(schema_version="1"), "schema_version"),
    file_case("schema_version_boolean", lambda d: d.update(schema_version=True), "schema_version"),
    file_case("schema_version_float", lambda d: d.update(schema_version=1.0), "schema_version"),
    file_case("unknown_top_level_table", lambda d: d.update(experiments={"a": 1}), "experiments"),
    file_case("missing_source", lambda d: d.pop("source"), "source"),
    file_case("source_not_a_table", lambda d: d.update(source="arXiv:0000.00000"), "source"),
    file_case("source_key_not_a_name", lambda d: d["source"].update(key="Toy Paper"), "source.key"),
    file_case("source_missing_title", lambda d: d["source"].pop("title"), "source.title"),
    file_case("source_unknown_field", lambda d: d["source"].update(doi="10.0/x"), "source.doi"),
    file_case("source_authors_not_an_array", lambda d: d["source"].update(authors="Someone"), "source.authors"),
    file_case("missing_claims", lambda d: d.pop("claims"), "claims"),
    file_case("claims_empty", lambda d: d.update(claims=[]), "claims"),
    file_case("claims_a_table", lambda d: d.update(claims={"a": d["claims"][0]}), "claims"),
    file_case("models_not_a_table", lambda d: d.update(models=["tiny"]), "models"),
    file_case("workloads_not_a_table", lambda d: d.update(workloads=3), "workloads"),
    file_case("workload_not_a_table", lambda d: d.update(workloads={"glue": "x"}), "workloads.glue"),
    file_case("recipe_not_a_table", lambda d: d.update(recipes={"r": [1]}), "recipes.r"),
]
CASES = RECORD_CASES + FILE_CASES
#: the file cases whose text carries no claims header: the plug-in does not collect them (the loader still
#: reports each when asked to load it)
UNIDENTIFIED = {
    "empty_file",
    "only_whitespace_and_comments",
    "utf16_with_bom",
    "binary_garbage",
    "arrays_nested_thousands_deep",
}
#: missing paths and directories are malformed "files" too, but only the loader sees them
PATH_CASES = ("missing.toml", "a_directory.toml")
#: a chain of 2000 derived claims, listed bottom first or top first (only the loader test runs these)
CHAIN_ORDERS = ("bottom_first", "top_first")
MALFORMED_COUNT = len(CASES) + len(PATH_CASES) + len(CHAIN_ORDERS)


def test_the_catalogue_has_at_least_forty_malformed_cases() -> None:
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    print(
        f"malformed cases: {MALFORMED_COUNT} ({len(RECORD_CASES)} records, {len(FILE_CASES)} files, "
        f"{len(PATH_CASES)} paths, {len(CHAIN_ORDERS)} long chains)"
    )
    assert MALFORMED_COUNT >= 40


# ---------------------------------------------------------------- loader level


def assert_names(error: ClaimError, path: Path, claim_id: str | None, field: str | None) -> None:
    """The message names the file, and the claim and field where the error has them."""
    text = str(error)
    assert str(path) in text
    if claim_id is not None:
        assert error.claim_id == claim_id and f"claim {claim_id!r}" in text
    if field is not None:
        assert error.field == field and f"field {field!r}" in text
    assert "expected" in text and "Fix:" in text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_loader_reports_the_case_as_a_claim_error(case: Case, tmp_path: Path) -> None:
    path = tmp_path / f"{case.name}.toml"
    path.write_bytes(case.content)
    loaded = load(path)  # must not raise
    assert len(loaded.invalid) == case.errors, [str(r.error) for r in loaded.invalid]
    assert all(isinstance(r.error, ClaimError) for r in loaded.invalid)
    for record in loaded.invalid:
        assert str(path) in str(record.error)
    if case.file_level:
        assert loaded.claims == () and loaded.invalid[0].name == "<file>"
        assert_names(loaded.invalid[0].error, path, None, case.field)
        return
    matching = [r.error for r in loaded.invalid if r.error.claim_id == case.claim_id and r.error.field == case.field]
    assert matching, [str(r.error) for r in loaded.invalid]
    assert_names(matching[0], path, case.claim_id, case.field)
    assert [c.id for c in loaded.claims] == [*GOOD_IDS, *case.also_valid]  # the valid claims still load


@pytest.mark.parametrize("name", PATH_CASES)
def test_a_path_that_is_not_a_readable_file_is_a_claim_error(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    if name == "a_directory.toml":
        path.mkdir()
    loaded = load(path)
    assert loaded.claims == () and len(loaded.invalid) == 1
    assert_names(loaded.invalid[0].error, path, None, None)


@pytest.mark.parametrize("order", CHAIN_ORDERS)
def test_a_chain_of_thousands_of_formulas_is_cut_at_the_limit_not_at_the_recursion_limit(
    order: str, tmp_path: Path
) -> None:
    records = [claim("chain.c0", value=1.0)] + [
        claim(f"chain.c{i}", value=None, formula=f"chain.c{i - 1} + 1", measure=None) for i in range(1, 2000)
    ]
    path = tmp_path / "chain.toml"
    path.write_text(tomli_w.dumps({**HEADER, "claims": records if order == "bottom_first" else records[::-1]}))
    loaded = load(path)  # must not raise RecursionError
    assert sorted(c.id for c in loaded.claims) == sorted(f"chain.c{i}" for i in range(51))
    assert len(loaded.invalid) == 2000 - 51
    for record in loaded.invalid:
        assert_names(record.error, path, record.name, "formula")
    deepest = evaluate(loaded.claim("chain.c50"), Context(loaded, Options()), "chain.toml::chain.c50", "pytest")
    assert deepest.verdict == "NOT_RUN" and deepest.claimed == 51.0


# ---------------------------------------------------------------- end to end (one pytest session, every case)


def test_every_case_end_to_end_fails_one_item_without_a_traceback(pytester: pytest.Pytester) -> None:
    """One session over every case's file: each broken record is one failed item saying what is wrong,
    each valid claim beside it passes, and nothing shows an internal traceback."""
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\n')
    folder = pytester.path / "claims"
    folder.mkdir()
    for case in CASES:
        (folder / f"{case.name}.toml").write_bytes(case.content)
    run = pytester.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    text = run.stdout.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text
    # files with no claims header (no schema_version, no [source] with [[claims]]) are not claims files:
    # not collected at all (harness.spec.identity), so another project's claims/*.toml stays untouched
    collected = [c for c in CASES if c.name not in UNIDENTIFIED]
    valid = sum(len(GOOD_IDS) + len(c.also_valid) for c in collected if not c.file_level)
    broken = sum(c.errors for c in collected)
    run.assert_outcomes(passed=valid, failed=broken)

    in_process = run.reprec  # type: ignore[attr-defined]  (in-process runs have it)
    reports = [r for r in in_process.getreports("pytest_runtest_logreport") if r.when == "call"]
    by_file: dict[str, list[Any]] = {}
    for report in reports:
        by_file.setdefault(report.nodeid.split("::")[0], []).append(report)
    assert not {f"claims/{name}.toml" for name in UNIDENTIFIED} & set(by_file)
    for case in collected:
        shown = f"claims/{case.name}.toml"
        items = by_file[shown]
        failed = [r for r in items if r.failed]
        assert len(failed) == case.errors, case.name
        for report in failed:
            message = report.longreprtext
            assert message.startswith("invalid claims record") and shown in message, message
            assert "Traceback" not in message and "harness/" not in message, message
        if case.claim_id is not None:
            assert any(f"claim {case.claim_id!r}: field {case.field!r}" in r.longreprtext for r in failed), case.name
        passed = sorted(r.nodeid.split("::")[1] for r in items if r.passed)
        assert passed == ([] if case.file_level else sorted([*GOOD_IDS, *case.also_valid])), case.name
    results = json.loads((pytester.path / "out" / "latest" / "results.json").read_text())["results"]
    assert sum(r["verdict"] == "ERROR" for r in results) == broken
    assert sum(r["verdict"] == "REPRODUCED" for r in results) == valid


# ---------------------------------------------------------------- generated structures (Hypothesis)

# every field a record can have, plus keys of its sub-tables and one that no table knows
KEYS = (*CLAIM_FIELDS, "kind", "model", "name", "split", "rationale", "requires", "remedy", "device", "x")
scalars = st.one_of(
    st.none(),  # None: delete the key
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "good.params",
            "ratio",
            "percent",
            "precision",
            "relative",
            "lower_bound",
            "not_measurable",
            "parameter_count",
            "tiny",
            "accuracy",
            "good.params / 0",
            "mean(good.params)",
            "1e308 * 1e308",
        ]
    ),
    st.dates(),
)
toml_values = st.recursive(
    scalars.filter(lambda v: v is not None),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def mutated_records(draw: st.DrawFn) -> Record:
    """A valid not_measurable record with a few keys (top level or in its tables) replaced, added or deleted."""
    record = claim("fuzz.one", value=2.0, conditions={"device": "cpu"}, metric={"name": "f1", "split": "v"})
    for _ in range(draw(st.integers(1, 4))):
        tables = [record] + [v for v in record.values() if isinstance(v, dict)]
        table = draw(st.sampled_from(tables))
        key = draw(st.sampled_from(KEYS))
        value = draw(st.one_of(scalars, toml_values))
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return record


def _load_generated(tmp_path: Path, data: File) -> tuple[Path, Any]:
    path = tmp_path / "generated.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path, load(path)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(record=mutated_records())
def test_generated_records_load_or_fail_with_a_claim_error_and_never_crash_the_engine(
    tmp_path: Path, record: Record
) -> None:
    not_measurable_goods = [claim("good.one"), claim("good.two", value=None, formula="good.one * 2", measure=None)]
    path, loaded = _load_generated(tmp_path, {**HEADER, "claims": [*not_measurable_goods, record]})
    assert {"good.one", "good.two"} <= {c.id for c in loaded.claims}
    for invalid in loaded.invalid:
        assert isinstance(invalid.error, ClaimError) and str(path) in str(invalid.error)
        if isinstance(record.get("id"), str) and invalid.error.claim_id is not None:
            assert invalid.error.claim_id in (record["id"], "[[claims]] #3")
    context = Context(loaded, Options())
    for c in loaded.claims:
        assert math.isfinite(c.value) and c.precision >= 0
        if c.measure is not None and c.measure.kind != "not_measurable":
            continue  # a generated record may ask for a model measurement: too slow to run here
        result = evaluate(c, context, f"generated.toml::{c.id}", "pytest")  # must not raise
        json.dumps(result.to_dict())


ids = st.sampled_from(["good.one", "good.two", "good.three"])
formulas = st.recursive(
    st.one_of(ids, ids, ids, st.floats(-1e3, 1e3, allow_nan=False).map(repr), st.sampled_from(["0", "1e308"])),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["mean", "min", "max"]), st.lists(inner, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        inner.map(lambda x: f"abs({x})"),
        inner.map(lambda x: f"-{x}"),
    ),
    max_leaves=8,
).map(lambda f: f if "good." in f else f"good.one * {f}")  # a constant formula is an error of its own


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    formula=formulas,
    stated=st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
    unit=st.sampled_from(["ratio", "percent", "points", "million parameters", "MB", "milliseconds"]),
    kind=st.sampled_from(["absolute", "relative", "precision", "lower_bound", "upper_bound"]),
)
def test_generated_formulas_load_or_fail_with_a_claim_error_and_evaluate_without_crashing(
    tmp_path: Path, formula: str, stated: float | None, unit: str, kind: str
) -> None:
    """Arithmetic over the stated values (divisions by zero, overflows, derived values), consistency
    checks in interval arithmetic and formula measurements: a claim error or a verdict, never a crash."""
    tol = {"kind": kind, "rationale": "generated"} | ({} if kind == "precision" else {"value": 0.5})
    derived_claim = claim(
        "gen.formula",
        value=stated,
        unit=unit,
        formula=formula,
        tolerance=tol,
        measure=None,
        precision=None if stated is None else 0.1,
    )
    goods = [claim("good.one", value=2.0), claim("good.two", value=0.0), claim("good.three", value=-3.5)]
    path, loaded = _load_generated(tmp_path, {**HEADER, "claims": [*goods, derived_claim]})
    assert [c.id for c in loaded.claims][:3] == ["good.one", "good.two", "good.three"]
    for invalid in loaded.invalid:
        assert isinstance(invalid.error, ClaimError) and invalid.error.claim_id == "gen.formula"
        assert invalid.error.field in ("formula", "precision", "tolerance.value", "tolerance.kind"), str(invalid.error)
    context = Context(loaded, Options())
    for c in loaded.claims:
        assert math.isfinite(c.value)
        result = evaluate(c, context, f"generated.toml::{c.id}", "pytest")
        assert result.verdict in ("NOT_RUN", "INCONSISTENT", "ERROR"), result.reason  # components not measurable
        assert result.verdict != "ERROR" or "cannot be checked" in result.reason  # an unbounded check: overflow
        json.dumps(result.to_dict())
    if stated is None and not loaded.invalid:
        # a source that states exactly what its own numbers give is never INCONSISTENT
        derived_value = loaded.claim("gen.formula")
        honest = attrs.evolve(derived_value, value_is_derived=False, precision=0.1)
        consistency = check_consistency(honest, {c.id: c for c in loaded.claims})
        assert consistency is not None and (consistency.consistent or not consistency.decidable), consistency


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(str.encode),
        # a valid file with bytes changed, inserted or cut: mostly broken TOML, sometimes a broken record
        st.tuples(st.integers(0, 10_000), st.binary(min_size=0, max_size=6), st.integers(0, 8)).map(
            lambda t: _splice(tomli_w.dumps(valid_file()).encode(), *t)
        ),
    )
)
def test_generated_bytes_load_or_fail_with_a_claim_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bytes.toml"
    path.write_bytes(content)
    loaded = load(path)  # must not raise
    for invalid in loaded.invalid:
        assert isinstance(invalid.error, ClaimError) and str(path) in str(invalid.error)
    assert loaded.claims or loaded.invalid


def _splice(valid: bytes, at: int, insert: bytes, cut: int) -> bytes:
    at %= len(valid)
    return valid[:at] + insert + valid[at + cut :]
