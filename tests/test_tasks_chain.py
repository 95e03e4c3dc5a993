"""Task claims end to end on tiny stand-ins: data -> fine-tune -> evaluate -> interval -> verdict.

The claims files here run through the pytest plugin (pytester), as a user's run would: the tiny models are
checkpoints in a models directory (and one in a Hugging Face cache layout), the data are GLUE/SQuAD files
in their distributions' layouts, and the fine-tuned models go to a cache the runs share.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tiny  # first: it imports what the in-process pytester runs below must not import twice
import torch

from harness.core.errors import MeasurementError
from harness.measure.kinds.published_head import label_mapping
from harness.measure.measurement import Context, Options
from harness.ml import data, metrics
from harness.ml.finetune import load_for_task, load_tokenizer
from harness.ml.finetune_cache import LOG, MANIFEST
from harness.spec import load

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
CHAIN = (
    tiny.claims_header()
    + tiny.claim("glue.tiny_bert.sst2", "tiny_bert", "glue/sst2", "accuracy")
    + tiny.claim("glue.tiny_distilbert.sst2", "tiny_distilbert", "glue/sst2", "accuracy")
    + tiny.claim(
        "glue.tiny_distilbert.stsb", "tiny_distilbert", "glue/stsb", "pearson_spearman_mean", recipe="tiny_single"
    )
    + tiny.claim("squad.tiny_bert.em", "tiny_bert", "squad_v1", "exact_match", recipe="tiny_squad")
    + tiny.claim("squad.tiny_bert.f1", "tiny_bert", "squad_v1", "squad_f1", recipe="tiny_squad")
    + tiny.formula_claim("glue.retention", "glue.tiny_distilbert.sst2 / glue.tiny_bert.sst2", "glue/sst2")
    + tiny.formula_claim(
        "glue.tiny_distilbert.macro",
        "mean(glue.tiny_distilbert.sst2, glue.tiny_distilbert.stsb)",
        "glue",
        unit="points",
        value=50,
        width=50,
    )
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("chain")
    return {"models": tiny.write_models(root / "models"), "data": tiny.write_data(root / "data"), "root": root}


def _run(
    pytester: pytest.Pytester,
    world: dict[str, Path],
    claims: str,
    cache: Path,
    *args: str,
    subprocess: bool = False,
    models: bool = True,
) -> tuple[Any, dict[str, dict[str, Any]]]:
    pytester.makeini("[pytest]\n")  # the rootdir, whose claims/ holds the claims file
    (pytester.path / "claims").mkdir(exist_ok=True)
    (pytester.path / "claims" / "tiny.toml").write_text(claims, encoding="utf-8")
    out = pytester.path / "out"
    shutil.rmtree(out, ignore_errors=True)
    # --option=value: a separate path argument would count towards the rootdir
    options = [
        *([f"--claims-models-dir={world['models']}"] if models else []),
        f"--claims-data-dir={world['data']}",
        f"--claims-cache-dir={cache}",
        f"--claims-out={out}",
        "-p",
        "no:cacheprovider",
        *args,
    ]
    result = pytester.runpytest_subprocess(*options) if subprocess else pytester.runpytest(*options)
    written = out / "latest" / "results.json"
    results = json.loads(written.read_text())["results"] if written.exists() else []
    by_id: dict[str, dict[str, Any]] = {}
    for r in results:
        by_id.setdefault(r["id"], r)
    return result, by_id


def _trainings(cache: Path) -> list[dict[str, Any]]:
    log = cache / "finetuned" / LOG
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _naive_accuracy(entry: Path, world: dict[str, Path]) -> float:
    """Accuracy recomputed one example at a time, without the harness's batching or metrics."""
    from sklearn.metrics import accuracy_score

    task = data.task("glue/sst2")
    dev = data.load(task, "eval", Options(data_dir=world["data"])).dataset
    model, tok = load_for_task(entry, task).eval(), load_tokenizer(entry)
    with torch.inference_mode():
        predicted = [int(model(**tok(s, return_tensors="pt")).logits.argmax()) for s in dev["sentence"]]
    return float(accuracy_score(list(dev["label"]), predicted))


