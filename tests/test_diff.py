"""``harness diff``: verdict changes, values that moved beyond the tolerance, claims edited between runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from claimsfile import claim, fixed, write

from harness.cli import main
from harness.report.diff import diff, text_lines
from harness.verdict import ClaimResult

pytestmark = pytest.mark.fast


def test_a_tolerance_loosened_between_two_runs_is_shown(
    project: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    tight = {"kind": "absolute", "value": 0.5, "rationale": "set before the run"}
    loose = {"kind": "absolute", "value": 2.5, "rationale": "widened after seeing the result"}
    write(
        project,
        claim("c.edited", value=1.0, tolerance=tight, measure=fixed(3.0)),
        claim("c.stable", value=1.0, measure=fixed(1.1)),
    )
    project.runpytest("-m", "claims", "--claims-out=old")
    write(
        project,
        claim("c.edited", value=1.0, tolerance=loose, measure=fixed(3.0)),
        claim("c.stable", value=1.0, measure=fixed(1.2)),
    )
    project.runpytest("-m", "claims", "--claims-out=new")
    capsys.readouterr()

    code = main(
        [
            "diff",
            str(project.path / "old" / "latest" / "results.json"),
            str(project.path / "new" / "latest" / "results.json"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "claims/toy.toml: content changed between the runs: sha256" in out
    assert (
        "c.edited: tolerance absolute 0.5 -> absolute 2.5, band [0.5, 1.5] -> [-1.5, 3.5]: LOOSENED; "
        "rationale 'set before the run' -> 'widened after seeing the result' "
        "[claims/toy.toml changed between the runs]"
    ) in out
    assert "c.edited: NOT_REPRODUCED -> REPRODUCED" in out
    # 1.1 -> 1.2 is within the 0.5 tolerance: mentioned, not a difference
    assert "1 measured values moved within their tolerance (not differences): c.stable" in out
    assert "c.stable:" not in out.split("moved within")[0]
    assert out.strip().endswith("3 differences; 1 claims unchanged.")


def test_the_same_run_twice_has_no_differences(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    write(project, claim("c.one", value=1.0, measure=fixed(1.0)), claim("c.two", value=1.0))
    project.runpytest("-m", "claims", "--claims-out=out")
    capsys.readouterr()
    path = str(project.path / "out" / "latest" / "results.json")
    assert main(["diff", path, path]) == 0
    assert "0 differences; 2 claims unchanged." in capsys.readouterr().out


def results_file(*results: ClaimResult, sha: str = "a" * 64, command: str = "pytest -m claims") -> dict[str, Any]:
    return {
        "schema": 1,
        "command": command,
        "environment": {"cpu_model": "X", "versions": {"torch": "2.0"}},
        "claims_files": {"c.toml": {"sha256": sha, "commit": "c0ffee", "dirty": False}},
        "results": [r.to_dict() for r in results],
    }


def r(
    claim_id: str,
    measured: float | None,
    verdict: str = "REPRODUCED",
    band: tuple[float, float] = (9.0, 11.0),
    **extra: Any,
) -> ClaimResult:
    return ClaimResult(
        id=claim_id,
        nodeid=f"c.toml::{claim_id}",
        verdict=verdict,
        reason="because",
        unit="ratio",
        claimed=10.0,
        band=band,
        tolerance=extra.pop("tolerance", {"kind": "absolute", "value": 1.0}),
        measured=measured,
        claims_file="c.toml",
        **extra,
    )


def test_values_are_compared_against_the_tolerance_width() -> None:
    old = results_file(r("a", 10.0), r("b", 10.0), r("c", None, "NOT_RUN"))
    new = results_file(r("a", 10.9), r("b", 8.0, "NOT_REPRODUCED"), r("c", 10.2))
    d = diff(old, new)
    texts = {(c.kind, c.id): c.text for c in d.changes}
    assert ("value", "a") not in texts and d.within_tolerance == ("a",)
    assert texts[("value", "b")] == "measured 10 ratio -> 8 ratio (-2 ratio, -2.00 tolerance widths)"
    assert texts[("value", "c")] == "measured - -> 10.2 ratio"
    assert texts[("verdict", "b")] == "REPRODUCED -> NOT_REPRODUCED: because"
    assert d.differs and d.context == ()


def test_tightened_moved_and_edited_claims_and_added_or_removed_ones() -> None:
    old = results_file(r("t", 10.0), r("m", 10.0), r("v", 10.0), r("gone", 10.0))
    new = results_file(
        r("t", 10.0, band=(9.5, 10.5), tolerance={"kind": "absolute", "value": 0.5}),
        r("m", 10.0, band=(10.0, 12.0)),
        attrs.evolve(r("v", 10.0), claimed=10.5, conditions_claimed={"device": "cpu"}),
        r("new", 10.0),
        sha="b" * 64,
        command="pytest -m claims -k x",
    )
    d = diff(old, new)
    texts = [f"{c.kind} {c.id}: {c.text}" for c in d.changes]
    assert texts[0].startswith(
        "claims_file c.toml: content changed between the runs: sha256 aaaaaaaaaaaa -> bbbbbbbbbbbb"
    )
    assert any(t.startswith("claim t: tolerance absolute 1.0 -> absolute 0.5") and ": tightened" in t for t in texts)
    moved = "claim m: tolerance absolute 1.0 -> absolute 1.0, band [9, 11] -> [10, 12]: moved"
    assert any(t.startswith(moved) for t in texts)
    assert "claim v: claimed value 10.0 -> 10.5 [c.toml changed between the runs]" in texts
    assert "claim v: conditions {} -> {'device': 'cpu'} [c.toml changed between the runs]" in texts
    assert "added new: new claim: REPRODUCED" in texts
    assert "removed gone: no longer in the run (was REPRODUCED)" in texts
    assert d.context == ("command: 'pytest -m claims' -> 'pytest -m claims -k x'",)
    lines = text_lines(d)
    assert lines[-1] == "7 differences; 0 claims unchanged."
    assert "Context (not counted as differences):" in lines


def test_evidence_moving_from_smoke_to_real_is_a_difference() -> None:
    old = results_file(r("a", 10.0, smoke=True, evidence={"path": "tiny model", "smoke": True}))
    new = results_file(r("a", 10.0, evidence={"path": "real checkpoint", "smoke": False}))
    changes = [(c.kind, c.text) for c in diff(old, new).changes]
    assert changes == [("evidence", "smoke -> real evidence (real checkpoint)")]


def test_diff_of_a_missing_file_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "results.json"
    good.write_text(json.dumps(results_file(r("a", 1.0))), encoding="utf-8")
    assert main(["diff", str(good), str(tmp_path / "missing.json")]) == 2
    assert "missing.json: not a readable results file" in capsys.readouterr().err
