"""The fetch plan, revision pins, the lock file at measure time, the hub cache's parquet snapshots, and the
session's offline guard: all offline, hand-built hub caches (tests/hub_fixtures.py), no server."""

from __future__ import annotations

import copy
import hashlib
import os
import tomllib
from pathlib import Path

import pytest
import tomli_w
from claimsfile import HEADER, claim
from hub_fixtures import cache_snapshot, write_sst2_parquet

from harness import spec
from harness.cli import main
from harness.core.errors import MeasurementError
from harness.measure import provenance
from harness.measure.artifacts import TOKENIZER_FILES, PlanError, plan
from harness.measure.fetching import update_lock
from harness.measure.measurement import Context, Options
from harness.ml import data, hub
from harness.ml.lock import LockedFile, read_lock
from harness.ml.models import checkpoint_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
DISTILBERT = REPO_ROOT / "claims" / "distilbert.toml"
COMMIT_A, COMMIT_B = "a" * 40, "b" * 40


@pytest.fixture(scope="module")
def paper() -> spec.ClaimsFile:
    return spec.load(DISTILBERT)


def _ids(p) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(i.artifact.kind, i.artifact.repo_id, i.artifact.allow_patterns) for i in p.items]


# ---------------------------------------------------------------- the plan


@pytest.mark.fast
def test_a_published_claim_needs_its_checkpoint_and_its_evaluation_split_only(paper):
    p = plan([paper], "glue.distilbert.sst2")
    assert _ids(p) == [
        ("model", "distilbert-base-uncased-finetuned-sst-2-english", ()),
        ("dataset", "nyu-mll/glue", ("sst2/validation[-/]*",)),
    ]
    assert [i.claims for i in p.items] == [(f"{DISTILBERT}::glue.distilbert.sst2",)] * 2
    assert p.items[1].artifact.config == "sst2" and p.items[1].artifact.split == "validation"
    assert p.items[0].size == "unknown"


@pytest.mark.fast
def test_finetune_evidence_plans_the_base_checkpoint_and_the_train_split(paper):
    p = plan([paper], "glue.distilbert.sst2", mode="finetune")
    assert _ids(p) == [
        ("model", "distilbert-base-uncased", ()),
        ("dataset", "nyu-mll/glue", ("sst2/train[-/]*",)),
        ("dataset", "nyu-mll/glue", ("sst2/validation[-/]*",)),
    ]


@pytest.mark.fast
def test_a_distillation_recipe_plans_the_student_base_and_its_teacher_only_under_finetune(paper):
    assert _ids(plan([paper], "squad.distilbert_d.f1")) == [  # the published (D) checkpoint is preferred
        ("model", "distilbert-base-uncased-distilled-squad", ()),
        ("dataset", "rajpurkar/squad", ("plain_text/validation[-/]*",)),
    ]
    p = plan([paper], "squad.distilbert_d.f1", mode="finetune")
    assert _ids(p) == [
        ("model", "distilbert-base-uncased", ()),
        ("model", "bert-base-uncased", ()),  # the teacher's base, fine-tuned here with teacher_recipe
        ("dataset", "rajpurkar/squad", ("plain_text/train[-/]*",)),
        ("dataset", "rajpurkar/squad", ("plain_text/validation[-/]*",)),
    ]
    assert "teacher bert_base" in p.items[1].purpose


@pytest.mark.fast
def test_mnli_plans_its_published_checkpoint_and_its_matched_split(paper):
    assert _ids(plan([paper], "glue.distilbert.mnli")) == [
        ("model", "textattack/distilbert-base-uncased-MNLI", ()),
        ("dataset", "nyu-mll/glue", ("mnli/validation_matched[-/]*",)),
    ]


@pytest.mark.fast
def test_a_task_without_a_published_checkpoint_plans_fine_tuning(paper):
    assert _ids(plan([paper], "squad.bert_base.em")) == [
        ("model", "bert-base-uncased", ()),
        ("dataset", "rajpurkar/squad", ("plain_text/train[-/]*",)),
        ("dataset", "rajpurkar/squad", ("plain_text/validation[-/]*",)),
    ]


