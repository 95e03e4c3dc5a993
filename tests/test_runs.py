"""Runs never lose or overwrite a run: per-run directories, ``latest``, partial runs, output paths checked first,
and session-level crashes (skip markers, pytest-benchmark and pytest-xdist options, ``--lf``) that must not
become INTERNALERROR."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from claimsfile import FIXED_KIND, claim, fixed, write

from harness.cli import main
from harness.report.runs import describe_partial, latest_dir, new_run_dir, point_latest, resolve_results
from harness.spec.locate import record_line

pytestmark = pytest.mark.fast

TWO = (claim("v.one", value=1.0, measure=fixed(1.0)), claim("v.two", value=1.0, measure=fixed(1.1)))


def _latest(p: pytest.Pytester, out: str = "out") -> dict:
    return json.loads((p.path / out / "latest" / "results.json").read_text())


def _runs(p: pytest.Pytester, out: str = "out") -> list[Path]:
    return sorted(d for d in (p.path / out).iterdir() if d.is_dir() and not d.is_symlink())


# ---------------------------------------------------------------- the layout (unit)


def test_run_directories_are_timestamped_numbered_and_never_reused(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 1, 11, 5, 9, tzinfo=dt.UTC)
    first, second, third = (new_run_dir(tmp_path / "out", now) for _ in range(3))
    assert [d.name for d in (first, second, third)] == ["20261201T110509Z", "20261201T110509Z-1", "20261201T110509Z-2"]
    point_latest(tmp_path / "out", first)
    point_latest(tmp_path / "out", second)  # replaced, not overwritten through
    latest = tmp_path / "out" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "20261201T110509Z-1"  # relative
    assert latest_dir(tmp_path / "out") == latest and first.is_dir()
    (second / "results.json").write_text("{}")
    assert resolve_results(tmp_path / "out") == latest / "results.json"
    assert resolve_results(second) == second / "results.json"
    with pytest.raises(FileNotFoundError, match="without results.json"):
        resolve_results(third)


def test_latest_is_a_text_file_where_symlinks_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("symlinks not supported")

    run = new_run_dir(tmp_path, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    (run / "results.json").write_text("{}")
    monkeypatch.setattr(os, "symlink", refuse)
    point_latest(tmp_path, run)
    assert (tmp_path / "latest").read_text() == "20260102T030405Z\n"
    assert resolve_results(tmp_path / "latest") == run / "results.json"
    assert resolve_results(tmp_path) == run / "results.json"


def test_a_record_is_located_at_its_claims_header() -> None:
    text = '[source]\nkey = "x"\n\n[[claims]]\nid = "a.one"\nvalue = 1\n\n[[claims]]\n# note\nid = \'a.two\'  # c\n'
    assert record_line(text, "a.one") == 3
    assert record_line(text, "a.two") == 7
    assert record_line(text, "a.on") is None


# ---------------------------------------------------------------- per-run directories end to end


def test_each_run_has_its_own_directory_and_latest_points_at_the_newest(project: pytest.Pytester) -> None:
    write(project, *TWO)
    project.runpytest("-m", "claims", "--claims-out=out").assert_outcomes(passed=2)
    first = _latest(project)
    run = project.runpytest("-m", "claims", "--claims-out=out", "-k", "one")
    run.assert_outcomes(passed=1)
    dirs = _runs(project)
    assert len(dirs) == 2 and all((d / "results.json").is_file() and (d / "report.html").is_file() for d in dirs)
    assert json.loads((dirs[0] / "results.json").read_text()) == first  # the full run is untouched
    assert first["run"]["partial"] is False and first["run"]["selection"]["collected"] == 2
    assert first["run"]["id"] == dirs[0].name and first["run"]["started"] <= first["run"]["finished"]
    second = _latest(project)
    assert second["run"]["id"] == dirs[1].name != dirs[0].name
    assert second["run"]["partial"] is True
    selection = second["run"]["selection"]
    assert selection["args"][:5] == ["-m", "claims", "--claims-out=out", "-k", "one"]  # pytester adds --basetemp
    assert {k: v for k, v in selection.items() if k != "args"} == {
        "keywords": "one",
        "markers": "claims",
        "lf": False,
        "node_ids": [],
        "collected": 2,
        "selected": 1,
        "deselected": ["claims/toy.toml::v.two"],
    }
    run.stdout.fnmatch_lines(["*PARTIAL RUN: 1 of 2 claims; selected by -k 'one'*", "*claims latest: out/latest*"])
    html = (dirs[1] / "report.html").read_text()
    assert "<title>Claims report: PARTIAL RUN: 1 of 2 claims" in html and 'class="banner partial"' in html
    assert "PARTIAL RUN" not in (dirs[0] / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "how"),
    [
        (["claims/toy.toml::v.two"], "node id claims/toy.toml::v.two"),
        (["-m", "claims and not speed"], "-m 'claims and not speed'"),
        (["-x"], "interrupted"),
        (["--deselect", "claims/toy.toml::v.one"], "1 claims deselected"),
    ],
)
def test_a_subset_run_is_partial(project: pytest.Pytester, args: list[str], how: str) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(9.0)), claim("v.two", value=1.0, measure=fixed(1.0)))
    run = project.runpytest("--claims-out=out", *args)
    data = _latest(project)
    assert data["run"]["partial"] is True, data["run"]
    assert how in describe_partial(data["run"])
    run.stdout.fnmatch_lines(["*PARTIAL RUN: *"])


def test_a_keyboard_interrupt_keeps_what_was_measured_and_marks_the_run(project: pytest.Pytester) -> None:
    project.makeconftest(
        FIXED_KIND
        + """
