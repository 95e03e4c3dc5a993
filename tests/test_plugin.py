"""Whole pytest sessions through the plugin (pytester): collection, markers, outcomes, results, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from claimsfile import TINY_PARAMETERS, claim, fixed, results, write

pytestmark = pytest.mark.fast


def test_every_verdict_maps_to_its_pytest_outcome(project: pytest.Pytester) -> None:
    write(
        project,
        claim("v.reproduced", value=1.0, measure=fixed(1.2)),
        claim("v.not_reproduced", value=1.0, measure=fixed(2.0)),
        claim("v.inconclusive", value=1.0, measure=fixed(1.4, low=1.3, high=1.7)),
        claim(
            "v.not_comparable",
            value=1.0,
            conditions={"device": "cpu"},
            comparable_on=["device"],
            measure=fixed(1.0, conditions={"device": "cuda"}),
        ),
        claim("v.not_run", value=1.0),
        claim("v.part", value=2.0, measure=fixed(2.0)),
        claim("v.inconsistent", value=5.0, formula="v.part * 2", measure=fixed(5.0)),
    )
    run = project.runpytest("-m", "claims", "--claims-out=out", "-rA")
    run.assert_outcomes(passed=2, failed=1, skipped=2, xfailed=2)
    run.stdout.fnmatch_lines(
        [
            "*NOT_REPRODUCED: v.not_reproduced*",
            "*why: measured 2 is outside the band [[]0.5, 1.5]*",
            "*rerun: pytest claims/toy.toml::v.not_reproduced*",
            "*claims results: *results.json",
        ]
    )
    verdicts = {cid: r["verdict"] for cid, r in results(project).items()}
    assert verdicts == {
        "v.reproduced": "REPRODUCED",
        "v.not_reproduced": "NOT_REPRODUCED",
        "v.inconclusive": "INCONCLUSIVE",
        "v.not_comparable": "NOT_COMPARABLE",
        "v.not_run": "NOT_RUN",
        "v.part": "REPRODUCED",
        "v.inconsistent": "INCONSISTENT",
    }


def test_strict_makes_inconclusive_fail(project: pytest.Pytester) -> None:
    write(project, claim("v.inconclusive", value=1.0, measure=fixed(1.4, low=1.3, high=1.7)))
    project.runpytest("-m", "claims").assert_outcomes(xfailed=1)
    project.runpytest("-m", "claims", "--claims-strict").assert_outcomes(failed=1)


def test_not_run_says_what_to_supply_and_not_comparable_shows_the_numbers(project: pytest.Pytester) -> None:
    write(
        project,
        claim(
            "v.not_run",
            value=1.0,
            measure={"kind": "not_measurable", "requires": "a phone", "remedy": "run it on the phone"},
        ),
        claim(
            "v.other",
            value=1.0,
            conditions={"device": "cpu"},
            comparable_on=["device"],
            measure=fixed(3.5, conditions={"device": "cuda"}),
        ),
    )
    run = project.runpytest("-m", "claims", "-v", "--claims-out=out")
    run.stdout.fnmatch_lines(["*needs a phone*", "*to run it: run it on the phone*"])
    r = results(project)
    assert r["v.not_run"]["remedy"] == "run it on the phone"
    assert r["v.other"]["measured"] == 3.5 and r["v.other"]["conditions_differing"] == ["device"]


def test_results_file_has_what_a_reviewer_needs(project: pytest.Pytester) -> None:
    write(
        project, claim("v.reproduced", value=1.0, measure=fixed(1.2, low=1.1, high=1.3), conditions={"device": "cpu"})
    )
    project.runpytest("-m", "claims", "--claims-out=out").assert_outcomes(passed=1)
    data = json.loads((project.path / "out" / "latest" / "results.json").read_text())
    (r,) = data["results"]
    assert r["claimed"] == 1.0 and r["measured"] == 1.2 and r["interval"] == [1.1, 1.3] and r["unit"] == "ratio"
    assert r["provenance"]["quote"] == "the quote of v.reproduced" and r["provenance"]["version"] == "v1"
    assert r["conditions_claimed"] == {"device": "cpu"}
    assert r["reproduce"] == "pytest claims/toy.toml::v.reproduced"
    assert r["smoke"] is True and "SMOKE" in r["reason"]
    assert data["summary"]["REPRODUCED"] == 1
    assert data["environment"]["python"] and data["environment"]["versions"]["pytest"]
    assert set(data["claims_files"]) == {"claims/toy.toml"}
    assert len(data["claims_files"]["claims/toy.toml"]["sha256"]) == 64


def test_a_bad_record_is_its_own_failing_item_and_the_others_run(project: pytest.Pytester) -> None:
    write(
        project,
        claim("v.good", value=1.0, measure=fixed(1.0)),
        claim("v.bad", value="one"),
        claim("v.also_good", value=2.0, measure=fixed(2.0)),
    )
    run = project.runpytest("-m", "claims")
    run.assert_outcomes(passed=2, failed=1)
    run.stdout.fnmatch_lines(
        ["*claims/toy.toml: claim 'v.bad': field 'value': expected a number; found a string 'one'*"]
    )
    assert "Traceback" not in run.stdout.str()


def test_a_file_that_is_not_toml_is_one_failing_item(project: pytest.Pytester) -> None:
    (project.path / "claims").mkdir()
    (project.path / "claims" / "broken.toml").write_text("schema_version = 1\n[source\nkey = 1\n")
    write(project, claim("v.good", value=1.0, measure=fixed(1.0)))
    run = project.runpytest("-m", "claims")
    run.assert_outcomes(passed=1, failed=1)
    run.stdout.fnmatch_lines(["*claims/broken.toml: expected valid TOML; found a syntax error*"])


def test_the_plugin_registers_its_own_markers_and_not_the_projects(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    project.makepyfile(test_own="import pytest\n\n@pytest.mark.speed\ndef test_x():\n    assert True\n")
    project.runpytest("-m", "speed").assert_outcomes(passed=1)
    project.runpytest("-m", "claims").assert_outcomes(passed=1)
    markers = project.runpytest("--markers").stdout.str()
    for name in ("claims:", "speed:", "task:"):
        assert f"@pytest.mark.{name}" in markers
    for name in ("fast:", "slow:", "gpu:"):  # this repository's markers (pyproject.toml), not the plug-in's
        assert f"@pytest.mark.{name}" not in markers
    run = project.runpytest("-m", "fast")
    assert run.ret == pytest.ExitCode.USAGE_ERROR and "Unknown marker" in run.stderr.str()


def test_parameter_counts_are_measured_from_the_config(project: pytest.Pytester) -> None:
    write(
        project,
        claim(
            "params.tiny",
            value=TINY_PARAMETERS / 1e3,
            unit="million parameters",
            precision=0.001,
            tolerance={"kind": "precision", "rationale": "exact"},
            measure={"kind": "parameter_count", "model": "tiny"},
        ),
    )
    # the claim says thousands where the unit is millions: 1000x off, so it must not reproduce
    project.runpytest("-m", "claims", "--claims-out=out").assert_outcomes(failed=1)
    r = results(project)["params.tiny"]
    assert r["measured"] == pytest.approx(TINY_PARAMETERS / 1e6)
    assert "claims file [models.tiny.config]" in r["evidence"]["config"]


def test_bad_options_are_usage_errors(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    run = project.runpytest("--claims-speed-profile=fastest")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*--claims-speed-profile 'fastest': expected one of quick, full*"])


def test_results_are_gathered_from_xdist_workers(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)), claim("v.two", value=1.0, measure=fixed(3.0)))
    run = project.runpytest_subprocess("-m", "claims", "-n", "2", "--claims-out=out")
    run.assert_outcomes(passed=1, failed=1)
    assert {r: v["verdict"] for r, v in results(project).items()} == {"v.one": "REPRODUCED", "v.two": "NOT_REPRODUCED"}


def test_importing_the_plugin_imports_no_heavy_library() -> None:
    heavy = ("torch", "transformers", "datasets", "numpy")
    code = f"import harness.plugin, sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def paper_identifiers() -> dict[str, str]:
    """What would tie harness/ to one paper: each shipped claims or replication file's source (key, title,
    reference), its claim ids and its checkpoints' hub ids. Architecture names (a BERT-family layer layout) are
    not a paper: the ML layer may name them."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    found: dict[str, str] = {}
    for path in [*sorted((root / "claims").glob("*.toml")), *sorted((root / "replications").glob("*.toml"))]:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        source = data.get("source") or data.get("report") or {}
        for key in ("title", "reference"):  # the key is the file stem, often an architecture name
            if isinstance(source.get(key), str) and len(source[key]) > 6:
                found[source[key]] = f"{path.name}: source {key}"
        for record in data.get("claims", []):
            if "." in str(record.get("id", "")):
                found[record["id"]] = f"{path.name}: claim id"
        for model in (data.get("models") or {}).values():  # model names are often architecture names: not listed
            hub_ids = [model.get("hub_id")] + [
                v if isinstance(v, str) else (v or {}).get("hub_id") for v in (model.get("finetuned") or {}).values()
            ]
            for hub_id in hub_ids:
                if isinstance(hub_id, str) and "-" in hub_id:
                    found[hub_id] = f"{path.name}: hub id"
    return found


def test_nothing_in_the_package_names_a_paper() -> None:
    package = Path(__file__).resolve().parents[1] / "harness"
    identifiers = paper_identifiers()
    assert "1910.01108" in " ".join(identifiers) and "params.bert_base" in identifiers  # the check sees the paper
    offenders = []
    for p in package.rglob("*"):
        if p.is_file() and p.suffix in (".py", ".j2", ".html", ".toml", ".json"):
            text = p.read_text(encoding="utf-8")
            offenders += [f"{p.relative_to(package)}: {i!r} ({why})" for i, why in identifiers.items() if i in text]
    assert offenders == []


def test_a_session_without_xdist_runs(project: pytest.Pytester) -> None:
    """README tells speed users to rerun with ``-p no:xdist``: the plugin's xdist hook must then be optional,
    not an INTERNALERROR ("unknown hook 'pytest_testnodedown'")."""
    write(project, claim("v.reproduced", value=1.0, measure=fixed(1.0)))
    run = project.runpytest("-m", "claims", "-p", "no:xdist", "--claims-out=out")
    assert "INTERNALERROR" not in run.stdout.str() + run.stderr.str()
    run.assert_outcomes(passed=1)
