"""The offline-first hub layer, without a network: id aliases, the hub-cache lookup, lock files and hashes,
parquet snapshots, the offline refusal of ``fetch`` and the offline guard. Downloads are in test_hub_fetch.py."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hub_fixtures import cache_snapshot, write_sst2_parquet
from hypothesis import given
from hypothesis import strategies as st

from harness.core.errors import MeasurementError, NotRunError
from harness.ml import hub, hub_parquet, lock, offline
from harness.ml.hub import Artifact

REPO_ROOT = Path(__file__).resolve().parent.parent
A, B, C = "a" * 40, "b" * 40, "c" * 40
HELLO_SHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"  # sha256(b"hello")
KNOWN_IDS = sorted({i for pair in hub.ID_ALIASES for i in pair})

# ---------------------------------------------------------------- ids


@pytest.mark.fast
@pytest.mark.parametrize(("old", "new"), hub.ID_ALIASES)
def test_aliases_go_both_ways(old, new):
    assert hub.aliases(old) == (new,)
    assert hub.aliases(new) == (old,)
    assert hub.equivalent_ids(new) == (new, old)


@pytest.mark.fast
def test_artifact_description_and_pinning():
    pinned = Artifact("dataset", "nyu-mll/glue", revision=A, config="sst2", split="validation")
    assert pinned.pinned and pinned.describe() == f"dataset nyu-mll/glue@{A} [sst2/validation]"
    assert not Artifact("model", "org/m", revision="main").pinned
    assert Artifact("model", "org/m", allow_patterns="*.json").allow_patterns == ("*.json",)
    assert Artifact("model", "org/m").describe() == "model org/m (unpinned)"


@pytest.mark.fast
def test_aliases_of_the_paper_ids():
    from harness.measure.measurement import use_hub_aliases
    from harness.spec import load

    root = Path(__file__).resolve().parents[1]
    # models' renames are the claims file's data, not the harness's (only the tasks' data sets are built in)
    assert {old for old, _ in hub.ID_ALIASES} == {"glue", "imdb", "squad"}
    use_hub_aliases(load(root / "claims" / "distilbert.toml"))
    assert hub.aliases("bert-base-uncased") == ("google-bert/bert-base-uncased",)
    assert hub.aliases("distilbert/distilbert-base-uncased") == ("distilbert-base-uncased",)
    assert hub.aliases("nyu-mll/glue") == ("glue",)
    assert hub.aliases("someone/unknown-model") == ()
    assert Artifact("dataset", "squad", aliases=("mirror/squad",)).ids == ("squad", "rajpurkar/squad", "mirror/squad")


@pytest.mark.fast
@given(st.sampled_from(KNOWN_IDS), st.sampled_from(KNOWN_IDS))
def test_alias_relation_is_symmetric(x, y):
    assert (y in hub.equivalent_ids(x)) == (x in hub.equivalent_ids(y))


@pytest.mark.fast
def test_repo_folder_names_match_the_hub_cache():
    assert hub.repo_folder("model", "google-bert/bert-base-uncased") == "models--google-bert--bert-base-uncased"
    assert hub.repo_folder("dataset", "glue") == "datasets--glue"


@pytest.mark.fast
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "weights", "repo_id": "a/b"}, "'kind'"),
        ({"kind": "model", "repo_id": "a/b/c"}, "'repo_id'"),
        ({"kind": "model", "repo_id": "models--a--b"}, "'repo_id'"),
        ({"kind": "model", "repo_id": "a/b", "revision": ""}, "'revision'"),
        ({"kind": "model", "repo_id": "a/b", "size_bytes": -1}, "'size_bytes'"),
    ],
)
def test_a_malformed_artifact_names_its_field(kwargs, field):
    with pytest.raises(hub.ArtifactError, match=f"field {field}: expected .*; found .*Fix: "):
        Artifact(**kwargs)


# ---------------------------------------------------------------- the hub cache, built by hand


@pytest.mark.fast
def test_unpinned_follows_refs_main_and_pinned_takes_its_commit(tmp_path):
    old = cache_snapshot(tmp_path, "model", "org/m", A, {"config.json": b"{}"}, refs=())
    new = cache_snapshot(tmp_path, "model", "org/m", B, {"config.json": b'{"v": 2}'}, refs=("main",))
    assert hub.find_cached(Artifact("model", "org/m"), tmp_path) == new
    assert hub.find_cached(Artifact("model", "org/m", revision=A), tmp_path) == old
    assert hub.find_cached(Artifact("model", "org/m", revision=C), tmp_path) is None
    assert hub.find_cached(Artifact("dataset", "org/m"), tmp_path) is None  # a model is not a dataset


@pytest.mark.fast
def test_a_branch_or_tag_goes_through_its_ref(tmp_path):
    cache_snapshot(tmp_path, "model", "org/m", A, {"config.json": b"{}"}, refs=("main",))
    tagged = cache_snapshot(tmp_path, "model", "org/m", B, {"config.json": b"{}"}, refs=("v1.0",))
    assert hub.find_cached(Artifact("model", "org/m", revision="v1.0"), tmp_path) == tagged
    assert hub.find_cached(Artifact("model", "org/m", revision="v2.0"), tmp_path) is None


@pytest.mark.fast
@pytest.mark.parametrize(("asked", "filled"), hub.ID_ALIASES[:3])
def test_a_cache_filled_under_either_id_is_found_under_both(tmp_path, filled, asked):
    snap = cache_snapshot(tmp_path / "new", "model", filled, A, {"config.json": b"{}"})
    assert hub.find_cached(Artifact("model", asked), tmp_path / "new") == snap
    snap = cache_snapshot(tmp_path / "old", "model", asked, A, {"config.json": b"{}"})
    assert hub.find_cached(Artifact("model", filled), tmp_path / "old") == snap


@pytest.mark.fast
def test_without_refs_one_snapshot_is_taken_and_two_are_ambiguous(tmp_path):
    only = cache_snapshot(tmp_path, "model", "org/m", A, {"config.json": b"{}"}, refs=())
    assert hub.find_cached(Artifact("model", "org/m"), tmp_path) == only
    cache_snapshot(tmp_path, "model", "org/m", B, {"config.json": b"{}"}, refs=())
    with pytest.raises(hub.HubCacheError, match=f"2 snapshots \\({A}, {B}\\).*Fix: pin revision"):
        hub.find_cached(Artifact("model", "org/m"), tmp_path)


@pytest.mark.fast
def test_an_incomplete_snapshot_does_not_count(tmp_path):
    snap = cache_snapshot(tmp_path, "model", "org/m", A, {"config.json": b"{}", "model.safetensors": b"w"})
    needs = Artifact("model", "org/m", allow_patterns=("config.json", "*.safetensors", "tokenizer*"))
    assert hub.missing_files(snap, needs) == ["tokenizer*"]
    assert hub.find_cached(needs, tmp_path) is None
    weights = Artifact("model", "org/m", allow_patterns=("*.safetensors",))
    assert hub.find_cached(weights, tmp_path) == snap
    (snap / "model.safetensors").resolve().unlink()  # a blob deleted under a snapshot link
    assert hub.find_cached(weights, tmp_path) is None


@pytest.mark.fast
def test_a_dataset_snapshot_needs_the_splitwrite_sst2_parquet(tmp_path):
    snap = cache_snapshot(tmp_path, "dataset", "nyu-mll/glue", A, {"sst2/validation-00000-of-00001.parquet": b"x"})
    assert hub.find_cached(Artifact("dataset", "glue", config="sst2", split="validation"), tmp_path) == snap
    assert hub.find_cached(Artifact("dataset", "glue", config="sst2", split="train"), tmp_path) is None
    assert hub.find_cached(Artifact("dataset", "nyu-mll/glue", config="cola", split="validation"), tmp_path) is None


@pytest.mark.fast
def test_the_default_cache_is_read_from_the_environment_now(tmp_path, monkeypatch):
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.hub_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub.hub_cache_dir() == tmp_path / "home" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert hub.hub_cache_dir() == tmp_path / "cache"
    snap = cache_snapshot(tmp_path / "cache", "model", "org/m", A, {"config.json": b"{}"})
    assert hub.find_cached(Artifact("model", "org/m")) == snap


# ---------------------------------------------------------------- hashes and the lock file


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@pytest.mark.fast
def test_file_hashes_and_content_digest_exact(tmp_path):
    snap = _tree(tmp_path, {"a.txt": b"hello", "b/c.txt": b"", ".cache/huggingface/x.lock": b"bookkeeping"})
    empty = hashlib.sha256(b"").hexdigest()
    assert lock.file_hashes(snap) == {"a.txt": HELLO_SHA, "b/c.txt": empty}
    expected = hashlib.sha256(f"a.txt\0{HELLO_SHA}\nb/c.txt\0{empty}\n".encode()).hexdigest()
    assert lock.content_digest(snap) == expected
    assert lock.locked_files(snap, ["a.txt"]) == (lock.LockedFile("a.txt", HELLO_SHA, 5),)


@pytest.mark.fast
@given(st.dictionaries(st.sampled_from(["x", "y/z", "w.bin"]), st.binary(max_size=64), min_size=1), st.data())
def test_content_digest_depends_on_names_and_bytes_only(files, data):
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first = _tree(Path(one), files)
        second = _tree(Path(two), dict(reversed(list(files.items()))))
        assert lock.content_digest(first) == lock.content_digest(second)
        rel = data.draw(st.sampled_from(sorted(files)))
        (second / rel).write_bytes(files[rel] + b"!")
        assert lock.content_digest(first) != lock.content_digest(second)


def _entry(snap: Path, repo_id: str = "org/m") -> lock.LockEntry:
    return lock.LockEntry(repo_id, "model", A, lock.locked_files(snap), "2026-12-01T11:00:00Z")


@pytest.mark.fast
def test_lock_round_trip_and_format(tmp_path):
    snap = _tree(tmp_path / "snap", {"config.json": b"hello", "sub/w.bin": b"\x00\x01"})
    entries = [_entry(snap, "org/m"), lock.LockEntry("glue", "dataset", B, (), "2026-12-01T11:00:01Z")]
    path = lock.write_lock(tmp_path / "out" / "hub.lock.json", entries)
    assert sorted(p.name for p in path.parent.iterdir()) == ["hub.lock.json"]  # no temporary file left
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["lock_version"] == 1
    assert [a["repo_id"] for a in document["artifacts"]] == ["glue", "org/m"]  # sorted by kind, then id
    assert document["artifacts"][1]["files"][0] == {"path": "config.json", "sha256": HELLO_SHA, "size": 5}
    assert lock.read_lock(path) == (entries[1], entries[0])
    assert entries[0].content_digest == lock.content_digest(snap)


@pytest.mark.fast
def test_two_entries_for_one_artifact_are_refused(tmp_path):
    snap = _tree(tmp_path / "snap", {"config.json": b"hello"})
    with pytest.raises(lock.HarnessError, match="two lock entries for the model 'org/m'"):
        lock.write_lock(tmp_path / "l.json", [_entry(snap), _entry(snap)])


@pytest.mark.fast
def test_verify_passes_on_the_locked_files_and_names_each_tampered_one(tmp_path):
    snap = _tree(tmp_path, {"config.json": b"hello", "model.safetensors": b"weights", "vocab.txt": b"a\nb\n"})
    entry = _entry(snap)
    lock.verify_lock_entry(entry, snap)  # the untouched snapshot passes
    (snap / "model.safetensors").write_bytes(b"WEIGHTS")  # same size, other bytes
    (snap / "vocab.txt").write_bytes(b"a\n")
    (snap / "config.json").unlink()
    with pytest.raises(lock.LockMismatchError) as caught:
        lock.verify_lock_entry(entry, snap)
    message = str(caught.value)
    assert "(3 of 3 files)" in message and "config.json: missing" in message
    assert f"model.safetensors: sha256 {hashlib.sha256(b'WEIGHTS').hexdigest()}, locked " in message
    assert "vocab.txt: size 2, locked 4" in message and "Fix: fetch that revision again" in message


@pytest.mark.fast
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: a["files"][0].update(sha256="abc"), "'files[0].sha256'"),
        (lambda a: a.update(revision="main"), "'revision'"),
        (lambda a: a.update(kind="weights"), "'kind'"),
        (lambda a: a["files"][0].update(path="../etc/passwd"), "'files[0].path'"),
    ],
)
def test_a_malformed_lock_names_the_entry_and_field(tmp_path, change, field):
    snap = _tree(tmp_path / "snap", {"config.json": b"hello"})
    path = lock.write_lock(tmp_path / "l.json", [_entry(snap)])
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document["artifacts"][0])
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(
        lock.LockFileError, match=f"l.json: lock entry 'org/m': field {re.escape(field)}: expected .*Fix: "
    ):
        lock.read_lock(path)


# ---------------------------------------------------------------- parquet snapshots


@pytest.mark.fast
def test_parquet_files_in_the_glue_layouts(tmp_path):
    val = write_sst2_parquet(tmp_path / "sst2" / "validation-00000-of-00001.parquet", ["good", "bad"], [1, 0])
    matched = write_sst2_parquet(tmp_path / "mnli" / "validation_matched-00000-of-00001.parquet", ["x"], [0])
    shards = [
        write_sst2_parquet(tmp_path / "qqp" / f"train-{i:05d}-of-00011.parquet", [f"s{i}"], [i % 2]) for i in (10, 2)
    ]
    converted = write_sst2_parquet(tmp_path / "cola" / "validation" / "0000.parquet", ["y"], [1])
    assert hub_parquet.parquet_files(tmp_path, "sst2", "validation") == [val]
    assert hub_parquet.parquet_files(tmp_path, "mnli", "validation") == []  # not validation_matched
    assert hub_parquet.parquet_files(tmp_path, "mnli", "validation_matched") == [matched]
    assert hub_parquet.parquet_files(tmp_path, "qqp", "train") == shards[::-1]  # shard 2 before shard 10
    assert hub_parquet.parquet_files(tmp_path, "cola", "validation") == [converted]
    assert hub_parquet.parquet_columns(tmp_path, "qqp", "train") == {"sentence": ["s2", "s10"], "label": [0, 0]}
    loaded = hub_parquet.load_parquet_split(tmp_path, "sst2", "validation")
    assert loaded["sentence"] == ["good", "bad"] and loaded["label"] == [1, 0]
    assert loaded.features["label"].names == ["negative", "positive"]
    with pytest.raises(MeasurementError, match="config '../sst2' is not a config or split name"):
        hub_parquet.parquet_files(tmp_path, "../sst2", "validation")
    with pytest.raises(NotRunError, match="no parquet file for config 'sst2' split 'test'.*To run it: fetch"):
        hub_parquet.parquet_columns(tmp_path, "sst2", "test")


@pytest.mark.fast
def test_a_corrupt_parquet_file_says_what_to_delete(tmp_path):
    bad = tmp_path / "sst2" / "validation-00000-of-00001.parquet"
    bad.parent.mkdir()
    bad.write_bytes(b"not parquet")
    with pytest.raises(MeasurementError, match="is not a readable parquet file .*delete it and fetch"):
        hub_parquet.parquet_columns(tmp_path, "sst2", "validation")


# ---------------------------------------------------------------- offline


@pytest.mark.fast
def test_fetch_refuses_when_the_environment_is_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.OfflineError, match="HF_HUB_OFFLINE=1 is set.*nothing was downloaded.*HF_HUB_OFFLINE=0"):
        hub.fetch(Artifact("model", "distilbert/distilbert-base-uncased"))


@pytest.mark.fast
def test_fetch_refuses_when_huggingface_hub_was_imported_offline(monkeypatch):
    import huggingface_hub.constants

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(hub.OfflineError, match="imported while HF_HUB_OFFLINE was set"):
        hub.fetch(Artifact("dataset", "nyu-mll/glue"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    assert offline.offline_reason() is None


@pytest.mark.fast
def test_offline_guard_sets_and_restores_env_and_library_flags(monkeypatch):
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    with pytest.raises(RuntimeError, match="inside"), offline.offline_guard():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"
        assert huggingface_hub.constants.is_offline_mode() and datasets.config.HF_HUB_OFFLINE is True
        assert offline.offline_reason() == "HF_HUB_OFFLINE=1 is set in the environment"
        raise RuntimeError("inside")
    assert "HF_HUB_OFFLINE" not in os.environ and os.environ["HF_DATASETS_OFFLINE"] == "0"
    assert huggingface_hub.constants.HF_HUB_OFFLINE is False and datasets.config.HF_HUB_OFFLINE is False
