"""Load-time validation: what would fail mid-run (or be judged wrongly) is a ClaimError when the file loads.

Classes: model tables against transformers (model_type, field types, heads that divide the hidden size, sizes,
auto_class), hub ids, workloads against the model (lengths beyond its positions, sizes <= 0), recipes (types and
ranges), and the dimensions of formula operands. Each error names the file, the claim (or model), the field,
what was expected, what was found and the fix, and the record becomes one failing item; the rest still loads.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from claimsfile import HEADER, TINY_PARAMETERS, claim

from harness.core.errors import ClaimError
from harness.spec import load
from harness.spec.dimensions import DimensionError, check_claim_dimension
from harness.spec.formula import Formula

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
COUNT = claim(
    "good.params",
    value=TINY_PARAMETERS,
    unit="parameters",
    precision=1,
    tolerance={"kind": "relative", "value": 0.01, "rationale": "exact count"},
    measure={"kind": "parameter_count", "model": "tiny"},
)
WORKLOAD = {
    "examples": 10,
    "batch_size": 1,
    "synthetic_lengths": {"distribution": "lognormal", "median": 10, "p95": 20, "min": 4, "max": 40},
}
LATENCY = claim(
    "speed.tiny",
    value=1.0,
    unit="seconds",
    measure={"kind": "latency", "model": "tiny", "workload": "w"},
)
RECIPE = {"max_length": 32, "batch_size": 4, "learning_rate": 1e-3, "epochs": 1, "seeds": [1]}
TASK = claim(
    "task.tiny",
    value=90.0,
    unit="percent",
    metric={"name": "accuracy", "split": "validation"},
    measure={"kind": "task_score", "model": "tiny", "task": "glue/sst2", "recipe": "r"},
)


def load_with(tmp_path: Path, *records: dict[str, Any], change=None) -> Any:
    data: dict[str, Any] = {
        **copy.deepcopy(HEADER),
        "workloads": {"w": copy.deepcopy(WORKLOAD)},
        "recipes": {"r": dict(RECIPE)},
    }
    data["claims"] = [copy.deepcopy(COUNT), *copy.deepcopy(list(records))]
    if change is not None:
        change(data)
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load(path)


def only_error(loaded: Any) -> ClaimError:
    assert len(loaded.invalid) == 1, [str(r.error) for r in loaded.invalid]
    return loaded.invalid[0].error


def set_model(key: str, value: Any):
    def change(data: dict[str, Any]) -> None:
        table = data["models"]["tiny"]
        *path, last = key.split(".")
        for part in path:
            table = table[part]
        table[last] = value

    return change


def test_the_paper_claims_file_loads_clean_with_every_check() -> None:
    loaded = load(ROOT / "claims" / "distilbert.toml")
    assert [str(r.error) for r in loaded.invalid] == []
    assert len(loaded.claims) == 75  # every claim of the file: 69, and the 6 reduced-scale ablation claims (issue 15)


@pytest.mark.parametrize(
    ("key", "value", "field", "found"),
    [
        ("config.model_type", "bertt", "models.tiny.config.model_type", "Did you mean 'bert'"),
        (
            "config.model_type",
            "no_such_model_type",
            "models.tiny.config.model_type",
            "which this transformers does not know",
        ),
        ("config.hidden_size", "768", "models.tiny.config.hidden_size", "found '768' (str)"),
        ("config.num_hidden_layers", 2.0, "models.tiny.config.num_hidden_layers", "found 2.0 (float)"),
        ("config.num_attention_heads", True, "models.tiny.config.num_attention_heads", "found True (bool)"),
        ("config.hidden_act", 3, "models.tiny.config.hidden_act", "found 3 (int)"),
        ("config.num_attention_heads", 5, "models.tiny.config.hidden_size", "num_attention_heads = 5 (6.4 each)"),
        ("config.num_attention_heads", 0, "models.tiny.config.num_attention_heads", "found 0"),
        ("config.max_position_embeddings", -1, "models.tiny.config.max_position_embeddings", "found -1"),
        ("config.hidden_sise", 32, "models.tiny.config.hidden_sise", "Did you mean 'hidden_size'"),
        ("auto_class", "AutoTokenizer", "models.tiny.auto_class", "found 'AutoTokenizer'"),
        ("auto_class", "AutoConfig", "models.tiny.auto_class", "found 'AutoConfig'"),
        ("auto_class", "AutoModelForSequenceClasification", "models.tiny.auto_class", "Did you mean"),
        ("hub_id", "../outside/x", "models.tiny.hub_id", "'..' or '--'"),
        ("hub_id", "/etc/passwd", "models.tiny.hub_id", "outside the grammar"),
        ("hub_id", "org/name\n", "models.tiny.hub_id", "outside the grammar"),
        ("finetuned", {"glue/sst2": "a\\b"}, "models.tiny.finetuned.glue/sst2", "outside the grammar"),
    ],
)
def test_a_model_transformers_would_refuse_is_refused_at_load(tmp_path, key, value, field, found) -> None:
    loaded = load_with(tmp_path, change=set_model(key, value))
    errors = {r.name: r.error for r in loaded.invalid}
    assert set(errors) == {"<models.tiny>", "good.params"}  # the model, and the claim that uses it
    err = errors["<models.tiny>"]
    assert err.field == field and found in str(err), str(err)
    assert str(err).startswith(f"{tmp_path / 'c.toml'}: field {field!r}: expected ") and "Fix: " in str(err)


def test_distilbert_style_names_are_checked_through_the_attribute_map(tmp_path) -> None:
    config = {"model_type": "distilbert", "vocab_size": 50, "dim": 32, "n_heads": 3, "n_layers": 1, "hidden_dim": 8}
    loaded = load_with(tmp_path, change=set_model("config", config))
    err = {r.name: r.error for r in loaded.invalid}["<models.tiny>"]
    assert err.field == "models.tiny.config.dim" and "dim = 32 and n_heads = 3 (10.7 each)" in str(err)
    assert "expected dim divisible by n_heads" in str(err)
    loaded = load_with(tmp_path, change=set_model("config", {**config, "n_heads": 4}))
    assert loaded.invalid == () and loaded.models["tiny"].config["n_heads"] == 4


@pytest.mark.parametrize(
    ("change", "field", "found"),
    [
        (lambda w: w["synthetic_lengths"].update(max=65), "workloads.w.synthetic_lengths.max", "65"),
        (lambda w: w.update(max_length=100), "workloads.w.max_length", "100"),
        (lambda w: w.update(examples=0), "workloads.w.examples", "0"),
        (lambda w: w.update(batch_size=-2), "workloads.w.batch_size", "-2"),
        (lambda w: w.update(examples="10"), "workloads.w.examples", "'10'"),
    ],
)
def test_a_workload_the_model_cannot_run_is_refused_at_load(tmp_path, change, field, found) -> None:
    def apply(data: dict[str, Any]) -> None:
        change(data["workloads"]["w"])

    err = only_error(load_with(tmp_path, LATENCY, change=apply))
    assert err.claim_id == "speed.tiny" and err.field == field and f"found {found}" in str(err), str(err)


def test_lengths_within_the_positions_load(tmp_path) -> None:
    def at_limit(data: dict[str, Any]) -> None:
        data["workloads"]["w"]["synthetic_lengths"]["max"] = 64  # the tiny model's max_position_embeddings
        data["workloads"]["w"]["max_length"] = 64

    assert load_with(tmp_path, LATENCY, change=at_limit).invalid == ()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("learning_rate", "fast", "a number > 0"),
        ("learning_rate", 0, "a number > 0"),
        ("learning_rate", True, "a number > 0"),
        ("epochs", 0, "a number > 0"),
        ("batch_size", 2.5, "a whole number > 0"),
        ("batch_size", 0, "a whole number > 0"),
        ("max_length", "128", "a whole number > 0"),
        ("warmup_ratio", 1.5, "a number >= 0 and < 1"),
        ("warmup_ratio", -0.1, "a number >= 0 and < 1"),
        ("weight_decay", "none", "a number >= 0"),
        ("seeds", [], "a non-empty array of integers"),
        ("seeds", [1, "2"], "a non-empty array of integers"),
        ("seeds", [True], "a non-empty array of integers"),
    ],
)
def test_a_recipe_of_the_wrong_type_or_range_is_refused_at_load(tmp_path, key, value, expected) -> None:
    def apply(data: dict[str, Any]) -> None:
        data["recipes"]["r"] = {**RECIPE, key: value}

    err = only_error(load_with(tmp_path, TASK, change=apply))
    assert err.claim_id == "task.tiny" and err.field == f"recipes.r.{key}"
    assert err.expected == expected and err.found == repr(value), str(err)


def test_a_recipe_that_resolves_loads_and_other_task_problems_are_named(tmp_path) -> None:
    assert load_with(tmp_path, TASK).invalid == ()
    bad_task = claim("task.bad", **{**TASK, "measure": {**TASK["measure"], "task": "glue/sst3"}})
    err = only_error(load_with(tmp_path, bad_task))
    assert err.field == "measure.task" and "Did you mean 'glue/sst2'" in str(err)
    bad_smoke = claim("task.bad", **{**TASK, "measure": {**TASK["measure"], "smoke": "yes"}})
    assert only_error(load_with(tmp_path, bad_smoke)).field == "measure.smoke"


@pytest.mark.parametrize(
    ("formula", "units", "unit", "message"),
    [
        ("a + b", {"a": "parameters", "b": "bytes"}, "parameters", "+ over a (count) and b (bytes)"),
        ("a - b", {"a": "percent", "b": "parameters"}, "percent", "- over a (a pure number (ratio)) and b (count)"),
        ("mean(a, b)", {"a": "seconds", "b": "MB"}, "seconds", "mean() over a (time) and b (bytes)"),
        ("max(a, b)", {"a": "seconds", "b": "ratio"}, "seconds", "max() over a (time)"),
        ("a / b", {"a": "parameters", "b": "parameters"}, "MB", "the formula gives a pure number (ratio)"),
        ("a * b", {"a": "seconds", "b": "seconds"}, "seconds", "the formula gives time^2"),
        ("a / b + c", {"a": "bytes", "b": "seconds", "c": "bytes"}, "bytes", "bytes time^-1"),
    ],
)
def test_formulas_over_incompatible_dimensions_are_refused(formula, units, unit, message) -> None:
    with pytest.raises(DimensionError) as info:
        check_claim_dimension(Formula.parse(formula), units, unit)
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("formula", "units", "unit"),
    [
        ("1 - a / b", {"a": "parameters", "b": "million parameters"}, "percent"),
        ("(a - b) / a", {"a": "MiB", "b": "MB"}, "ratio"),
        ("a * 4", {"a": "parameters"}, "MB"),  # a written number may carry a unit (bytes per parameter)
        ("a - b", {"a": "percent", "b": "points"}, "points"),
        ("mean(a, b) / c", {"a": "seconds", "b": "milliseconds", "c": "seconds"}, "ratio"),
        ("abs(a - b)", {"a": "seconds", "b": "seconds"}, "milliseconds"),
    ],
)
def test_formulas_over_compatible_dimensions_load(formula, units, unit) -> None:
    check_claim_dimension(Formula.parse(formula), units, unit)


def test_a_mixed_dimension_formula_is_that_claims_load_error(tmp_path) -> None:
    size = claim("good.bytes", value=10.0, unit="bytes", measure={"kind": "weight_bytes", "model": "tiny"})
    mixed = claim("bad.mixed", value=None, unit="parameters", formula="good.params + good.bytes", measure=None)
    built_on = claim("bad.on_mixed", value=None, unit="parameters", formula="bad.mixed * 2", measure=None)
    loaded = load_with(tmp_path, size, mixed, built_on)
    errors = {r.name: r.error for r in loaded.invalid}
    assert set(errors) == {"bad.mixed", "bad.on_mixed"}
    assert errors["bad.mixed"].field == "formula" and "good.params (count) and good.bytes (bytes)" in str(
        errors["bad.mixed"]
    )
    assert "the component 'bad.mixed' is invalid" in str(errors["bad.on_mixed"])
    assert {c.id for c in loaded.claims} == {"good.params", "good.bytes"}


def test_a_refused_model_is_a_failing_item_and_the_valid_claims_run(project: pytest.Pytester) -> None:
    data: dict[str, Any] = copy.deepcopy(HEADER)
    data["models"]["tiny"]["config"]["hidden_size"] = "32"
    data["claims"] = [copy.deepcopy(COUNT), claim("other.ok", value=1.0, measure={"kind": "fixed", "measured": 1.0})]
    (project.path / "claims").mkdir()
    (project.path / "claims" / "toy.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    text = run.stdout.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text
    run.assert_outcomes(passed=1, failed=2)  # the model record, the claim using it; the other claim passes
    assert "field 'models.tiny.config.hidden_size': expected an integer (the type of BertConfig.hidden_size)" in text
