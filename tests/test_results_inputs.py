"""The CLI's inputs: results files of the wrong shape (report, diff), what diff reports as its own kinds of
change, and replication files the audit must refuse without a traceback. Hypothesis generates results
files (valid and mutated) and replication files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_audit import number, replication, toy_claims
from test_diff import r, results_file

from harness import spec as claims
from harness.cli import main
from harness.report import audit, replications
from harness.report.diff import diff
from harness.report.replications import ReplicationError
from harness.report.results_schema import MAX_DEPTH, ResultsFileError, check

pytestmark = pytest.mark.fast


def _valid() -> dict[str, Any]:
    return results_file(
        r("a", 10.0, interval=(9.5, 10.5), conditions_measured={"device": "cpu"}, evidence={"path": "p"}),
        r("b", None, verdict="ERROR"),
    )


# ---------------------------------------------------------------- the schema: one message, file and field


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


MUTATIONS = [
    ("a string where a list belongs", lambda d: d.update(results="all good"), "field 'results': expected a list"),
    ("a null result", lambda d: d["results"].__setitem__(1, None), "field 'results[1]': expected a table"),
    ("a list where a table belongs", lambda d: d["results"][0].update(tolerance=[1]), "'results[0].tolerance'"),
    ("a string interval", lambda d: d["results"][0].update(interval="9..10"), "'results[0].interval': expected"),
    ("an interval of three", lambda d: d["results"][0].update(interval=[1, 2, 3]), "'results[0].interval'"),
    ("a missing id", lambda d: d["results"][0].pop("id"), "field 'results[0].id': expected a string; found nothing"),
    ("an unknown verdict", lambda d: d["results"][0].update(verdict="GREAT"), "'results[0].verdict': expected one of"),
    ("a boolean measured", lambda d: d["results"][0].update(measured=True), "'results[0].measured'"),
    ("a string claims file entry", lambda d: d.update(claims_files={"c.toml": "x"}), "'claims_files.c.toml'"),
    ("versions not a table", lambda d: d.update(environment={"versions": True}), "'environment.versions': expected"),
    ("null alternatives", lambda d: d["results"][0].update(alternatives=None), "'results[0].alternatives'"),
    ("a boolean hash", lambda d: d.update(claims_files={"c.toml": {"sha256": True}}), "'claims_files.c.toml.sha256'"),
    ("a list for the git table", lambda d: d.update(run={"git": ["abc"]}), "field 'run.git': expected a table"),
    ("a number for the commit", lambda d: d.update(run={"git": {"commit": 7}}), "'run.git.commit': expected a string"),
    ("deep nesting", lambda d: d["results"][0].update(details={"x": _deep(MAX_DEPTH + 5)}), "levels of nesting"),
    ("not a table at all", lambda d: d.clear(), "'results': expected a results file of schema 1"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_results_file_of_the_wrong_shape_is_one_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, mutate: Any, message: str
) -> None:
    data = _valid()
    mutate(data)
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text(json.dumps(data))
    good.write_text(json.dumps(_valid()))
    for argv in (["report", str(bad), "-o", str(tmp_path / "r.html")], ["diff", str(good), str(bad)]):
        assert main(argv) == 2, (case, argv)
        err = capsys.readouterr().err
        assert f"{bad}: " in err and message in err and "Fix:" in err, err
        assert "Traceback" not in err and err.count("\n") == 1


def test_json_nested_beyond_the_parser_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"schema": 1, "results": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert main(["report", str(path)]) == 2
    assert main(["diff", str(path), str(path)]) == 2
    assert "nested" in capsys.readouterr().err


def test_every_result_field_is_checked() -> None:
    """A field ClaimResult has and the schema does not check reaches from_dict unchecked (a null list raised)."""
    import attrs

    from harness.report.results_schema import FIELDS
    from harness.verdict import ClaimResult

    assert {a.name for a in attrs.fields(ClaimResult)} <= set(FIELDS)


def test_the_schema_accepts_what_the_harness_writes() -> None:
    assert check(_valid(), "x.json")["results"][0]["id"] == "a"
    with pytest.raises(ResultsFileError):
        check([], "x.json")


# ---------------------------------------------------------------- diff: its own kinds of change


def test_changed_conditions_evidence_and_rationale_are_their_own_changes() -> None:
    old = results_file(
        r("cond", 10.0, conditions_measured={"device": "cpu", "workload": "synthetic"}),
        r("evid", 10.0, evidence={"path": "p", "checkpoint_sha256": "aa", "data": {"revision": "r1"}}),
        r("why", 10.0, tolerance={"kind": "absolute", "value": 1.0, "rationale": "set before"}),
        r("same", 10.0, evidence={"path": "p", "trained_this_run": True}),
    )
    new = results_file(
        r("cond", 10.0, conditions_measured={"device": "cuda", "workload": "real"}),
        r("evid", 10.0, evidence={"path": "p", "checkpoint_sha256": "bb", "data": {"revision": "r2"}}),
        r("why", 10.0, tolerance={"kind": "absolute", "value": 1.0, "rationale": "reworded"}),
        r("same", 10.0, evidence={"path": "p", "trained_this_run": False}),
    )
    changes = [(c.kind, c.id, c.text) for c in diff(old, new).changes]
    assert changes == [
        ("rationale", "why", "tolerance rationale 'set before' -> 'reworded' (band unchanged)"),
        ("conditions", "cond", "measured under device 'cpu' -> 'cuda'"),
        ("conditions", "cond", "measured under workload 'synthetic' -> 'real'"),
        ("evidence", "evid", "evidence checkpoint_sha256: 'aa' -> 'bb'"),
        ("evidence", "evid", "evidence data.revision: 'r1' -> 'r2'"),
    ]
    assert not any("LOOSENED" in c[2] for c in changes)


def test_diff_exits_1_only_for_real_differences(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_valid()))
    b.write_text(json.dumps(_valid()))
    assert main(["diff", str(a), str(b)]) == 0
    changed = _valid()
    changed["results"][0]["conditions_measured"] = {"device": "cuda"}
    b.write_text(json.dumps(changed))
    assert main(["diff", str(a), str(b)]) == 1


# ---------------------------------------------------------------- replication files


def test_a_replication_file_nested_too_deeply_is_the_harness_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ReplicationError, match="nest"):
        replications.load(path)


def test_a_division_by_zero_in_a_replication_formula_is_an_error_check(tmp_path: Path) -> None:
    claims_path = toy_claims(tmp_path)
    numbers = [number("a", 10.0), number("b", 0.04), number("r", 3.0, "ratio", formula="a / b")]
    a = audit.run(replications.load(replication(tmp_path, numbers)), claims.load(claims_path))
    (c,) = a.arithmetic
    assert c.status == audit.ERROR and "cannot be checked" in c.reason


# ---------------------------------------------------------------- Hypothesis: generated inputs, no traceback

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def results_files(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(_valid())
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(data)
        where = draw(st.sampled_from(paths))
        if not where:
            data = draw(JSON)
            continue
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(where[-1], None)
        else:
            parent[where[-1]] = draw(JSON)
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=results_files(), new=results_files())
def test_generated_results_files_never_give_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: Any, new: Any
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(old))
    b.write_text(json.dumps(new))
    report = main(["report", str(a), "-o", str(tmp_path / "r.html")])
    compared = main(["diff", str(a), str(b)])
    err = capsys.readouterr().err
    assert report in (0, 2) and compared in (0, 1, 2)
    assert "Traceback" not in err
    if report == 2 or compared == 2:
        assert "error:" in err


@st.composite
def replication_files(draw: st.DrawFn) -> Any:
    data: Any = {
        "schema_version": 1,
        "report": {
            "key": "toy_rep",
            "title": "t",
            "authors": ["S"],
            "date": "2024-01-02",
            "claims": "claims/toy.toml",
            "hardware": {"device": "cpu"},
        },
        "numbers": [number("a", 10.0, claim="t.a"), number("b", 5.0), number("r", 2.0, "ratio", formula="a / b")],
    }
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from([p for p in _paths(data) if p]))
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        value = draw(JSON | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0, 0.0, -1, "a / 0"]))
        parent[where[-1]] = value
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=replication_files())
def test_generated_replication_files_never_give_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    claims_path = tmp_path / "claims" / "toy.toml"
    if not claims_path.exists():
        toy_claims(tmp_path)
    path = tmp_path / "rep.toml"
    try:
        path.write_text(tomli_w.dumps(_without_nulls(data)))
    except (TypeError, ValueError):
        return  # not representable as TOML: nothing to feed the audit
    code = main(["audit", str(path), "--claims", str(claims_path), "--out", str(tmp_path / "audit")])
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value