def _naive_squad(entry: Path, world: dict[str, Path]) -> tuple[float, float]:
    """EM and F1 from a plain argmax decode of each question's single window."""

    task = data.task("squad_v1")
    dev = data.load(task, "eval", Options(data_dir=world["data"])).dataset
    model, tok = load_for_task(entry, task).eval(), load_tokenizer(entry)
    answers = []
    with torch.inference_mode():
        for row in dev:
            enc = tok(row["question"], row["context"], return_offsets_mapping=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping")[0]
            out = model(**enc)
            context = [i for i, s in enumerate(enc.sequence_ids(0)) if s == 1]
            best = max(
                ((out.start_logits[0, s] + out.end_logits[0, e]).item(), s, e)
                for s in context
                for e in context
                if s <= e < s + 5
            )
            answers.append(row["context"][int(offsets[best[1]][0]) : int(offsets[best[2]][1])])
    truths = [a["text"] for a in dev["answers"]]
    return metrics.compute("exact_match", answers, truths), metrics.compute("squad_f1", answers, truths)


def test_the_tiny_chain_runs_end_to_end_and_a_second_run_trains_nothing(pytester, world, tmp_path):
    cache = tmp_path / "cache"
    result, by_id = _run(pytester, world, CHAIN, cache)
    assert set(by_id) == {
        "glue.tiny_bert.sst2",
        "glue.tiny_distilbert.sst2",
        "glue.tiny_distilbert.stsb",
        "squad.tiny_bert.em",
        "squad.tiny_bert.f1",
        "glue.retention",
        "glue.tiny_distilbert.macro",
    }, result.stdout.str()[-3000:]
    for r in by_id.values():
        assert r["verdict"] in ("REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE"), (r["id"], r["reason"])
        assert r["smoke"] and r["evidence"]["smoke"] and "[SMOKE" in r["reason"]
        lo, hi = r["interval"]
        assert lo <= r["measured"] <= hi
    bert = by_id["glue.tiny_bert.sst2"]
    assert bert["evidence"]["path"].startswith("fine-tuned here with recipe tiny_glue seed(s) 1, 2 from tiny/bert at ")
    assert bert["conditions_measured"]["statistic"] == "median of 2 seeds"
    per_seed = bert["details"]["per_seed"]
    assert bert["measured"] == pytest.approx(100 * float(np.median(list(per_seed.values()))))
    entries = bert["evidence"]["cache_entries"]
    assert [_naive_accuracy(Path(e), world) for e in entries] == pytest.approx(list(per_seed.values()))
    distil = by_id["glue.tiny_distilbert.sst2"]
    published = world["models"] / tiny.PUBLISHED_ID
    assert distil["evidence"]["path"] == f"published checkpoint {tiny.PUBLISHED_ID} at {published}"
    assert distil["conditions_measured"]["statistic"] == "one published checkpoint"
    assert "mapped by name" in distil["details"]["labels"]
    # SQuAD: EM and F1 come from one fine-tuned model, agree with a plain decode, and the tiny model learnt
    em, f1 = by_id["squad.tiny_bert.em"], by_id["squad.tiny_bert.f1"]
    assert em["evidence"]["cache_entries"] == f1["evidence"]["cache_entries"]
    naive_em, naive_f1 = _naive_squad(Path(em["evidence"]["cache_entries"][0]), world)
    assert (em["measured"], f1["measured"]) == pytest.approx((100 * naive_em, 100 * naive_f1))
    assert em["measured"] > 50
    # the retention carries the components' bootstrap replicates through its formula
    retention = by_id["glue.retention"]
    assert retention["measured"] == pytest.approx(100 * distil["measured"] / bert["measured"])
    assert retention["interval"][1] > retention["interval"][0]
    assert retention["evidence"]["smoke"]
    # a GLUE macro average over tasks is comparable: its components differ on dataset and each pins it in its own claim
    macro = by_id["glue.tiny_distilbert.macro"]
    assert macro["measured"] == pytest.approx((distil["measured"] + by_id["glue.tiny_distilbert.stsb"]["measured"]) / 2)
    trained = _trainings(cache)
    assert len(trained) == 4  # tiny_bert sst2 x 2 seeds, tiny_distilbert stsb, tiny_bert squad

    _, again = _run(pytester, world, CHAIN, cache)
    assert _trainings(cache) == trained
    for cid, r in again.items():
        assert r["measured"] == by_id[cid]["measured"] and r["interval"] == by_id[cid]["interval"]
        assert not any(r["evidence"].get("trained_this_run", []))

    # a damaged cached model: an error naming it, and no verdict for it or for what is derived from it
    weights = Path(entries[0]) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    result, damaged = _run(pytester, world, CHAIN, cache)
    for cid in ("glue.tiny_bert.sst2", "glue.retention"):
        assert damaged[cid]["verdict"] == "ERROR" and "is damaged: model.safetensors" in damaged[cid]["reason"]
        assert damaged[cid]["measured"] is None
    assert damaged["glue.tiny_distilbert.stsb"]["verdict"] != "ERROR"
    result.stdout.fnmatch_lines(
        ["*claim 'glue.tiny_bert.sst2': the measurement failed while reading the fine-tuning cache:*damaged*"]
    )


XDIST = (
    tiny.claims_header(recipe={**tiny.RECIPE, "epochs": 1})
    + tiny.claim("glue.tiny_bert.sst2_acc", "tiny_bert", "glue/sst2", "accuracy", recipe="tiny_single")
    + tiny.claim("glue.tiny_bert.sst2_f1", "tiny_bert", "glue/sst2", "f1", recipe="tiny_single")
    + tiny.claim("glue.tiny_distilbert.stsb_p", "tiny_distilbert", "glue/stsb", "pearson", recipe="tiny_single")
    + tiny.claim("glue.tiny_distilbert.stsb_s", "tiny_distilbert", "glue/stsb", "spearman", recipe="tiny_single")
)


def test_two_xdist_workers_on_one_cache_train_each_model_once(pytester, world, tmp_path, monkeypatch):
    check_each_model_trained_once(pytester, world, tmp_path, monkeypatch, workers=2)


def check_each_model_trained_once(pytester, world, tmp_path, monkeypatch, workers: int) -> None:
    """Run the XDIST claims with ``workers`` workers on one cache: each model must be trained exactly once."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one thread a worker: no oversubscription of the cores
    # --dist each: every worker measures every claim, so all of them want every model at the same time
    result, by_id = _run(pytester, world, XDIST, cache, "-n", str(workers), "--dist", "each", subprocess=True)
    assert len(by_id) == 4, result.stdout.str()[-3000:]
    trained = _trainings(cache)
    assert sorted(t["entry"].split("-s1-")[0] for t in trained) == ["glue-sst2-tiny_bert", "glue-stsb-tiny_distilbert"]
    assert {t["worker"] for t in trained} <= {f"gw{i}" for i in range(workers)}
    results = json.loads((pytester.path / "out" / "latest" / "results.json").read_text())["results"]
    # every worker measured every claim; the results count each claim once (issue 10: --dist each counted twice)
    assert sorted(r["id"] for r in results) == sorted(by_id)
    for r in results:
        assert r["measured"] == by_id[r["id"]]["measured"]
    assert len(list((cache / "finetuned").glob(f"*/{MANIFEST}"))) == 2


def test_a_published_checkpoint_is_found_in_a_hugging_face_cache_layout(pytester, world, tmp_path, monkeypatch):
    """HF_HOME with hub/models--org--name/snapshots/<commit>/ and refs/main, offline; no --claims-models-dir."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf" / "hub" / "models--tiny-org--distilbert-sst2"
    shutil.copytree(world["models"] / tiny.PUBLISHED_ID, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    claims = tiny.claims_header(published="tiny-org/distilbert-sst2") + tiny.claim(
        "glue.tiny_distilbert.sst2", "tiny_distilbert", "glue/sst2", "accuracy"
    )
    result, by_id = _run(pytester, world, claims, tmp_path / "cache", subprocess=True, models=False)
    r = by_id["glue.tiny_distilbert.sst2"]
    assert r["verdict"] != "ERROR", r["reason"]
    assert r["evidence"]["path"] == f"published checkpoint tiny-org/distilbert-sst2 at {repo / 'snapshots' / commit}"


def test_without_weights_or_data_every_task_claim_is_not_run_with_a_remedy(pytester, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    pytester.makeini("[pytest]\n")
    (pytester.path / "claims").mkdir()
    shutil.copy(ROOT / "claims" / "distilbert.toml", pytester.path / "claims")
    out = pytester.path / "out"
    pytester.runpytest(
        "-m",
        "task",
        f"--claims-out={out}",
        f"--claims-models-dir={tmp_path}",
        f"--claims-data-dir={tmp_path}",
        "-p",
        "no:cacheprovider",
    )
    results = {r["id"]: r for r in json.loads((out / "latest" / "results.json").read_text())["results"]}
    claims_file = load(ROOT / "claims" / "distilbert.toml")
    task_claims = [c for c in claims_file.claims if c.measure is not None and c.measure.kind == "task_score"]
    assert len(task_claims) == 26  # 9 GLUE tasks x 2 models, IMDb x 2, SQuAD EM/F1 x 3 models
    for claim in task_claims:
        r = results[claim.id]
        assert r["verdict"] == "NOT_RUN", (claim.id, r["reason"])
        spec = claims_file.models[claim.measure.params["model"]]
        task = data.task(claim.measure.params["task"])
        published = spec.finetuned.get(task.name)
        expected = [f"DIR/{published}/ (published"] if published else []
        if not (published and claim.measure.params["recipe"] == "squad_distill"):
            expected.append(f"DIR/{spec.hub_id}/ (base checkpoint, fine-tuned here with recipe")
        fetch = f"python -m harness fetch claims/distilbert.toml -k {claim.id} (downloads them); or "
        assert r["remedy"].startswith(fetch + "--claims-models-dir DIR (or CLAIMS_MODELS_DIR=DIR) with "), r["remedy"]
        for text in expected:
            assert text in r["remedy"], (claim.id, r["remedy"])
        assert str(data.local_path(task, "eval", Path("DIR"))) in r["remedy"]
    assert "DIR/distilbert-base-uncased-finetuned-sst-2-english/" in results["glue.distilbert.sst2"]["remedy"]
    assert "DIR/glue/SST-2/dev.tsv" in results["glue.distilbert.sst2"]["remedy"]
    for cid in ("glue.bert_base.macro", "glue.retention", "imdb.gap"):
        assert results[cid]["verdict"] in ("NOT_RUN", "INCONSISTENT")


# ---------------------------------------------------------------- checks inside the measurement


class _Config:
    def __init__(self, id2label: dict[int, str]) -> None:
        self.id2label = id2label
        self.num_labels = len(id2label)


def test_published_labels_are_mapped_by_name_or_assumed_in_order():
    sst2, mnli = data.task("glue/sst2"), data.task("glue/mnli")

    def mapping_of(task, id2label):
        return label_mapping(task, _Config(id2label), Path("x"), "org/x", None)

    assert mapping_of(sst2, {0: "POSITIVE", 1: "NEGATIVE"})[0] == [1, 0]
    mapping, note = mapping_of(mnli, {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"})
    assert mapping == [2, 1, 0] and "mapped by name" in note
    assert mapping_of(sst2, {0: "LABEL_0", 1: "LABEL_1"}) == (
        None,
        "the checkpoint's labels are generic (LABEL_i) and no label_order is declared: assumed to be in the "
        "data set's order (checked against the other permutations)",
    )
    with pytest.raises(MeasurementError, match="do not name glue/sst2's labels"):
        mapping_of(sst2, {0: "yes", 1: "no"})
    with pytest.raises(MeasurementError, match="has 3 labels"):
        mapping_of(sst2, {0: "a", 1: "b", 2: "c"})


def _context(tmp_path: Path, world: dict[str, Path], text: str) -> Context:
    path = tmp_path / "claims.toml"
    path.write_text(text, encoding="utf-8")
    claims_file = load(path)
    assert not claims_file.invalid, claims_file.invalid
    return Context(claims_file, Options(models_dir=world["models"], data_dir=world["data"], cache_dir=tmp_path))


def test_a_checkpoint_of_another_size_is_refused_unless_declared_a_stand_in(world, tmp_path):
    text = tiny.claims_header().replace("\ndim = 32", "\ndim = 768", 1)
    text += tiny.claim("glue.x.sst2", "tiny_distilbert", "glue/sst2", "accuracy").replace("smoke = true\n", "")
    context = _context(tmp_path, world, text)
    with pytest.raises(MeasurementError, match=re.escape("dim 32 (claims file: 768)") + ".*add smoke = true"):
        context.measure(context.file.claim("glue.x.sst2"))


@pytest.mark.parametrize(
    ("task", "metric", "split", "message"),
    [
        ("glue/sst2", "pearson", "validation", "metric 'pearson' does not apply to glue/sst2"),
        ("glue/mnli", "accuracy", "validation", "the harness scores glue/mnli on its 'validation_matched' split"),
    ],
)
def test_metric_and_split_must_fit_the_task(world, tmp_path, task, metric, split, message):
    text = tiny.claims_header() + tiny.claim("x.y", "tiny_bert", task, metric, split=split)
    path = tmp_path / "claims.toml"  # found when the file loads (the task_score kind's check): never measured
    path.write_text(text, encoding="utf-8")
    loaded = load(path)
    (record,) = loaded.invalid
    assert record.name == "x.y" and record.error.field == "metric" and message in str(record.error)