@pytest.mark.fast
def test_speed_claims_need_the_stsb_split_and_the_tokenizer_files_only(paper):
    p = plan([paper], "speed")
    assert _ids(p) == [
        ("dataset", "nyu-mll/glue", ("stsb/validation[-/]*",)),
        ("model", "bert-base-uncased", TOKENIZER_FILES),
    ]
    assert [c.rsplit("::")[-1] for c in p.items[0].claims] == ["speed.bert_base", "speed.distilbert", "speed.speedup"]
    assert "speed.elmo" in [c.rsplit("::")[-1] for c in p.needs_nothing]  # not measurable: nothing to fetch


@pytest.mark.fast
def test_a_formula_claim_unlocks_with_every_component_and_imdb_squad_use_plain_text(paper):
    macro = plan([paper], "glue.distilbert.macro")
    configs = sorted(
        i.artifact.config for i in macro.items if i.artifact.kind == "dataset" and "evaluation" in i.purpose
    )
    assert configs == ["cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst2", "stsb", "wnli"]
    other = plan([paper], "imdb or squad")
    data_ids = {
        (i.artifact.repo_id, i.artifact.config, i.artifact.split) for i in other.items if i.artifact.kind == "dataset"
    }
    assert ("stanfordnlp/imdb", "plain_text", "test") in data_ids
    assert ("rajpurkar/squad", "plain_text", "validation") in data_ids


@pytest.mark.fast
def test_a_bad_keyword_expression_is_a_plan_error(paper):
    with pytest.raises(PlanError, match="not a keyword expression"):
        plan([paper], "sst2 and (")