if "interrupt" not in KINDS:
    @register("interrupt")
    def interrupt(claim, context):
        raise KeyboardInterrupt
"""
    )
    write(project, claim("v.a", value=1.0, measure=fixed(1.0)), claim("v.b", value=1.0, measure={"kind": "interrupt"}))
    run = project.runpytest("-m", "claims", "--claims-out=out", no_reraise_ctrlc=True)
    assert run.ret == pytest.ExitCode.INTERRUPTED
    data = _latest(project)
    assert data["run"]["interrupted"] is True and data["run"]["partial"] is True
    assert [r["id"] for r in data["results"]] == ["v.a"]
    run.stdout.fnmatch_lines(["*PARTIAL RUN: 2 of 2 claims; interrupted (Ctrl-C*"])


def test_a_run_that_selects_no_claim_writes_nothing(project: pytest.Pytester) -> None:
    write(project, *TWO)
    project.makepyfile(test_own="def test_x():\n    assert True\n")
    project.runpytest("test_own.py", "--claims-out=out").assert_outcomes(passed=1)
    assert not (project.path / "out").exists()


def test_the_cli_reads_a_run_directory_or_latest(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, *TWO)
    project.runpytest("-m", "claims", "--claims-out=out")
    out = project.path / "out"
    assert main(["report", str(out / "latest"), "-o", str(project.path / "a.html")]) == 0
    assert main(["report", str(out), "-o", str(project.path / "b.html")]) == 0
    assert main(["diff", str(out), str(out / "latest")]) == 0
    assert "0 differences" in capsys.readouterr().out


# ---------------------------------------------------------------- output paths, checked before measuring


def test_output_paths_are_checked_before_anything_is_measured(project: pytest.Pytester) -> None:
    project.makeconftest(
        FIXED_KIND + "\n\ndef pytest_sessionstart(session):\n    raise SystemExit('measured before the check')\n"
    )
    write(project, *TWO)
    (project.path / "a-file").write_text("x")
    cases = {
        "--claims-out=a-file": "*--claims-out=a-file: *it is an existing file, not a directory*Fix: *",
        "--claims-out=a-file/sub": "*--claims-out=a-file/sub: *is under *a-file, which is an existing file*",
        "--benchmark-json=no-such-dir/b.json": "*--benchmark-json=no-such-dir/b.json: *does not exist*Fix: *",
        "--benchmark-json=claims": "*--benchmark-json=claims: *it is a directory*",
    }
    for option, message in cases.items():
        run = project.runpytest("-m", "claims", option)
        assert run.ret == pytest.ExitCode.USAGE_ERROR, option
        run.stderr.fnmatch_lines([message])
        assert "measured before the check" not in run.stdout.str() + run.stderr.str()


def test_report_refuses_to_write_over_a_results_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results.json"
    text = json.dumps({"schema": 1, "results": []})
    results.write_text(text)
    other = tmp_path / "other.json"
    other.write_text(text)
    for target in (results, other):
        assert main(["report", str(results), "-o", str(target)]) == 2
        assert "refusing to write the report over" in capsys.readouterr().err
        assert target.read_text() == text


# ---------------------------------------------------------------- session crashes: markers and plugins


def test_skip_markers_on_claim_items_are_not_internal_errors(project: pytest.Pytester) -> None:
    project.makeconftest(
        FIXED_KIND
        + """
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "v.one":
            item.add_marker(pytest.mark.skip(reason="not today"))
        if item.name == "v.two":
            item.add_marker(pytest.mark.skipif(True, reason="never here"))
        if item.name == "v.three":
            item.add_marker(pytest.mark.xfail(reason="expected"))
