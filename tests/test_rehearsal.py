"""The dress rehearsal (issue 12): the path a real user takes, with tiny stand-ins under the claims file's real ids.

A loopback hub (tests/hub_server.py) serves tiny random checkpoints under the ids of claims/distilbert.toml
(``distilbert-base-uncased-finetuned-sst-2-english``, ``textattack/...``) and a GLUE-layout parquet data set
(``nyu-mll/glue``); a claims file that mirrors distilbert.toml's ids for a few task claims (``smoke = true``: the
models are stand-ins, so the verdicts are evidence about the machinery only) lives in a foreign project directory
(no conftest.py, online environment). Every client is a subprocess, because ``huggingface_hub`` reads
``HF_ENDPOINT`` at import. It checks:

- ``fetch --dry-run`` plans the right artifacts and sends zero requests;
- ``fetch`` downloads them and writes ``claims.lock.json``; an offline ``pytest -m claims`` then measures the
  claims with the served commits in their evidence, and sends zero requests;
- ``--claims-fetch`` does both in one run;
- without the opt-in and with nothing cached, zero requests reach the server and the claims are NOT_RUN with
  the fetch command as remedy: from the foreign project and from this repository;
- a file changed after the fetch is an ERROR naming the lock file.

- the headless stand-in (``textattack/bert-base-uncased-RTE``) and the label-permuted one
  (``textattack/distilbert-base-uncased-RTE``, a copy of the MRPC stand-in with its outputs swapped; the served RTE
  validation labels are the MRPC stand-in's own predictions, so the swap is wrong on every example) end in ERROR
  with their messages: no task head, and label mapping suspect (issue 12 item 4).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tiny
from hub_fixtures import relabel_by_model, save_classifier, save_headless, save_label_permuted, write_glue_repo
from hub_server import HubServer

REPO_ROOT = Path(__file__).resolve().parent.parent
SST2_DISTIL = "distilbert-base-uncased-finetuned-sst-2-english"
SST2_BERT = "textattack/bert-base-uncased-SST-2"
MRPC_DISTIL = "textattack/distilbert-base-uncased-MRPC"
RTE_HEADLESS = "textattack/bert-base-uncased-RTE"
RTE_PERMUTED = "textattack/distilbert-base-uncased-RTE"
CLAIM_IDS = ("glue.distilbert.sst2", "glue.bert_base.sst2", "glue.distilbert.mrpc")
GUARDED = ("glue.bert_base.rte", "glue.distilbert.rte")


def _hub(root: Path) -> Path:
    """The stand-in hub: three fine-tuned tiny classifiers, a headless and a label-permuted one, GLUE parquet."""
    models = root / "models"
    save_classifier(models / SST2_DISTIL, tiny.TINY_DISTILBERT, ["NEGATIVE", "POSITIVE"], seed=1)
    save_classifier(models / SST2_BERT, tiny.TINY_BERT, None, seed=2)
    save_classifier(models / MRPC_DISTIL, tiny.TINY_DISTILBERT, None, seed=3)
    save_headless(models / RTE_HEADLESS, tiny.TINY_BERT, seed=4)
    save_label_permuted(models / RTE_PERMUTED, models / MRPC_DISTIL, [1, 0])
    glue = write_glue_repo(root / "datasets" / "nyu-mll" / "glue")
    relabel_by_model(glue / "rte" / "validation-00000-of-00001.parquet", "rte", models / MRPC_DISTIL)
    return root


def _task_claim(cid: str, model: str, task: str, metric: str) -> str:
    return f"""
