"""Load-time checks of issue 13's fields: strict configs with "did you mean" (``harness.measure.model_checks``),
builders and the meta-device forward pass of a custom builder's model, FLOP settings, timed workloads and
task claims (each kind's ``check``) become the record's failing item; the other claims still run."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from claimsfile import HEADER, claim, claims_toml
from meta_models import TINY_BERT as TINY

from harness.spec import load

pytestmark = pytest.mark.fast


def checked(tmp_path: Path, models: dict[str, Any], *records: dict[str, Any]) -> Any:
    path = tmp_path / "claims" / "toy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(claims_toml(*records, header={**HEADER, "models": models}), encoding="utf-8")
    return load(path)


def spec(config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"hub_id": "toy/m", "config_source": "test", "config": config, **extra}


def params(cid: str, model: str) -> dict[str, Any]:
    return claim(cid, 1, unit="parameters", measure={"kind": "parameter_count", "model": model})


def errors(claims_file: Any) -> dict[str, Any]:
    return {r.name: r.error for r in claims_file.invalid}


def test_an_unknown_config_key_fails_its_model_and_the_claims_that_use_it(tmp_path: Path) -> None:
    ratio = claim("ratio", 2.0, formula="bad / good", precision=0.1)
    result = checked(
        tmp_path,
        {"good": spec(TINY), "typo": spec({**TINY, "hiden_size": 8})},
        params("good", "good"),
        params("bad", "typo"),
        ratio,
    )
    found = errors(result)
    assert set(found) == {"<models.typo>", "bad", "ratio"}
    err = found["<models.typo>"]
    assert err.field == "models.typo.config.hiden_size"
    assert "Did you mean 'hidden_size'" in err.fix
    assert found["bad"].field == "measure.model" and "[models.typo]" in found["bad"].found
    assert found["ratio"].field == "formula" and "'bad'" in found["ratio"].found
    assert [c.id for c in result.claims] == ["good"]


@pytest.mark.parametrize(
    ("config", "field", "found"),
    [
        ({**TINY, "hidden_size": "8"}, "models.m.config.hidden_size", "'8'"),
        ({**TINY, "num_attention_heads": 3}, "models.m.config.", "3"),
        ({**TINY, "model_type": "bret"}, "models.m.config.model_type", "bret"),
    ],
)
def test_wrong_types_and_combinations_are_collection_errors(
    tmp_path: Path, config: dict[str, Any], field: str, found: str
) -> None:
    err = errors(checked(tmp_path, {"m": spec(config)}, params("p", "m")))["<models.m>"]
    assert err.field.startswith(field)
    assert found in err.found


def test_an_unknown_builder_suggests_the_registered_names(tmp_path: Path) -> None:
    err = errors(checked(tmp_path, {"m": spec(TINY, builder="transformer")}, params("p", "m")))["<models.m>"]
    assert err.field == "models.m.builder"
    assert "Did you mean 'transformers'" in err.fix


BROKEN_BUILDER = textwrap.dedent(
    """
    from harness.ml.builders import transformers_builder

    def wrong_width(config):
        import torch

        model = transformers_builder("AutoModel")(config)
        model.encoder.layer[1].intermediate.dense = torch.nn.Linear(5, 16)  # does not take the hidden size 8
        return model
    """
)


def test_a_built_model_that_does_not_run_is_caught_by_the_meta_forward_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_builder_mod.py").write_text(BROKEN_BUILDER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    models = {"m": spec(TINY, builder="broken_builder_mod:wrong_width")}
    err = errors(checked(tmp_path, models, params("p", "m")))["<models.m>"]
    assert err.field == "models.m.builder"
    assert "the built model does not run" in err.found
    assert "meta device" in err.expected


@pytest.mark.parametrize(
    ("measure", "field", "expected"),
    [
        ({"seq_len": 9}, "measure.seq_len", "max_position_embeddings (8)"),
        ({"seq_len": 4, "multiply_add": 3}, "measure.multiply_add", "2 (a multiply-add counts as 2 FLOPs)"),
        ({"seq_len": 0}, "measure.seq_len", "a positive integer"),
        ({"seq_len": 4, "head": "yes"}, "measure.head", "true or false"),
    ],
)
def test_flop_settings_are_checked_at_collection(
    tmp_path: Path, measure: dict[str, Any], field: str, expected: str
) -> None:
    record = claim("f", 1, unit="FLOP", measure={"kind": "flops", "model": "m", **measure})
    err = errors(checked(tmp_path, {"m": spec(TINY)}, record))["f"]
    assert err.field == field
    assert expected in err.expected


def test_a_session_runs_the_good_claims_and_fails_the_bad_model_once(pytester: pytest.Pytester) -> None:
    claims = pytester.path / "claims"
    claims.mkdir()
    exact = {"kind": "absolute", "value": 0, "rationale": "exact count"}
    good = claim(
        "good",
        1448,
        unit="parameters",
        precision=1,
        tolerance=exact,
        measure={"kind": "parameter_count", "model": "good"},
    )
    models = {"good": spec(TINY), "typo": spec({**TINY, "hiden_size": 8})}
    (claims / "toy.toml").write_text(claims_toml(good, params("bad", "typo"), header={**HEADER, "models": models}))
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess("-m", "claims", "--claims-out=out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    assert "field 'models.typo.config.hiden_size'" in text and "Did you mean 'hidden_size'" in text


def task_claim(cid: str, task: str, split: str, metric: str = "accuracy", **measure: Any) -> dict[str, Any]:
    return claim(
        cid,
        90.0,
        unit="points",
        metric={"name": metric, "split": split},
        measure={"kind": "task_score", "model": "m", "task": task, **measure},
    )


def test_task_metric_split_and_recipe_are_checked_at_collection(tmp_path: Path) -> None:
    from harness.core.errors import NotRunError
    from harness.measure.measurement import Context, Options

    records = [
        task_claim("ok.mm", "glue/mnli_mm", "validation_mismatched"),
        task_claim("ok.test", "glue/sst2", "test"),
        task_claim("bad.metric", "glue/stsb", "validation", metric="accuracy"),
        task_claim("bad.split", "glue/sst2", "train"),
        task_claim("bad.task", "glue/sst3", "validation"),
        task_claim("bad.recipe", "glue/sst2", "validation", recipe="r"),
    ]
    path = tmp_path / "claims" / "toy.toml"
    path.parent.mkdir(parents=True)
    text = claims_toml(*records, header={**HEADER, "models": {"m": spec(TINY)}, "recipes": {"r": {"lr": 1e-5}}})
    path.write_text(text, encoding="utf-8")
    result = load(path)
    found = errors(result)
    assert set(found) == {"bad.metric", "bad.split", "bad.task", "bad.recipe"}
    assert "does not apply to glue/stsb" in found["bad.metric"].found
    assert "a GLUE test split is allowed" in found["bad.split"].found
    assert "Did you mean 'glue/sst2'" in found["bad.task"].fix
    assert found["bad.recipe"].field == "recipes.r" and "unknown key 'lr'" in found["bad.recipe"].found
    with pytest.raises(NotRunError, match="labels are not public"):
        Context(result, Options()).measure(result.claim("ok.test"))


def test_recipe_max_steps_and_dropout(tmp_path: Path) -> None:
    import json

    from harness.core.errors import MeasurementError
    from harness.ml.data import task
    from harness.ml.finetune import dropout_overrides
    from harness.ml.recipes import recipe

    tables = {"r": {"max_length": 64, "batch_size": 8, "learning_rate": 2e-5, "max_steps": 100, "dropout": 0.2}}
    r = recipe(tables, "r", task("glue/sst2"))
    assert (r.max_steps, r.dropout, r.epochs) == (100, 0.2, 0.0)
    assert "100 steps" in r.describe()
    assert r.training_fields()["max_steps"] == 100
    without = {k: v for k, v in tables["r"].items() if k not in ("max_steps", "dropout")}
    assert "max_steps" not in recipe({"r": {**without, "epochs": 3}}, "r", task("glue/sst2")).training_fields()
    with pytest.raises(MeasurementError, match="missing epochs"):
        recipe({"r": {"max_length": 64, "batch_size": 8, "learning_rate": 2e-5}}, "r", task("glue/sst2"))
    with pytest.raises(MeasurementError, match=r"dropout: expected a number >= 0 and < 1; found 1.5"):
        recipe({"r": {**tables["r"], "dropout": 1.5}}, "r", task("glue/sst2"))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "distilbert"}), encoding="utf-8")
    assert dropout_overrides(tmp_path, 0.2) == {"dropout": 0.2, "attention_dropout": 0.2}


def test_fixed_and_empirical_workloads_and_their_length_check(tmp_path: Path) -> None:
    from harness.measure.kinds.latency import synthetic_lengths

    assert synthetic_lengths({"distribution": "fixed", "length": 128}, 3) == [128, 128, 128]
    assert synthetic_lengths({"distribution": "empirical", "lengths": [5, 9]}, 5) == [5, 9, 5, 9, 5]
    workloads = {
        "fixed8": {"synthetic_lengths": {"distribution": "fixed", "length": 8}},
        "fixed9": {"synthetic_lengths": {"distribution": "fixed", "length": 9}},
        "bad": {"synthetic_lengths": {"distribution": "empirical", "lengths": []}},
    }
    for table in workloads.values():  # max_length (default 512) must fit the 8 positions too
        table.update(examples=4, batch_size=1, max_length=8)
    records = [
        claim(f"speed.{w}", 2.0, measure={"kind": "speedup", "model": "small", "baseline": "m", "workload": w})
        for w in workloads
    ]
    models = {"m": spec(TINY), "small": spec({**TINY, "num_hidden_layers": 1})}
    path = tmp_path / "claims" / "toy.toml"
    path.parent.mkdir(parents=True)
    path.write_text(claims_toml(*records, header={**HEADER, "models": models, "workloads": workloads}))
    found = errors(load(path))
    assert set(found) == {"speed.fixed9", "speed.bad"}
    assert found["speed.fixed9"].field == "workloads.fixed9.synthetic_lengths.length"
    assert "at most the 8 positions of [models.small]" in found["speed.fixed9"].expected
    assert found["speed.bad"].field == "workloads.bad.synthetic_lengths.lengths"


def test_the_check_command_reports_invalid_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    path = tmp_path / "toy.toml"
    path.write_text(
        claims_toml(params("p", "typo"), header={**HEADER, "models": {"typo": spec({**TINY, "hiden_size": 8})}})
    )
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID <models.typo>" in out and "Did you mean 'hidden_size'" in out
    assert out.strip().endswith(f"{path}: 0 valid claims, 2 invalid records")
    good = tmp_path / "good.toml"
    good.write_text(claims_toml(params("p", "m"), header={**HEADER, "models": {"m": spec(TINY)}}))
    assert main(["check", str(good)]) == 0
