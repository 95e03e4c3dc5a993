"""Whatever fails at run time is the claim's ERROR, never a traceback, a lost claim or a verdict.

Classes: (1) a measurement raising any exception (through the real kinds where possible: models, recipes,
data, the fine-tuning cache; and a conftest kind raising each built-in exception type); (2) numbers that
cannot be judged (NaN, infinity, lo > hi, a division by a component measured as 0, a consistency check
whose division spans zero, 0 epochs); (3) tolerances that accept anything, rejected at load time. The
tiny models here are evidence about the machinery only.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import tiny  # first: it imports what the in-process pytester runs below must not import twice
from claimsfile import FIXED_KIND, HEADER, TINY_PARAMETERS, claim, claims_toml, fixed, write

from harness.core.errors import MeasurementError
from harness.ml.finetune_cache import MANIFEST
from harness.spec import load

pytestmark = pytest.mark.fast

RAISING_KIND = """
if "raising" not in KINDS:
    import builtins

    @register("raising", required=("exception",))
    def raising(claim, context):
        raise getattr(builtins, claim.measure.params["exception"])("planted by the test")
"""


def _latest(p: pytest.Pytester, out: str = "out") -> dict[str, Any]:
    return json.loads((p.path / out / "latest" / "results.json").read_text())


def _by_id(p: pytest.Pytester, out: str = "out") -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in _latest(p, out)["results"]}


def _no_traceback(run: pytest.RunResult) -> None:
    text = run.stdout.str() + run.stderr.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text, text[-3000:]


# ---------------------------------------------------------------- class 1: any exception is an ERROR


@pytest.mark.parametrize(
    "exception", ["KeyError", "ValueError", "RuntimeError", "TypeError", "ZeroDivisionError", "AttributeError"]
)
def test_any_exception_from_a_measurement_is_an_error_record(project: pytest.Pytester, exception: str) -> None:
    project.makeconftest(FIXED_KIND + RAISING_KIND)
    write(
        project,
        claim("v.good", measure=fixed(1.0)),
        claim("v.crash", measure={"kind": "raising", "exception": exception}),
    )
    run = project.runpytest("-m", "claims", "--claims-out=out")
    run.assert_outcomes(passed=1, failed=1)
    _no_traceback(run)
    r = _by_id(project)["v.crash"]
    assert r["verdict"] == "ERROR"
    assert r["reason"].startswith(f"claim 'v.crash': the measurement failed while measuring: {exception}: ")
    assert "planted by the test" in r["reason"]
    assert r["details"]["exception"] == exception and "Traceback" in r["details"]["traceback"]
    run.stdout.fnmatch_lines(["*1 REPRODUCED*1 ERROR*"])
    assert "v.crash" in (project.path / "out" / "latest" / "report.html").read_text()


def _model_claim(config: dict[str, Any] | None = None, **model: Any) -> str:
    header = json.loads(json.dumps(HEADER))
    header["models"]["tiny"].update(model)
    header["models"]["tiny"]["config"].update(config or {})
    record = claim(
        "params.tiny",
        value=TINY_PARAMETERS,
        unit="parameters",
        precision=1,
        tolerance={"kind": "relative", "value": 0.01, "rationale": "exact"},
        measure={"kind": "parameter_count", "model": "tiny"},
    )
    return claims_toml(record, header=header)


@pytest.mark.parametrize(
    ("model", "config", "found"),
    [
        ({}, {"model_type": "no_such_model_type"}, "no_such_model_type"),
        ({"auto_class": "AutoTokenizer"}, {}, "AutoTokenizer"),
        ({}, {"hidden_size": "big"}, "hidden_size"),
        ({}, {"num_attention_heads": 3}, "3"),
    ],
)
def test_a_model_or_config_that_cannot_be_built_is_an_error(
    project: pytest.Pytester, model: dict[str, Any], config: dict[str, Any], found: str
) -> None:
    (project.path / "claims").mkdir()
    (project.path / "claims" / "toy.toml").write_text(_model_claim(config, **model))
    run = project.runpytest("-m", "claims", "--claims-out=out")
    assert run.ret == 1 and run.parseoutcomes().get("failed", 0) >= 1  # the model table's item (and its claim)
    _no_traceback(run)
    # the model table is checked when the file is loaded (issue 10, part B): the record is its own failing
    # item naming the model table and the field; a check that only run time can make ends as an ERROR verdict
    r = _by_id(project)["params.tiny"]
    assert r["verdict"] == "ERROR" and "params.tiny" in r["reason"] and "models.tiny" in r["reason"], r["reason"]
    assert found in run.stdout.str()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("failures")
    return {"models": tiny.write_models(root / "models"), "data": tiny.write_data(root / "data"), "root": root}


def _task_run(p: pytest.Pytester, world: dict[str, Path], claims: str, data: Path, cache: Path) -> pytest.RunResult:
    p.makeini("[pytest]\n")
    (p.path / "claims").mkdir(exist_ok=True)
    (p.path / "claims" / "tiny.toml").write_text(claims, encoding="utf-8")
    return p.runpytest(
        f"--claims-models-dir={world['models']}",
        f"--claims-data-dir={data}",
        f"--claims-cache-dir={cache}",
        "--claims-out=out",
        "--claims-task-evidence=finetune",
        "-p",
        "no:cacheprovider",
    )


def _broken_data(world: dict[str, Path], tmp: Path, edit: str) -> Path:
    data = tmp / "data"
    shutil.copytree(world["data"], data)
    if edit == "stsb n/a":
        for split in ("train", "dev"):
            path = data / "glue" / "STS-B" / f"{split}.tsv"
            lines = path.read_text().splitlines()
            cells = lines[1].split("\t")
            lines[1] = "\t".join([*cells[:-1], "n/a"])
            path.write_text("\n".join(lines) + "\n")
    if edit == "squad without answers":
        for name in ("train-v1.1.json", "dev-v1.1.json"):
            path = data / "squad" / name
            squad = json.loads(path.read_text())
            for article in squad["data"]:
                for paragraph in article["paragraphs"]:
                    for qa in paragraph["qas"]:
                        qa.pop("answers", None)
            path.write_text(json.dumps(squad))
    return data


@pytest.mark.parametrize(
    ("case", "claim_text", "found"),
    [
        ("learning_rate fast", None, "learning_rate"),
        (
            "stsb n/a",
            tiny.claim("t.stsb", "tiny_bert", "glue/stsb", "pearson_spearman_mean", recipe="tiny_single"),
            "n/a",
        ),
        (
            "squad without answers",
            tiny.claim("t.squad", "tiny_bert", "squad_v1", "exact_match", recipe="tiny_squad"),
            "answers",
        ),
    ],
)
def test_task_inputs_that_break_at_run_time_are_errors(
    pytester: pytest.Pytester, world: dict[str, Path], tmp_path: Path, case: str, claim_text: str | None, found: str
) -> None:
    header = tiny.claims_header()
    if case == "learning_rate fast":
        header = tiny.claims_header(recipe={**tiny.RECIPE, "learning_rate": "fast"})
        claim_text = tiny.claim("t.sst2", "tiny_bert", "glue/sst2", "accuracy")
    assert claim_text is not None
    run = _task_run(pytester, world, header + claim_text, _broken_data(world, tmp_path, case), tmp_path / "cache")
    _no_traceback(run)
    run.assert_outcomes(failed=1)
    (r,) = _latest(pytester)["results"]
    assert r["verdict"] == "ERROR" and found in r["reason"], r["reason"]


def test_a_malformed_cache_manifest_is_an_error(
    pytester: pytest.Pytester, world: dict[str, Path], tmp_path: Path
) -> None:
    entry = tiny.finetune_once(tmp_path / "cache", world["models"], world["data"])
    (entry.path / MANIFEST).write_text("[1, 2")  # not JSON
    claims = tiny.claims_header() + tiny.claim("t.sst2", "tiny_bert", "glue/sst2", "accuracy", recipe="tiny_single")
    run = _task_run(pytester, world, claims, world["data"], tmp_path / "cache")
    _no_traceback(run)
    (r,) = _latest(pytester)["results"]
    assert r["verdict"] == "ERROR" and "unreadable manifest" in r["reason"] and "delete it" in r["reason"]


def test_zero_epochs_never_judges_an_untrained_model(tmp_path: Path) -> None:
    from harness.ml.finetune import train_model

    recipe = SimpleNamespace(name="r", epochs=0.0, batch_size=8)
    with pytest.raises(MeasurementError, match="epochs = 0.0 trains nothing"):
        train_model(tmp_path, SimpleNamespace(task=None), recipe, 1, SimpleNamespace(device="cpu"), None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- class 2: numbers that cannot be judged


def test_nan_inf_and_inverted_intervals_are_errors_and_the_report_survives(project: pytest.Pytester) -> None:
    write(
        project,
        claim("n.nan", measure=fixed(math.nan)),
        claim("n.inf", measure=fixed(math.inf)),
        claim("n.nan_interval", measure=fixed(1.0, low=math.nan, high=math.nan)),
        claim("n.inverted", measure=fixed(1.0, low=1.2, high=0.8)),
        claim("n.zero", value=0.01, precision=0.01, measure=fixed(0.0)),  # stated 0.01, measured 0
        claim("n.one", measure=fixed(1.0)),
        claim("n.ratio", value=None, formula="n.one / n.zero", measure=None),
    )
    run = project.runpytest("-m", "claims", "--claims-out=out")
    _no_traceback(run)
    r = _by_id(project)
    why = {
        "n.nan": "not a number",
        "n.inf": "infinite",
        "n.nan_interval": "undefined for this data",
        "n.inverted": "lo > hi",
        "n.ratio": "a division by n.zero, measured as 0",
    }
    for cid, text in why.items():
        assert r[cid]["verdict"] == "ERROR" and text in r[cid]["reason"], (cid, r[cid]["reason"])
        assert r[cid]["deviation"] is None
    run.assert_outcomes(passed=2, failed=5)
    run.stdout.fnmatch_lines(["*5 ERROR*"])
    assert "n.nan_interval" in (project.path / "out" / "latest" / "report.html").read_text()


def test_a_consistency_check_dividing_by_a_span_over_zero_is_an_error(project: pytest.Pytester) -> None:
    write(
        project,
        claim("c.num", value=1.0, measure=fixed(1.0)),
        claim("c.den", value=0.04, precision=0.1, measure=fixed(0.04)),  # stated 0.04: [-0.01, 0.09]
        claim(
            "c.ratio",
            value=25.0,
            formula="c.num / c.den",
            measure=None,
            tolerance={"kind": "absolute", "value": 100.0, "rationale": "t"},
        ),
    )
    run = project.runpytest("-m", "claims", "--claims-out=out")
    _no_traceback(run)
    r = _by_id(project)["c.ratio"]
    assert r["verdict"] == "ERROR" and "cannot be checked" in r["reason"], r["reason"]
    assert "consistent with" not in r["reason"]


# ---------------------------------------------------------------- class 3: tolerances that accept anything


@pytest.mark.parametrize(
    ("value", "tolerance", "expected"),
    [
        (1.0, {"kind": "absolute", "value": 1e300, "rationale": "t"}, "a width at most 1000"),
        (5.0, {"kind": "lower_bound", "value": 1e9, "rationale": "t"}, "a width at most 5000"),
        (
            0.0,
            {"kind": "relative", "value": 0.05, "rationale": "t"},
            "a relative tolerance around a claimed value of 0",
        ),
    ],
)
def test_a_band_that_accepts_anything_is_a_load_error(
    tmp_path: Path, value: float, tolerance: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(claims_toml(claim("t.one", value=value, tolerance=tolerance, measure=fixed(1.0))))
    (bad,) = load(path).invalid
    assert "claim 't.one': field 'tolerance." in str(bad.error) and expected in str(bad.error)
    assert "Fix:" in str(bad.error)


# ---------------------------------------------------------------- done-when: one crash, one NaN, one good


def test_a_crash_a_nan_and_a_good_claim_give_two_errors_three_results_and_a_report(project: pytest.Pytester) -> None:
    project.makeconftest(FIXED_KIND + RAISING_KIND)
    write(
        project,
        claim("d.crash", measure={"kind": "raising", "exception": "RuntimeError"}),
        claim("d.nan", measure=fixed(math.nan)),
        claim("d.good", measure=fixed(1.0)),
    )
    run = project.runpytest("-m", "claims", "--claims-out=out")
    _no_traceback(run)
    run.assert_outcomes(passed=1, failed=2)
    run.stdout.fnmatch_lines(["claims: 1 REPRODUCED, 2 ERROR"])
    data = _latest(project)
    assert sorted(r["id"] for r in data["results"]) == ["d.crash", "d.good", "d.nan"]
    assert data["summary"]["ERROR"] == 2 and data["summary"]["REPRODUCED"] == 1
    html = (project.path / "out" / "latest" / "report.html").read_text()
    assert all(cid in html for cid in ("d.crash", "d.good", "d.nan"))