@pytest.mark.fast
def test_the_dry_run_lists_every_artifact_offline_with_sizes_and_claims(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    assert main(["fetch", str(DISTILBERT), "--dry-run"]) == 0
    out = capsys.readouterr().out
    n = len(tomllib.loads((Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml").read_text())["claims"])
    # 35 = 21 published checkpoints (2 models x 9 GLUE tasks, 2 IMDb, SQuAD (D)) + the 2 base checkpoints the SQuAD
    # recipes fine-tune + 9 GLUE evaluation splits + IMDb test + SQuAD train and validation; with a published
    # checkpoint for every Table 1 cell no GLUE train split is needed
    assert out.startswith(f"fetch plan (dry run: nothing is downloaded): 35 artifacts for {n} selected claims")
    assert out.count("size unknown") == 35 and out.count("not on this machine") == 35
    assert "model textattack/distilbert-base-uncased-imdb (unpinned)" in out
    glue = ("CoLA", "MNLI", "MRPC", "QNLI", "QQP", "RTE", "STS-B", "WNLI")
    for cell in [f"bert-base-uncased-{t}" for t in (*glue, "SST-2")] + [f"distilbert-base-uncased-{t}" for t in glue]:
        assert f"model textattack/{cell} (unpinned)" in out
    assert "model distilbert-base-uncased-finetuned-sst-2-english (unpinned)" in out
    assert "[sst2/train]" not in out and "[squad" not in out and "[plain_text/train]" in out
    assert main(["fetch", str(DISTILBERT), "--dry-run", "-k", "nothing_is_called_this"]) == 2


# ---------------------------------------------------------------- pins in the claims file


def _pinned(path: Path, **model: object) -> spec.ClaimsFile:
    header = copy.deepcopy(HEADER)
    header["models"]["tiny"].update(model)
    header["datasets"] = {"glue": {"hub_id": "nyu-mll/glue", "revision": COMMIT_B, "size_bytes": {"sst2": 1234}}}
    record = claim("task.one", 50.0, measure={"kind": "task_score", "model": "tiny", "task": "glue/sst2"})
    record["metric"] = {"name": "accuracy", "split": "validation"}
    path.write_text(tomli_w.dumps({**header, "claims": [record]}), encoding="utf-8")
    return spec.load(path)


@pytest.mark.fast
def test_pins_are_read_and_planned_with_declared_sizes(tmp_path):
    f = _pinned(
        tmp_path / "c.toml",
        revision=COMMIT_A,
        finetuned={"glue/sst2": {"hub_id": "org/tiny-sst2", "revision": "v1.0", "size_bytes": 2_500_000}},
    )
    assert f.invalid == ()
    model = f.models["tiny"]
    assert model.revision == COMMIT_A and model.finetuned == {"glue/sst2": "org/tiny-sst2"}
    assert model.finetuned_pins["glue/sst2"] == spec.HubPin("org/tiny-sst2", "v1.0", 2_500_000)
    items = plan([f]).items
    assert [(i.artifact.repo_id, i.artifact.revision, i.size) for i in items] == [
        ("org/tiny-sst2", "v1.0", "2.5 MB"),
        ("nyu-mll/glue", COMMIT_B, "1.2 kB"),
    ]


@pytest.mark.fast
@pytest.mark.parametrize(
    ("revision", "found"),
    [("abc1234", "an abbreviated commit 'abc1234'"), ("main..x", "'main..x'"), (40, "an integer 40"), ("a/", "'a/'")],
)
def test_a_bad_revision_is_an_error_naming_the_field(tmp_path, revision, found):
    f = _pinned(tmp_path / "c.toml", revision=revision)
    bad = f.invalid[0]  # and the claim that uses the model says so
    assert bad.name == "<models.tiny>" and bad.error.field == "models.tiny.revision"
    assert found in bad.error.found and "40 hex digits" in bad.error.fix


@pytest.mark.fast
def test_an_unknown_key_of_a_finetuned_table_is_an_error(tmp_path):
    f = _pinned(tmp_path / "c.toml", finetuned={"glue/sst2": {"hub_id": "org/x", "revison": COMMIT_A}})
    bad = f.invalid[0]  # and the claim that uses the model says so
    assert bad.error.field == "models.tiny.finetuned.glue/sst2.revison" and "revision" in bad.error.fix


# ---------------------------------------------------------------- the lock file


def _fetched(repo_id: str, revision: str, files: dict[str, str], kind: str = "dataset") -> hub.Fetched:
    locked = tuple(LockedFile(p, hashlib.sha256(c.encode()).hexdigest(), len(c)) for p, c in files.items())
    return hub.Fetched(hub.Artifact(kind, repo_id), revision, Path("/x"), locked, "2026-12-01T00:00:00Z")


@pytest.mark.fast
def test_the_lock_merges_configs_of_one_commit_and_keeps_other_entries(tmp_path):
    lock = tmp_path / "claims.lock.json"
    update_lock(lock, [_fetched("org/m", COMMIT_A, {"config.json": "{}"}, "model")])
    update_lock(
        lock,
        [
            _fetched("nyu-mll/glue", COMMIT_B, {"sst2/v.parquet": "1"}),
            _fetched("nyu-mll/glue", COMMIT_B, {"rte/v.parquet": "2"}),
        ],
    )
    entries = {e.repo_id: e for e in read_lock(lock)}
    assert sorted(entries) == ["nyu-mll/glue", "org/m"]
    assert [f.path for f in entries["nyu-mll/glue"].files] == ["rte/v.parquet", "sst2/v.parquet"]
    update_lock(lock, [_fetched("nyu-mll/glue", COMMIT_A, {"sst2/v.parquet": "3"})])  # a new commit replaces
    entries = {e.repo_id: e for e in read_lock(lock)}
    assert entries["nyu-mll/glue"].revision == COMMIT_A and [f.path for f in entries["nyu-mll/glue"].files] == [
        "sst2/v.parquet"
    ]


# ---------------------------------------------------------------- measure time: cache, aliases, lock, evidence


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    return root


@pytest.mark.fast
def test_a_cache_filled_under_the_new_id_is_found_under_the_old_one_and_a_pin_is_honoured(cache):
    snap = cache_snapshot(cache, "model", "distilbert/distilbert-base-uncased", COMMIT_A, {"config.json": b"{}"})
    assert checkpoint_dir("distilbert-base-uncased", "distilbert", None) == snap
    assert checkpoint_dir("distilbert-base-uncased", "distilbert", None, COMMIT_A) == snap
    assert checkpoint_dir("distilbert-base-uncased", "distilbert", None, COMMIT_B) is None


@pytest.mark.fast
def test_hub_data_is_read_from_the_hub_cache_parquet_snapshot_with_its_revision(cache, tmp_path):
    parquet = write_sst2_parquet(tmp_path / "v.parquet", ["great", "awful", "fine"], [1, 0, 1])
    snap = cache_snapshot(cache, "dataset", "glue", COMMIT_B, {"sst2/validation-00000-of-00001.parquet": parquet})
    loaded = data.load(data.task("glue/sst2"), "eval", Options(data_source="hub"))
    assert loaded.dataset.to_dict() == {"sentence": ["great", "awful", "fine"], "label": [1, 0, 1]}
    assert (loaded.repo_id, loaded.revision, loaded.source) == ("glue", COMMIT_B, snap)
    assert loaded.origin.startswith(f"hub cache snapshot {snap} (glue sst2/validation at {COMMIT_B})")


def _context(tmp_path: Path, lock: Path | None = None) -> Context:
    f = _pinned(tmp_path / "c.toml")
    return Context(f, Options(lock_path=lock))


@pytest.mark.fast
def test_evidence_carries_revision_and_hash_and_a_changed_file_is_a_measurement_error(cache, tmp_path):
    snap = cache_snapshot(cache, "model", "org/m", COMMIT_A, {"config.json": b"{}", "w.bin": b"weights"})
    context = _context(tmp_path)
    evidence = provenance.checkpoint_evidence(context, "org/m", snap)
    assert evidence["checkpoint_revision"] == COMMIT_A
    assert evidence["checkpoint_sha256"] == hub.digest_of(
        {"config.json": hashlib.sha256(b"{}").hexdigest(), "w.bin": hashlib.sha256(b"weights").hexdigest()}
    )
    with pytest.raises(MeasurementError, match=f"pins the model org/m at revision {COMMIT_B}"):
        provenance.checkpoint_evidence(_context(tmp_path), "org/m", snap, COMMIT_B)
    # a lock file (next to the claims file, the default) that recorded other bytes
    lock = tmp_path / "claims.lock.json"
    update_lock(lock, [_fetched("org/m", COMMIT_A, {"config.json": "{}", "w.bin": "WEIGHTS"}, "model")])
    with pytest.raises(MeasurementError) as info:
        provenance.checkpoint_evidence(_context(tmp_path), "org/m", snap)
    assert str(info.value).startswith(f"lock file {lock}: {snap}: the files of the model 'org/m' at revision")
    assert "w.bin: sha256" in str(info.value) and "Fix: fetch that revision again" in str(info.value)
    update_lock(lock, [_fetched("org/m", COMMIT_B, {"config.json": "{}"}, "model")])
    with pytest.raises(MeasurementError, match=f"the lock file {lock} records {COMMIT_B}"):
        provenance.checkpoint_evidence(_context(tmp_path), "org/m", snap)


# ---------------------------------------------------------------- the session is offline


GUARDED_TEST = """
import os
def test_the_session_is_offline():
    assert os.environ.get("HF_HUB_OFFLINE") == "1" and os.environ.get("HF_DATASETS_OFFLINE") == "1"
"""


@pytest.mark.fast
@pytest.mark.parametrize("extra", [(), ("--claims-fetch",)])
def test_a_foreign_project_runs_offline_without_setting_anything(pytester, monkeypatch, extra):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_guarded=GUARDED_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", *extra)
    result.assert_outcomes(passed=1)
    assert "HF_HUB_OFFLINE" not in os.environ  # restored after the session


@pytest.mark.fast
def test_a_fetched_copy_under_to_is_read_from_the_models_and_data_dirs_with_the_locked_revision(cache, tmp_path):
    to = tmp_path / "to"
    (to / "distilbert" / "distilbert-base-uncased").mkdir(parents=True)
    (to / "distilbert" / "distilbert-base-uncased" / "config.json").write_text("{}")
    hub.add_alias("distilbert-base-uncased", "distilbert/distilbert-base-uncased")  # a claims file's [hub_aliases]
    assert checkpoint_dir("distilbert-base-uncased", "distilbert", to) == to / "distilbert/distilbert-base-uncased"
    rel = "sst2/validation-00000-of-00001.parquet"
    write_sst2_parquet(to / "nyu-mll" / "glue" / rel, ["great", "awful"], [1, 0])
    loaded = data.load(data.task("glue/sst2"), "eval", Options(data_dir=to))
    assert loaded.origin.startswith(f"fetched copy {to / 'nyu-mll/glue'} (nyu-mll/glue sst2/validation)")
    assert (loaded.repo_id, loaded.revision) == ("nyu-mll/glue", None)
    context = _context(tmp_path)
    assert provenance.data_evidence(context, loaded)["data_revision"] == "unknown"
    parquet = (to / "nyu-mll" / "glue" / rel).read_bytes()
    lock = tmp_path / "claims.lock.json"
    locked = LockedFile(rel, hashlib.sha256(parquet).hexdigest(), len(parquet))
    update_lock(lock, [hub.Fetched(hub.Artifact("dataset", "nyu-mll/glue"), COMMIT_B, to, (locked,), "t")])
    evidence = provenance.data_evidence(_context(tmp_path), loaded)
    assert evidence == {"data_id": "nyu-mll/glue", "data_revision": COMMIT_B, "data_sha256": loaded.digest}