[[claims]]
id = "{cid}"
quote = "stand-in of the distilbert.toml claim of the same id"
location = "Table 1"
value = 50.0
unit = "points"
precision = 0.1
comparable_on = ["dataset", "split"]
[claims.metric]
name = "{metric}"
split = "validation"
[claims.conditions]
dataset = "{task}"
split = "validation"
[claims.tolerance]
kind = "absolute"
value = 50.0
rationale = "a wide band: tiny random stand-ins check the machinery, not the paper's number"
[claims.measure]
kind = "task_score"
model = "{model}"
task = "{task}"
smoke = true
"""


def _claims_toml() -> str:
    def model(name: str, hub_id: str, config: dict, finetuned: dict[str, str]) -> str:
        rows = "\n".join(f"{k} = {json.dumps(v)}" for k, v in config.items())
        tuned = "\n".join(f'"{k}" = "{v}"' for k, v in finetuned.items())
        return (
            f'[models.{name}]\nhub_id = "{hub_id}"\nconfig_source = "tests/tiny.py"\n'
            f"[models.{name}.config]\n{rows}\n[models.{name}.finetuned]\n{tuned}\n"
        )

    header = 'schema_version = 1\n[source]\nkey = "rehearsal"\ntitle = "t"\nreference = "tests"\nversion = "v4"\n'
    return (
        header
        + model("bert_base", "bert-base-uncased", tiny.TINY_BERT, {"glue/sst2": SST2_BERT, "glue/rte": RTE_HEADLESS})
        + model(
            "distilbert",
            "distilbert-base-uncased",
            tiny.TINY_DISTILBERT,
            {"glue/sst2": SST2_DISTIL, "glue/mrpc": MRPC_DISTIL, "glue/rte": RTE_PERMUTED},
        )
        + _task_claim("glue.distilbert.sst2", "distilbert", "glue/sst2", "accuracy")
        + _task_claim("glue.bert_base.sst2", "bert_base", "glue/sst2", "accuracy")
        + _task_claim("glue.distilbert.mrpc", "distilbert", "glue/mrpc", "acc_and_f1")
        + _task_claim("glue.bert_base.rte", "bert_base", "glue/rte", "accuracy")
        + _task_claim("glue.distilbert.rte", "distilbert", "glue/rte", "accuracy")
    )


def _project(path: Path) -> Path:
    """A foreign project: claims/rehearsal.toml and a pytest.ini, no conftest.py."""
    (path / "claims").mkdir(parents=True)
    (path / "claims" / "rehearsal.toml").write_text(_claims_toml(), encoding="utf-8")
    (path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return path


def _run(server: HubServer, home: Path, cwd: Path, *args: str, expect: int | None = 0) -> str:
    env = server.env(home, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if expect is not None:
        assert done.returncode == expect, f"{args} -> {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    return done.stdout + done.stderr


def _results(out: Path) -> dict[str, dict]:
    return {r["id"]: r for r in json.loads((out / "latest" / "results.json").read_text())["results"]}


def _pytest(out: Path, *extra: str) -> tuple[str, ...]:
    return ("-m", "pytest", "-m", "claims", "-p", "no:cacheprovider", "-q", f"--claims-out={out}", *extra)


@pytest.mark.slow
def test_dress_rehearsal_fetch_then_offline_measure_and_zero_requests_without_opt_in(tmp_path):
    hub_root = _hub(tmp_path / "hub")
    project = _project(tmp_path / "project")
    log: dict[str, int] = {}
    with HubServer(hub_root, timeout_s=900) as server:
        commits = {
            i: server.commit("model", i) for i in (SST2_DISTIL, SST2_BERT, MRPC_DISTIL, RTE_HEADLESS, RTE_PERMUTED)
        }
        glue = server.commit("dataset", "nyu-mll/glue")

        # without opt-in, nothing cached: from the foreign project and from this repository
        empty = tmp_path / "empty-home"
        empty.mkdir()
        before = len(server.requests)
        text = _run(server, empty, project, *_pytest(tmp_path / "out0"))
        not_run = _results(tmp_path / "out0")
        _run(server, empty, REPO_ROOT, *_pytest(tmp_path / "out-repo", "claims/distilbert.toml", "-k", "sst2"))
        log["no opt-in (foreign project + this repository)"] = len(server.requests) - before
        assert server.requests[before:] == [], text

        # the dry run plans exactly the right artifacts, offline
        home = tmp_path / "home"
        home.mkdir()
        before = len(server.requests)
        plan = _run(server, home, project, "-m", "harness", "fetch", "claims/rehearsal.toml", "--dry-run")
        log["fetch --dry-run"] = len(server.requests) - before
        assert server.requests[before:] == []

        # fetch, then an offline run (the environment is online: the harness itself keeps it offline)
        before = len(server.requests)
        fetched = _run(server, home, project, "-m", "harness", "fetch", "claims/rehearsal.toml")
        log["fetch"] = len(server.requests) - before
        before = len(server.requests)
        measured_text = _run(server, home, project, *_pytest(tmp_path / "out1"), expect=None)
        log["pytest -m claims after fetch"] = len(server.requests) - before
        assert server.requests[before:] == [], measured_text
        measured = _results(tmp_path / "out1")

        # --claims-fetch: the same in one run, from an empty cache
        one_run = tmp_path / "home-one-run"
        one_run.mkdir()
        (project / "claims" / "claims.lock.json").unlink()
        before = len(server.requests)
        one_text = _run(server, one_run, project, *_pytest(tmp_path / "out2", "--claims-fetch"), expect=None)
        log["pytest -m claims --claims-fetch"] = len(server.requests) - before
        in_one = _results(tmp_path / "out2")

        # a file changed after the fetch: the lock file catches it
        snapshot = one_run / "hub" / f"models--{SST2_DISTIL}" / "snapshots" / commits[SST2_DISTIL]
        config = snapshot / "config.json"
        text_config = config.read_text()
        config.unlink()  # a symlink into blobs/: replace it by an edited copy
        config.write_text(text_config.replace('"dim": 32', '"dim": 32 '))
        _run(server, one_run, project, *_pytest(tmp_path / "out3", "-k", "distilbert and sst2"), expect=None)
        tampered = _results(tmp_path / "out3")
    print("request log:", log)

    assert all(not_run[c]["verdict"] == "NOT_RUN" for c in CLAIM_IDS), not_run
    assert "python -m harness fetch claims/rehearsal.toml -k glue.distilbert.sst2" in not_run[CLAIM_IDS[0]]["remedy"]
    assert _results(tmp_path / "out-repo")["glue.distilbert.sst2"]["verdict"] == "NOT_RUN"

    for hub_id in commits:
        assert f"model {hub_id} (unpinned)" in plan
    for part in ("[sst2/validation]", "[mrpc/validation]", "[rte/validation]"):
        assert f"dataset nyu-mll/glue (unpinned) {part}" in plan
    assert "8 artifacts for 5 selected claims" in plan
    assert "train" not in plan  # published checkpoints only: no base, no train split

    lock = json.loads((project / "claims" / "claims.lock.json").read_text())
    assert {(a["repo_id"], a["revision"]) for a in lock["artifacts"]} == {
        *((i, c) for i, c in commits.items()),
        ("nyu-mll/glue", glue),
    }
    assert "lock file:" in fetched

    for results in (measured, in_one):
        for cid, hub_id in zip(CLAIM_IDS, (SST2_DISTIL, SST2_BERT, MRPC_DISTIL), strict=True):
            r = results[cid]
            assert r["verdict"] in ("REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE"), r
            assert r["evidence"]["smoke"] is True
            assert r["evidence"]["checkpoint_id"] == hub_id
            assert r["evidence"]["checkpoint_revision"] == commits[hub_id]
            assert len(r["evidence"]["checkpoint_sha256"]) == 64
            assert r["evidence"]["data_id"] == "nyu-mll/glue"
            assert r["evidence"]["data_revision"] == glue
    for results in (measured, in_one):  # the guards on published checkpoints
        headless, permuted = (results[c] for c in GUARDED)
        assert headless["verdict"] == "ERROR" and "has no task head" in headless["reason"], headless
        assert RTE_HEADLESS in headless["reason"] and "classifier.weight" in headless["reason"]
        assert permuted["verdict"] == "ERROR" and "label mapping suspect" in permuted["reason"], permuted
        assert RTE_PERMUTED in permuted["reason"] and "as [1, 0] scores 1.0000 accuracy" in permuted["reason"]
    assert "fetch plan" in one_text and "lock file:" in one_text
    assert log["pytest -m claims --claims-fetch"] > 0

    bad = tampered["glue.distilbert.sst2"]
    assert bad["verdict"] == "ERROR", bad
    assert "claims.lock.json" in bad["reason"] and "config.json: size" in bad["reason"]
    for name, results in (("fetch, then offline", measured), ("--claims-fetch", in_one)):
        print(name, {c: (results[c]["verdict"], results[c]["measured"]) for c in CLAIM_IDS + GUARDED})