"""
    )
    write(project, *TWO, claim("v.three", value=1.0, measure=fixed(9.0)))
    run = project.runpytest("-m", "claims", "--claims-out=out", "-rsx")
    assert "INTERNALERROR" not in run.stdout.str() + run.stderr.str()
    run.assert_outcomes(skipped=2, xfailed=1)
    line = (
        1
        + next(
            i
            for i, text in enumerate((project.path / "claims/toy.toml").read_text().splitlines())
            if text == 'id = "v.two"'
        )
        - 1
    )  # the [[claims]] header above it, 1-based
    run.stdout.fnmatch_lines(["PARTIAL RUN: 3 of 3 claims; 2 selected claims not measured*"])
    # claim items are left out of -ra's lines (their verdicts are listed once); their location is still the record's
    reports = project.inline_run("-m", "claims", "--claims-out=out2").getreports("pytest_runtest_logreport")
    assert {r.location[1] + 1 for r in reports if r.nodeid.endswith("v.two")} == {line}
    verdicts = {r["id"]: (r["verdict"], r["reason"]) for r in _latest(project)["results"]}
    assert verdicts["v.one"] == ("NOT_RUN", "skipped before it was measured: not today")
    assert verdicts["v.two"][0] == "NOT_RUN" and verdicts["v.three"][0] == "NOT_REPRODUCED"


@pytest.mark.parametrize("option", ["--benchmark-only", "--benchmark-skip", "--lf"])
def test_benchmark_and_last_failed_options_are_not_internal_errors(project: pytest.Pytester, option: str) -> None:
    write(project, *TWO)
    run = project.runpytest("-m", "claims", "--claims-out=out", option)
    assert "INTERNALERROR" not in run.stdout.str() + run.stderr.str()
    assert run.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    data = _latest(project)
    assert len(data["results"]) == 2
    if option == "--benchmark-only":
        assert {r["verdict"] for r in data["results"]} == {"NOT_RUN"} and data["run"]["partial"] is True
    if option == "--lf":
        assert data["run"]["selection"]["lf"] is True and data["run"]["partial"] is True


def test_claim_items_report_the_line_of_their_record(project: pytest.Pytester) -> None:
    path = write(project, *TWO)
    lines = path.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.strip() == 'id = "v.two"')
    while lines[header].strip() != "[[claims]]":
        header -= 1
    run = project.runpytest("-m", "claims", "--claims-out=out", "--co", "-q")
    assert run.ret == 0
    items = project.getitems(path)
    two = next(i for i in items if i.name == "v.two")
    assert two.reportinfo()[1] == header and two.location[1] == header


def test_dist_each_counts_each_claim_once(project: pytest.Pytester) -> None:
    write(project, *TWO)
    run = project.runpytest_subprocess("-m", "claims", "-n", "2", "--dist", "each", "--claims-out=out")
    assert "INTERNALERROR" not in run.stdout.str()
    data = _latest(project)
    assert sorted(r["id"] for r in data["results"]) == ["v.one", "v.two"]
    assert data["summary"]["REPRODUCED"] == 2
    assert data["run"]["selection"]["collected"] == 2 and data["run"]["partial"] is False
