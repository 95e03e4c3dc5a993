"""What a reviewer sees: claims-file identity, the short terminal, the headline and NOT_RUN grouping of the
report, run directories and history, progress bars, --version and option values."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from claimsfile import claim, claims_toml, fixed, results, write

from harness.cli import main
from harness.core import progress
from harness.report.html import render_results
from harness.report.missing import missing
from harness.report.overview import overview
from harness.report.runs import new_run_dir, past_runs, point_latest, previous_complete
from harness.report.terminal import terminal_lines
from harness.spec import load
from harness.verdict import ClaimResult

pytestmark = pytest.mark.fast


def not_run(claim_id: str, remedy: str = "r", **needs: str) -> ClaimResult:
    return ClaimResult(
        id=claim_id,
        nodeid=f"c.toml::{claim_id}",
        verdict="NOT_RUN",
        reason=f"needs {remedy}",
        unit="ratio",
        claimed=1.0,
        band=(0.5, 1.5),
        tolerance={"kind": "absolute", "value": 0.5},
        remedy=remedy,
        needs={k.replace("__", " ").replace("_", "/"): v for k, v in needs.items()},
    )


# ---------------------------------------------------------------- collection


def test_only_files_that_identify_themselves_are_collected_and_a_near_miss_says_what_is_missing(
    project: pytest.Pytester,
) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    (project.path / "claims" / "settings.toml").write_text('[database]\nurl = "sqlite://"\n')  # another app's
    near = claims_toml(claim("v.two", value=1.0, measure=fixed(1.0))).replace("schema_version = 1\n", "")
    assert "schema_version" not in near and "[source]" in near
    (project.path / "claims" / "near.toml").write_text(near)
    run = project.runpytest("-m", "claims", "--collect-only", "-q")
    ids = [line for line in run.stdout.lines if "::" in line]
    assert ids == ["claims/near.toml::<file>", "claims/toy.toml::v.one"]
    run = project.runpytest("-m", "claims")
    run.assert_outcomes(passed=1, failed=1)
    run.stdout.fnmatch_lines(
        [
            "*claims/near.toml: field 'schema_version': expected a claims file's header: a top-level "
            "`schema_version = 1` and a [[]source] table; found no schema_version*",
        ]
    )


def test_without_the_plugin_nothing_is_collected(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    run = project.runpytest("-p", "no:claims", "claims")
    assert run.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_headline_field_is_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(claims_toml(claim("a.one", headline=True), claim("a.two"), claim("a.bad", headline="yes")))
    loaded = load(path)
    assert {c.id: c.headline for c in loaded.claims} == {"a.one": True, "a.two": False}
    (bad,) = loaded.invalid
    assert bad.error.field == "headline" and "true or false" in str(bad.error)


def test_the_distilbert_abstract_claims_are_the_headline() -> None:
    loaded = load(Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml")
    assert sorted(c.id for c in loaded.claims if c.headline) == ["glue.retention", "params.reduction", "speed.speedup"]


# ---------------------------------------------------------------- NOT_RUN by what is missing, overview


def test_not_run_claims_are_grouped_by_resource_and_remedy_each_said_once() -> None:
    rows = [
        not_run("t.a_x", checkpoint__base="get base", data__x="get x"),
        not_run("t.a_y", checkpoint__base="get base", data__y="get y"),
        not_run("t.b_x", checkpoint__tuned="get tuned", data__x="get x"),
        not_run("t.mix", checkpoint__base="get base", other__e_one="build e"),  # not runnable by resources alone
        not_run("e.one", "build e"),
        not_run("e.two", "build e"),
        not_run("p.phone", "a phone"),
    ]
    m = missing(rows)
    assert m.headline() == "supply these 2 checkpoints and 2 data sets to run 3 claims"
    assert [(r.kind, r.name, r.how, r.claims) for r in m.resources] == [
        ("checkpoint", "base", "get base", ("t.a_x", "t.a_y")),
        ("checkpoint", "tuned", "get tuned", ("t.b_x",)),
        ("data", "x", "get x", ("t.a_x", "t.b_x")),
        ("data", "y", "get y", ("t.a_y",)),
    ]
    assert [(g.remedy, g.claims) for g in m.groups] == [
        ("build e", ("e.one", "e.two")),
        ("a phone", ("p.phone",)),
        ("r", ("t.mix",)),
    ]
    assert m.total == 7


def test_every_verdict_lands_in_one_overview_column() -> None:
    verdicts = ["REPRODUCED", "NOT_REPRODUCED", "INCONSISTENT", "INCONCLUSIVE", "NOT_COMPARABLE", "ERROR", "NOT_RUN"]
    rows = [ClaimResult(f"c.{v.lower()}", f"n::{v}", v, "r", "ratio", 1.0, None, {}) for v in verdicts]
    columns = {c.title: [r.verdict for r in c.results] for c in overview(rows)}
    assert columns == {
        "Holds": ["REPRODUCED"],
        "Does not hold": ["INCONSISTENT", "NOT_REPRODUCED"],
        "Undecided": ["ERROR", "INCONCLUSIVE", "NOT_COMPARABLE"],
        "Not run": ["NOT_RUN"],
    }


def test_the_report_opens_with_the_headline_cards_then_the_overview_and_what_is_missing() -> None:
    head = ClaimResult(
        "h.size",
        "c.toml::h.size",
        "REPRODUCED",
        "measured 39.4 is inside the band [39, 41]",
        "percent",
        40.0,
        (39.0, 41.0),
        {"kind": "absolute", "value": 1.0},
        measured=39.4,
        interval=(39.1, 39.7),
        provenance={"headline": True, "quote": "40% smaller", "source": "arXiv:1", "version": "v1"},
    )
    data = {
        "schema": 1,
        "command": "pytest",
        "environment": {},
        "claims_files": {},
        "run": {"id": "20260101T000000Z", "partial": False, "harness_version": "9.9", "git": {"commit": "abc"}},
        "results": [head.to_dict(), not_run("t.a", checkpoint__base="get base").to_dict()],
    }
    html = render_results(data, previous_diff="diff-vs-previous.txt")
    sections = [part.split('"', 1)[0] for part in html.split('<section id="')[1:]]
    assert sections[:3] == ["headline", "summary", "not-run"]
    card = html.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    assert "h.size" in card and "40 percent" in card and "39.4 percent" in card and "[39.1, 39.7]" in card
    assert card.count("40% smaller") == 1
    assert "supply these 1 checkpoint to run 1 claim" in html
    assert 'href="diff-vs-previous.txt"' in html and "claims-harness 9.9" in html
    assert 'class="deviations sortable"' in html and 'data-type="num"' in html


def test_an_off_scale_value_is_an_arrow_labelled_with_the_value() -> None:
    far = ClaimResult(
        "s.ratio", "c.toml::s.ratio", "REPRODUCED", "r", "ratio", 1.6, (1.55, float("inf")),
        {"kind": "lower_bound", "value": 0.05}, measured=2.05,
    )  # fmt: skip
    html = render_results({"schema": 1, "results": [far.to_dict()]})
    assert "off scale: 2.05 ratio (+9.0 w) &#8594;" in html


# ---------------------------------------------------------------- terminal


def test_the_terminal_has_one_line_per_claim_grouped_by_verdict_then_the_counts() -> None:
    rows = [
        ClaimResult("b.ok", "f::b.ok", "REPRODUCED", "inside", "ratio", 1.0, (0.5, 1.5), {}, measured=1.1),
        not_run("a.missing", "get it"),
        ClaimResult("c.bad", "f::c.bad", "NOT_REPRODUCED", "outside " * 40, "ratio", 1.0, (0.5, 1.5), {}, measured=3),
    ]
    lines = terminal_lines(rows, width=100)
    assert lines[0].startswith("NOT_REPRODUCED  c.bad: claimed 1 ratio, measured 3 ratio; outside")
    assert len(lines[0]) == 100 and lines[0].endswith("...")
    assert lines[1] == "NOT_RUN         a.missing: claimed 1 ratio; needs get it"
    assert lines[2] == "REPRODUCED      b.ok: claimed 1 ratio, measured 1.1 ratio; inside"
    assert lines[3] == "claims: 1 NOT_REPRODUCED, 1 NOT_RUN, 1 REPRODUCED"
    verbose = terminal_lines(rows, verbose=True)
    assert "to run it: get it" in "\n".join(verbose)


def test_a_session_ends_with_the_counts_and_paths_and_ra_does_not_repeat_the_claims(project: pytest.Pytester) -> None:
    write(project, claim("v.ok", value=1.0, measure=fixed(1.0)), claim("v.missing", value=1.0))
    project.makepyfile(test_own="import pytest\n\ndef test_skipped():\n    pytest.skip('own reason')\n")
    run = project.runpytest("-m", "claims or not claims", "-ra", "--claims-out=out", "claims", "test_own.py")
    text = run.stdout.str()
    assert "SKIPPED [1] test_own.py:4: own reason" in text  # -ra still lists the project's own skips
    assert text.count("v.missing") == 1  # once: its line among the verdicts, not again under -ra
    lines = [line for line in run.stdout.lines if line.strip()]
    tail = [line for line in lines[lines.index("claims: 1 NOT_RUN, 1 REPRODUCED") :] if not line.startswith("PARTIAL")]
    assert tail[1].startswith("claims results: out/2") and tail[2].startswith("claims report: out/2")


# ---------------------------------------------------------------- runs and history


def test_run_directories_are_unique_and_latest_points_at_the_newest(tmp_path: Path) -> None:
    import datetime as dt

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    first, second = new_run_dir(tmp_path, when), new_run_dir(tmp_path, when)
    assert (first.name, second.name) == ("20260102T030405Z", "20260102T030405Z-1")
    point_latest(tmp_path, first)
    point_latest(tmp_path, second)
    assert (tmp_path / "latest").is_symlink() and str((tmp_path / "latest").readlink()) == second.name


def test_two_runs_give_a_history_and_the_second_links_its_diff(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)), claim("v.two", value=1.0, measure=fixed(1.1)))
    project.runpytest("-m", "claims", "--claims-out=out", "-k", "one")  # partial: not a diff baseline
    project.runpytest("-m", "claims", "--claims-out=out")
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)), claim("v.two", value=1.0, measure=fixed(3.0)))
    run = project.runpytest("-m", "claims", "--claims-out=out")
    out = project.path / "out"
    runs = list(past_runs(out))
    assert len(runs) == 3
    newest, middle, oldest = (data["run"] for _, data in runs)
    assert oldest["partial"] is True and len(oldest["selection"]["deselected"]) == 1 and oldest["selection"]["keywords"]
    assert middle["partial"] is False and newest["interrupted"] is False
    assert newest["harness_version"] and "commit" in newest["git"] and newest["started"] <= newest["finished"]
    assert previous_complete(out, runs[0][0])[0] == runs[1][0]  # type: ignore[index]
    diff = (out / "latest" / "diff-vs-previous.txt").read_text()
    assert "v.two: REPRODUCED -> NOT_REPRODUCED" in diff
    assert 'href="diff-vs-previous.txt"' in (out / "latest" / "report.html").read_text()
    run.stdout.fnmatch_lines(["claims diff vs the previous complete run: out/2*/diff-vs-previous.txt"])
    assert not (runs[1][0] / "diff-vs-previous.txt").exists()  # the partial run is no baseline
    capsys.readouterr()
    assert main(["history", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "complete" in lines[0] and "1 NOT_REPRODUCED, 1 REPRODUCED" in lines[0]
    assert "partial" in lines[2] and "-k 'one'" in lines[2]
    assert results(project)["v.two"]["verdict"] == "NOT_REPRODUCED"


# ---------------------------------------------------------------- version, options, progress


def test_version_on_the_command_line_and_in_the_pytest_header(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"claims-harness {__version__}"
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    project.runpytest("-m", "claims").stdout.fnmatch_lines([f"claims-harness {__version__} (claims files from: *"])


def test_a_separate_option_value_that_is_a_path_is_refused_with_the_fix(project: pytest.Pytester) -> None:
    write(project, claim("v.one", value=1.0, measure=fixed(1.0)))
    (project.path / "existing").mkdir()
    run = project.runpytest_subprocess("-m", "claims", "--claims-out", "existing")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "--claims-out existing: write the value with '=': --claims-out=existing" in run.stderr.str()
    project.runpytest("-m", "claims", "--claims-out", "fresh").assert_outcomes(passed=1)  # not a path yet: fine
    assert (project.path / "fresh" / "latest" / "results.json").is_file()


def test_progress_bars_name_the_claim_and_are_silent_when_off() -> None:
    stream = io.StringIO()
    progress.configure(stream)
    try:
        with progress.claim("speed.ratio"), progress.bar(4, "timing a vs b", unit="input") as bar:
            for _ in range(4):
                bar.update(1)
    finally:
        progress.configure(None)
    shown = stream.getvalue()
    assert "speed.ratio: timing a vs b" in shown and "/4 [" in shown and "input" in shown
    with progress.bar(4, "nothing") as quiet:
        quiet.update(4)  # off: a no-op
    assert progress.terminal_stream(quiet=True) is None


def test_a_paired_timing_run_moves_a_bar() -> None:
    from harness.ml.timing import StoppingRule, Timer, paired_run

    stream = io.StringIO()
    progress.configure(stream)
    try:
        paired_run(["a", "b"], lambda k, i: None, list(range(30)), StoppingRule(min_inputs=30), Timer(), 1)
    finally:
        progress.configure(None)
    assert "timing a vs b" in stream.getvalue() and "/30 [" in stream.getvalue()


def test_the_version_command_runs_as_a_module() -> None:
    out = subprocess.run([sys.executable, "-m", "harness", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("claims-harness ")


def test_not_run_claims_that_need_the_same_thing_share_a_line() -> None:
    rows = [
        ClaimResult("r.ok", "f.toml::r.ok", "REPRODUCED", "inside", "ratio", 1.0, (0.5, 1.5), {}, measured=1.0),
        *(not_run(f"glue.m.{t}", checkpoint__base="get base", data__t="get t") for t in ("cola", "sst2")),
        not_run("imdb.m", checkpoint__base="get base", data__imdb="get imdb"),
        not_run("e.one", "build e"),
        not_run("e.two", "build e"),
        not_run("p.phone", "a phone"),
    ]
    rows = [attrs.evolve(r, nodeid=f"claims/x.toml::{r.id}") for r in rows]
    lines = terminal_lines(rows, width=200)
    assert lines == [
        "NOT_RUN         3 claims: python -m harness fetch claims/x.toml (needs 1 checkpoint and 2 data sets)",
        "                glue.m.{cola,sst2}, imdb.m",
        "NOT_RUN         2 claims: needs build e",
        "                e.{one,two}",
        "NOT_RUN         p.phone: claimed 1 ratio; needs a phone",
        "REPRODUCED      r.ok: claimed 1 ratio, measured 1 ratio; inside",
        "not run: claims that need the same thing share a line (-v: every claim, with its remedy)",
        "claims: 6 NOT_RUN, 1 REPRODUCED",
    ]
    verbose = "\n".join(terminal_lines(rows, verbose=True))
    assert verbose.count("NOT_RUN         glue.m.") == 2 and "to run it: build e" in verbose


def test_a_task_claim_that_is_not_run_names_each_missing_checkpoint_and_data_set(tmp_path: Path) -> None:
    """The report and the terminal group NOT_RUN task claims by these needs: the fetch remedy must keep them."""
    from harness.measure.engine import evaluate
    from harness.measure.measurement import Context, Options

    loaded = load(Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml")
    context = Context(loaded, Options(cache_dir=tmp_path, data_source="local", data_dir=tmp_path))
    result = evaluate(loaded.claim("glue.distilbert.cola"), context, "n::glue.distilbert.cola", "rerun")
    assert result.verdict == "NOT_RUN"
    assert sorted(result.needs) == ["checkpoint distilbert-base-uncased", "data glue/cola"]
    assert result.remedy.startswith("python -m harness fetch ")


def test_a_partial_run_says_what_was_selected_and_what_was_left_out() -> None:
    run = {
        "id": "20260101T000000Z",
        "partial": True,
        "selection": {"markers": "claims and not speed", "collected": 69, "selected": 66,
                      "deselected": ["c.toml::speed.a", "c.toml::speed.b", "c.toml::speed.c"]},
    }  # fmt: skip
    html = render_results({"schema": 1, "run": run, "results": []})
    assert "(a selection: 66 of 69 claims selected by -m 'claims and not speed'; 3 deselected: " in html
    assert "c.toml::speed.a, c.toml::speed.b, c.toml::speed.c)" in html
    assert "None claims run" not in html
