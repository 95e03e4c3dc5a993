"""Downloads from the loopback hub stand-in (tests/hub_server.py), in subprocesses because ``huggingface_hub`` reads
``HF_ENDPOINT`` at import: resolved commits, per-file hashes, the lock file and the request log of ``fetch``; a
parquet ``datasets.load_dataset`` online and then from its cache offline; and zero requests under the offline
guard."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tiny
from hub_fixtures import write_sst2_parquet
from hub_server import HubServer

from harness.ml import hub, hub_parquet, lock
from harness.ml.hub import Artifact

REPO_ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- the loopback hub (slow: subprocesses)

FETCH_CLIENT = """
import json, sys
from pathlib import Path
from harness.ml.hub import Artifact, fetch
from harness.ml.lock import write_lock
out = Path(sys.argv[1])
model = fetch(Artifact("model", "tiny-org/bert-sst2"), progress=False)
cached = fetch(Artifact("dataset", "nyu-mll/glue", allow_patterns=["sst2/*"]), progress=False)
laid_out = fetch(Artifact("dataset", "nyu-mll/glue", allow_patterns=["sst2/*"]), to=out / "data", progress=False)
write_lock(out / "hub.lock.json", [model.lock_entry(), cached.lock_entry()])
print(json.dumps({k: {"revision": f.revision, "path": str(f.path), "hashes": f.hashes}
                  for k, f in (("model", model), ("cached", cached), ("laid_out", laid_out))}))
"""
REFETCH_CLIENT = """
import json, sys
from harness.ml.hub import Artifact, fetch
f = fetch(Artifact("model", "tiny-org/bert-sst2", revision=sys.argv[1]), progress=False)
print(json.dumps({"revision": f.revision, "path": str(f.path)}))
"""
GUARDED_CLIENT = """
import json
import datasets, huggingface_hub, transformers  # imported online, before the guard
from harness.ml.hub import Artifact, fetch
from harness.ml.offline import offline_guard
attempts = {
    "fetch": lambda: fetch(Artifact("model", "tiny-org/bert-sst2"), progress=False),
    "snapshot_download": lambda: huggingface_hub.snapshot_download("tiny-org/bert-sst2"),
    "hf_hub_download": lambda: huggingface_hub.hf_hub_download("tiny-org/bert-sst2", "config.json"),
    "from_pretrained": lambda: transformers.AutoConfig.from_pretrained("tiny-org/bert-sst2"),
    "load_dataset": lambda: datasets.load_dataset("nyu-mll/glue", "sst2"),
}
outcome = {}
with offline_guard():
    for name, attempt in attempts.items():
        try:
            attempt()
            outcome[name] = "succeeded"
        except Exception as exc:
            outcome[name] = type(exc).__name__
print(json.dumps(outcome))
"""
CONTROL_CLIENT = """
import huggingface_hub
print(huggingface_hub.hf_hub_download("tiny-org/bert-sst2", "config.json"))
"""
LOAD_DATASET_CLIENT = """
import json
import datasets
ds = datasets.load_dataset("nyu-mll/glue", "sst2", split="validation")
print(json.dumps({"rows": ds.to_dict(), "labels": ds.features["label"].names}))
"""
MODEL_ID = "tiny-org/bert-sst2"
SST2_SPLITS = ("train", "validation")
#: the dataset card's configs block, as nyu-mll/glue's README.md declares its parquet files
GLUE_CARD = """---
configs:
- config_name: cola
  data_files:
  - split: validation
    path: cola/validation-*
- config_name: sst2
  data_files:
  - split: train
    path: sst2/train-*
  - split: validation
    path: sst2/validation-*
