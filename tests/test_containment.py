"""Containment and terminal safety: nothing a claims or results file says leaves its directory or paints the terminal.

Classes: hub ids (the Hub's repo-id grammar at load, containment again at look-up, Hypothesis over generated
ids and paths), ids and names matched whole (``\\A...\\Z``: no trailing newline) in claims and replication files,
and control characters escaped in every line the harness prints (a planted ANSI sequence cannot paint a fake
green REPRODUCED).
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import attrs
import pytest
import tomli_w
from claimsfile import HEADER, claim, fixed, write
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.errors import HarnessError, MeasurementError
from harness.core.files import OutsideError, contained
from harness.core.text import printable
from harness.ml import data
from harness.ml.models import checkpoint_dir
from harness.report import replications
from harness.report.terminal import outcome_text, terminal_lines
from harness.spec import load
from harness.spec.hub_ids import hub_id_problem
from harness.verdict import ClaimResult

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- hub ids and paths

VALID_IDS = ["bert-base-uncased", "textattack/bert-base-uncased-SST-2", "a", "A.b_c-d/e9", "x" * 96, "org/m.v2"]
INVALID_IDS = [
    "",
    "../outside/x",
    "/etc/passwd",
    "a/b/c",
    "a\\b",
    "org/name\n",
    "a/",
    "/a",
    "-a",
    "a-",
    ".a",
    "a.",
    "a--b",
    "a..b",
    "x" * 97,
    "a b",
    "modèle",
    "a/./b",
    "~/x",
    "C:x",
]


@pytest.mark.parametrize("hub_id", VALID_IDS)
def test_hub_ids_of_the_hub_grammar_are_accepted(hub_id: str) -> None:
    assert hub_id_problem(hub_id) is None


@pytest.mark.parametrize("hub_id", INVALID_IDS)
def test_hub_ids_outside_the_grammar_are_refused(hub_id: str) -> None:
    assert hub_id_problem(hub_id) is not None


def test_the_paper_files_ids_are_all_valid_hub_ids() -> None:
    models = load(ROOT / "claims" / "distilbert.toml").models.values()
    ids = [m.hub_id for m in models] + [i for m in models for i in m.finetuned.values()]
    # 3 base checkpoints + 21 published (2 models x 9 GLUE tasks, 2 IMDb, SQuAD (D))
    assert len(ids) == 24 and [i for i in ids if hub_id_problem(i)] == []


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(["..", ".", "a", "b-c", "/", "\\", "\n", "~", "x.y"]), max_size=8).map("".join),
        st.lists(st.sampled_from(["..", ".", "org", "m", ""]), max_size=6).map("/".join),
    )
)
def test_no_id_or_path_escapes_the_models_dir(text: str) -> None:
    models_dir = Path("/srv/models")
    base = os.path.normpath(models_dir)
    try:
        joined = contained(models_dir, text)
    except OutsideError:
        assert hub_id_problem(text) is not None  # every id the loader accepts is also contained
        return
    resolved = os.path.normpath(os.path.join(base, str(joined.relative_to(models_dir))))
    assert os.path.commonpath([base, resolved]) == base
    if hub_id_problem(text) is None:
        assert resolved == os.path.join(base, text)  # a valid id is exactly <models dir>/<id>


def test_checkpoint_look_up_never_leaves_the_models_dir(tmp_path: Path) -> None:
    models, outside = tmp_path / "models", tmp_path / "outside" / "x"
    outside.mkdir(parents=True)
    (outside / "config.json").write_text("{}")
    models.mkdir()
    for hub_id in ("../outside/x", str(outside), "org/../../outside/x"):
        with pytest.raises(MeasurementError, match="a checkpoint is looked up only inside --claims-models-dir"):
            checkpoint_dir(hub_id, "tiny", models)
    (models / "org").mkdir()
    (models / "org" / "linked").symlink_to(outside)  # a link the models dir's owner made is followed
    assert checkpoint_dir("org/linked", "tiny", models) == models / "org" / "linked"


def test_a_task_whose_files_would_leave_the_data_dir_is_refused(tmp_path: Path) -> None:
    sst2 = data.task("glue/sst2")
    assert sst2.glue is not None
    assert data.local_path(sst2, "eval", tmp_path) == tmp_path / "glue" / "SST-2" / "dev.tsv"
    for folder in ("../../etc", "../..", "x/../../../etc"):
        planted = attrs.evolve(sst2, glue=attrs.evolve(sst2.glue, folder=folder))
        with pytest.raises(MeasurementError, match="data is read only inside --claims-data-dir"):
            data.local_path(planted, "eval", tmp_path)
    rooted = attrs.evolve(sst2, glue=attrs.evolve(sst2.glue, folder="/etc"))  # joined below glue/: inside
    assert data.local_path(rooted, "eval", tmp_path) == tmp_path / "glue" / "etc" / "dev.tsv"


# ---------------------------------------------------------------- ids match whole


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("claim", "params.a\n", "id"),
        ("claim", "params.a\nparams.b", "id"),
        ("source", "toy\n", "source.key"),
        ("model", "tiny\n", "models.tiny\n"),
    ],
)
def test_ids_and_names_ending_in_a_newline_are_refused(tmp_path: Path, where: str, value: str, field: str) -> None:
    data = copy.deepcopy(HEADER)
    record = claim("params.ok", measure=fixed(1.0))
    if where == "claim":
        record["id"] = value
    elif where == "source":
        data["source"]["key"] = value
    else:
        data["models"][value] = data["models"].pop("tiny")
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({**data, "claims": [record]}), encoding="utf-8")
    loaded = load(path)
    assert any(r.error.field == field for r in loaded.invalid), [str(r.error) for r in loaded.invalid]
    assert all("\n" not in r.name for r in loaded.invalid)  # an item name never carries the raw newline


def test_a_replication_id_ending_in_a_newline_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "replications" / "divij-a100.toml").read_text(encoding="utf-8")
    planted = tmp_path / "r.toml"
    planted.write_text(text.replace('id = "params.bert_base"', 'id = "params.bert_base\\n"', 1), encoding="utf-8")
    replications.load(ROOT / "replications" / "divij-a100.toml")  # the original loads
    with pytest.raises(HarnessError, match="field 'id'"):
        replications.load(planted)


# ---------------------------------------------------------------- terminal safety

FAKE = "\x1b[2K\r\x1b[32mREPRODUCED      params.fake\x1b[0m"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\rb", "a\\x0db"),
        ("nul\x00bell\x07", "nul\\x00bell\\x07"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9b31m", "c1\\x9b31m"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("plain é ü 中文", "plain é ü 中文"),
    ],
)
def test_printable_escapes_control_characters_only(text: str, shown: str) -> None:
    assert printable(text) == shown


def _result(**fields: object) -> ClaimResult:
    base = dict(
        id="params.a",
        nodeid="claims/c.toml::params.a",
        verdict="NOT_REPRODUCED",
        reason="measured 2, outside the band",
        unit="ratio",
        claimed=1.0,
        band=(0.9, 1.1),
        tolerance={"kind": "absolute", "value": 0.1, "rationale": "r"},
        measured=2.0,
        provenance={"source": "s", "version": "v1", "location": "Table 1", "quote": "q"},
    )
    base.update(fields)
    return ClaimResult(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        {"provenance": {"source": "s", "version": "v1", "location": "Table 1", "quote": FAKE}},
        {"reason": FAKE},
        {"remedy": FAKE},
        {"tolerance": {"kind": "absolute", "value": 0.1, "rationale": FAKE}},
        {"reproduce": FAKE},
        {"unit": FAKE},
    ],
)
def test_terminal_text_of_a_result_carries_no_control_character(fields: dict[str, object]) -> None:
    result = _result(**fields)
    texts = ("\n".join(terminal_lines([result])), outcome_text(result))
    for text in texts:
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    assert "\\x1b[32mREPRODUCED" in outcome_text(result)  # every field is in the outcome text, escaped


def test_a_planted_ansi_quote_cannot_paint_a_fake_verdict(project: pytest.Pytester) -> None:
    write(project, claim("params.a", value=1.0, quote=f"ours {FAKE}", measure=fixed(5.0)))
    run = project.runpytest("-p", "no:cacheprovider", "--claims-out=out", "-rA")
    text = run.stdout.str()
    run.assert_outcomes(failed=1)
    assert "\x1b" not in text and "\r" not in text
    assert "\\x1b[32mREPRODUCED      params.fake" in text  # shown as what the file says
    assert re.search(r"^NOT_REPRODUCED +params\.a: claimed 1", text, re.M)