---
# GLUE stand-in
"""


def _hub_root(root: Path) -> Path:
    """A tiny fine-tuned BERT (config, safetensors, tokenizer files) and a GLUE-layout parquet data set."""
    tiny.save_checkpoint(
        root / "models" / MODEL_ID, tiny.TINY_BERT, head="AutoModelForSequenceClassification", num_labels=2
    )
    glue = root / "datasets" / "nyu-mll" / "glue"
    write_sst2_parquet(glue / "sst2" / "train-00000-of-00001.parquet", ["a good film", "a bad film", "fine"], [1, 0, 1])
    write_sst2_parquet(glue / "sst2" / "validation-00000-of-00001.parquet", ["great", "awful"], [1, 0])
    write_sst2_parquet(glue / "cola" / "validation-00000-of-00001.parquet", ["the cat sat"], [1])
    (glue / "README.md").write_text(GLUE_CARD, encoding="utf-8")
    return root


def _client(server: HubServer, home: Path, code: str, *args: str, env: dict[str, str] | None = None) -> str:
    env = server.env(home, PYTHONPATH=str(REPO_ROOT), **(env or {}))
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=home, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"client failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout.strip().splitlines()[-1]


def _sha256s(repo: Path, prefix: str = "") -> dict[str, str]:
    return {
        p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).as_posix().startswith(prefix)
    }


@pytest.mark.slow
def test_fetch_from_the_loopback_hub_resolves_hashes_and_locks(tmp_path):
    root = _hub_root(tmp_path / "hub")
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    with HubServer(root, timeout_s=300) as server:
        got = json.loads(_client(server, home, FETCH_CLIENT, str(out)))
        first = server.requests
        model_commit = server.commit("model", MODEL_ID)
        refetched = json.loads(_client(server, home, REFETCH_CLIENT, model_commit))
        second = server.requests[len(first) :]
        glue_commit = server.commit("dataset", "nyu-mll/glue")
    model_files = _sha256s(root / "models" / MODEL_ID)
    sst2_files = _sha256s(root / "datasets" / "nyu-mll" / "glue", "sst2/")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= set(model_files)
    assert got["model"]["revision"] == model_commit and got["model"]["hashes"] == model_files
    assert Path(got["model"]["path"]) == home / "hub" / f"models--tiny-org--bert-sst2/snapshots/{model_commit}"
    assert got["cached"]["revision"] == glue_commit and got["cached"]["hashes"] == sst2_files
    assert got["laid_out"]["hashes"] == sst2_files and Path(got["laid_out"]["path"]) == out / "data/nyu-mll/glue"
    # requests, per fetch: one info call and one tree listing, then per wanted file (cola skipped) a HEAD and a
    # GET; the laid-out copy of files already in the hub cache is taken from it (HEAD only, no GET)
    calls = [i for i, (_, p) in enumerate(first) if p.startswith("/api/") and "/tree/" not in p] + [len(first)]
    fetches = [first[a:b] for a, b in zip(calls, calls[1:], strict=False)]
    assert [len(f) for f in fetches] == [2 + 2 * len(model_files), 2 + 2 * len(sst2_files), 2 + len(sst2_files)]
    assert fetches[0][:2] == [
        ("GET", f"/api/models/{MODEL_ID}"),
        ("GET", f"/api/models/{MODEL_ID}/tree/{model_commit}"),
    ]
    for method in ("HEAD", "GET"):
        assert sorted(p for m, p in fetches[0] if m == method and "/resolve/" in p) == sorted(
            f"/{MODEL_ID}/resolve/{model_commit}/{rel}" for rel in model_files
        )
    assert sorted(p for m, p in fetches[2] if m == "HEAD") == sorted(
        f"/datasets/nyu-mll/glue/resolve/{glue_commit}/{rel}" for rel in sst2_files
    )
    assert not any("cola" in p for _, p in first)
    # a pinned artifact already cached: one info call, no file request
    assert refetched == {"revision": model_commit, "path": got["model"]["path"]}
    assert second == [("GET", f"/api/models/{MODEL_ID}/revision/{model_commit}")]
    # the lock file, re-read and re-verified against the files on disk
    entries = {e.repo_id: e for e in lock.read_lock(out / "hub.lock.json")}
    assert sorted(entries) == ["nyu-mll/glue", MODEL_ID]
    assert entries[MODEL_ID].revision == model_commit and entries["nyu-mll/glue"].revision == glue_commit
    lock.verify_lock_entry(entries[MODEL_ID], Path(got["model"]["path"]))
    lock.verify_lock_entry(entries["nyu-mll/glue"], Path(got["laid_out"]["path"]))
    # offline again (this process): the cache is found, under the legacy id too, and what it holds loads
    cache = home / "hub"
    assert hub.find_cached(Artifact("model", MODEL_ID), cache) == Path(got["model"]["path"])
    assert hub.find_cached(Artifact("model", MODEL_ID, revision=model_commit), cache) == Path(got["model"]["path"])
    legacy = Artifact("dataset", "glue", config="sst2", split="validation")
    assert hub.find_cached(legacy, cache) == Path(got["cached"]["path"])
    assert hub.find_cached(Artifact("dataset", "glue", config="cola", split="validation"), cache) is None
    columns = hub_parquet.parquet_columns(Path(got["laid_out"]["path"]), "sst2", "validation")
    assert columns == {"sentence": ["great", "awful"], "label": [1, 0]}
    import torch
    import transformers

    snapshot = Path(got["model"]["path"])
    model = transformers.AutoModelForSequenceClassification.from_pretrained(snapshot).eval()
    batch = transformers.AutoTokenizer.from_pretrained(snapshot)(columns["sentence"], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert model(**batch).logits.shape == (2, 2)


@pytest.mark.slow
def test_under_the_offline_guard_zero_requests_reach_the_hub(tmp_path):
    root = _hub_root(tmp_path / "hub")
    home = tmp_path / "home"
    home.mkdir()
    with HubServer(root, timeout_s=300) as server:
        outcome = json.loads(_client(server, home, GUARDED_CLIENT))
        guarded = server.requests
        path = _client(server, home, CONTROL_CLIENT)  # the same client without the guard does reach it
        unguarded = server.requests
    assert outcome["fetch"] == "OfflineError"
    assert "succeeded" not in outcome.values(), outcome
    assert guarded == []
    assert [m for m, _ in unguarded] == ["HEAD", "GET"], unguarded
    assert all(p.endswith("/config.json") and p.startswith(f"/{MODEL_ID}/resolve/") for _, p in unguarded)
    assert Path(path).name == "config.json"


@pytest.mark.slow
def test_load_dataset_reads_the_parquet_repo_online_then_its_cache_offline(tmp_path):
    root = _hub_root(tmp_path / "hub")
    home = tmp_path / "home"
    home.mkdir()
    expected = {"rows": {"sentence": ["great", "awful"], "label": [1, 0]}, "labels": ["negative", "positive"]}
    with HubServer(root, timeout_s=300) as server:
        assert json.loads(_client(server, home, LOAD_DATASET_CLIENT)) == expected
        online = server.requests
        offline = json.loads(_client(server, home, LOAD_DATASET_CLIENT, env={"HF_HUB_OFFLINE": "1"}))
        after = server.requests
    commit = server.commit("dataset", "nyu-mll/glue")
    wanted = [
        f"/datasets/nyu-mll/glue/resolve/{commit}/sst2/{s}-00000-of-00001.parquet" for s in ("train", "validation")
    ]
    assert sorted(p for m, p in online if m == "GET" and p.endswith(".parquet")) == wanted  # cola not downloaded
    assert offline == expected and after == online  # the second run came from the datasets cache: no request


UNREACHABLE_CLIENT = """
from harness.ml.hub import Artifact, FetchError, fetch
try:
    fetch(Artifact("model", "tiny-org/bert-sst2"), progress=False)
except FetchError as exc:
    print(exc)
"""


@pytest.mark.slow
def test_an_unreachable_hub_is_a_fetch_error_that_names_the_endpoint(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    server = HubServer(tmp_path, timeout_s=60).start()
    server.stop()  # the port is closed now: nothing listens there
    message = _client(server, home, UNREACHABLE_CLIENT)
    assert message.startswith(f"fetch model tiny-org/bert-sst2 (unpinned) from {server.url}: the download failed (")
    assert message.endswith(f"Fix: check the connection to {server.url} and retry")
