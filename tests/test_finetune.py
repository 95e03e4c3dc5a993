"""Recipes, and the fine-tuned model cache: built once, atomic, checked, and clear about disk trouble."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tiny

from harness.core.errors import MeasurementError, NotRunError
from harness.measure.measurement import Options
from harness.ml import data
from harness.ml.devices import resolve_device
from harness.ml.evaluation import Runtime, predict_classes
from harness.ml.finetune import load_for_task, load_tokenizer
from harness.ml.finetune_cache import LOG, MANIFEST, checkpoint_digest
from harness.ml.recipes import recipe
from harness.spec import load

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
QUICK = {**tiny.RECIPE, "epochs": 1}  # 4 optimizer steps: enough to exercise the cache


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    return {"models": tiny.write_models(root / "models"), "data": tiny.write_glue(root / "data")}


def _tune(cache: Path, world: dict[str, Path], seed: int = 1):
    return tiny.finetune_once(cache, world["models"], world["data"], seed=seed, recipe=QUICK)


def _entries(cache: Path) -> list[Path]:
    return sorted(p.parent for p in (cache / "finetuned").glob(f"*/{MANIFEST}"))


def _trainings(cache: Path) -> list[dict]:
    log = cache / "finetuned" / LOG
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# ---------------------------------------------------------------- recipes


def test_recipes_of_the_claims_file_resolve_per_task():
    tables = load(ROOT / "claims" / "distilbert.toml").recipes
    sst2 = recipe(tables, "glue_run_glue", data.task("glue/sst2"))
    assert (sst2.learning_rate, sst2.batch_size, sst2.epochs, sst2.max_length) == (2e-5, 32, 3, 128)
    assert sst2.seeds == (42, 43, 44, 45, 46) and sst2.aggregate == "median"
    assert recipe(tables, "glue_run_glue", data.task("glue/mrpc")).epochs == 5  # overrides."glue/mrpc"
    squad = recipe(tables, "squad_distill", data.task("squad_v1"))  # base = "squad_run_squad"
    assert (squad.max_length, squad.doc_stride, squad.learning_rate, squad.teacher) == (384, 128, 3e-5, "bert_base")
    with pytest.raises(MeasurementError, match="is for dataset 'imdb', not 'glue/sst2'"):
        recipe(tables, "imdb", data.task("glue/sst2"))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"lr": 1}, "unknown key 'lr'"),
        ({"max_length": 8, "batch_size": 2, "learning_rate": 1e-3}, "missing epochs"),
        ({**tiny.RECIPE, "aggregate": "single"}, "aggregate 'single'"),
        ({**tiny.RECIPE, "seeds": []}, "seeds must be a non-empty array"),
        ({**tiny.RECIPE, "warmup_steps": 10}, "warmup_ratio or warmup_steps, not both"),
        ({**tiny.RECIPE, "truncation": "tail"}, "truncation 'tail' is not implemented"),
        ({"base": "r"}, "chain loops"),
    ],
)
def test_bad_recipes_are_explained(table, message):
    with pytest.raises(MeasurementError, match=message):
        recipe({"r": table}, "r", data.task("glue/sst2"))


def test_a_distillation_recipe_without_its_teacher_checkpoint_is_not_run(world, tmp_path):
    with pytest.raises(MeasurementError, match="field 'temperature'"):
        tiny.finetune_once(tmp_path, world["models"], world["data"], recipe={**QUICK, "teacher": "big"})
    weights = {"temperature": 2.0, "alpha_ce": 0.5, "alpha_task": 0.5}
    with pytest.raises(NotRunError, match="names teacher 'big' but no teacher checkpoint was resolved"):
        tiny.finetune_once(tmp_path, world["models"], world["data"], recipe={**QUICK, "teacher": "big", **weights})


# ---------------------------------------------------------------- the cache


def test_an_entry_is_trained_once_then_served_from_the_cache(world, tmp_path):
    first = _tune(tmp_path, world)
    assert first.trained_now
    manifest = json.loads((first.path / MANIFEST).read_text())
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(manifest["files"])
    assert manifest["inputs"]["seed"] == 1 and manifest["inputs"]["recipe"]["learning_rate"] == QUICK["learning_rate"]
    assert "train_loss" in manifest["train_metrics"]
    second = _tune(tmp_path, world)
    assert not second.trained_now and second.path == first.path
    assert len(_trainings(tmp_path)) == 1
    assert not list((tmp_path / "finetuned").glob(".tmp-*"))
    other_seed = _tune(tmp_path, world, seed=2)
    assert other_seed.trained_now and other_seed.path != first.path  # the seed is part of the key


def test_the_key_follows_the_base_checkpoint_content(world, tmp_path):
    base = world["models"] / tiny.BERT_ID
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in base.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    assert checkpoint_digest(copy) == checkpoint_digest(base)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "hidden_dropout_prob": 0.2}))
    assert checkpoint_digest(copy) != checkpoint_digest(base)


def _logits(entry, world) -> np.ndarray:
    task = data.task("glue/sst2")
    dev = data.load(task, "eval", Options(data_dir=world["data"]))
    model = load_for_task(entry.path, task)
    return predict_classes(
        model, load_tokenizer(entry.path), [list(dev.dataset["sentence"])], Runtime("cpu"), max_length=64, batch_size=16
    )


def test_the_same_seed_twice_gives_identical_results_on_cpu(world, tmp_path):
    a = _tune(tmp_path / "a", world)
    b = _tune(tmp_path / "b", world)
    assert a.trained_now and b.trained_now
    assert np.array_equal(_logits(a, world), _logits(b, world))
    assert a.manifest["train_metrics"]["train_loss"] == b.manifest["train_metrics"]["train_loss"]


KILLED = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import transformers
import tiny

real = transformers.Trainer.save_model

def save_then_hang(self, *args, **kwargs):
    real(self, *args, **kwargs)  # the weights are on disk; the manifest and the rename are not
    Path({marker!r}).touch()
    time.sleep(600)

transformers.Trainer.save_model = save_then_hang
tiny.finetune_once({cache!r}, {models!r}, {data!r}, recipe={recipe!r})
"""


def test_a_run_killed_mid_way_leaves_no_entry_and_the_next_run_rebuilds(world, tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "saved"
    script = KILLED.format(
        tests=str(ROOT / "tests"),
        marker=str(marker),
        cache=str(cache),
        models=str(world["models"]),
        data=str(world["data"]),
        recipe=QUICK,
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else "exited"
            assert time.monotonic() < deadline, "the fine-tuning subprocess never reached save_model"
            time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    leftovers = list((cache / "finetuned").glob(".tmp-*"))
    assert leftovers and (leftovers[0] / "model.safetensors").is_file()  # complete weights, but not an entry
    assert _entries(cache) == [] and _trainings(cache) == []
    entry = _tune(cache, world)
    assert entry.trained_now and _entries(cache) == [entry.path]
    assert not list((cache / "finetuned").glob(".tmp-*"))


def test_a_damaged_entry_is_an_error_that_says_what_to_delete(world, tmp_path):
    entry = _tune(tmp_path, world)
    weights = entry.path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # truncated, as by a full disk
    with pytest.raises(MeasurementError, match=r"is damaged: model.safetensors has \d+ bytes.*rm -rf"):
        _tune(tmp_path, world)
    (entry.path / MANIFEST).write_text("{not json")
    with pytest.raises(MeasurementError, match="unreadable manifest"):
        _tune(tmp_path, world)


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, under: Path, code: int) -> None:
    """Make creating files and directories under ``under`` fail with ``code``, as a read-only mount does
    (needed when the tests run as root, which ignores permission bits)."""
    real_open, real_mkdir = os.open, os.mkdir

    def inside(path) -> bool:
        return Path(os.fsdecode(path)).resolve().is_relative_to(under.resolve())

    def guarded_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def guarded_mkdir(path, *args, **kwargs):
        if inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "mkdir", guarded_mkdir)


def test_a_read_only_cache_directory_is_a_clear_error(world, tmp_path, monkeypatch):
    cache = tmp_path / "read-only"
    cache.mkdir()
    cache.chmod(0o555)
    if os.geteuid() == 0:
        _refuse_writes(monkeypatch, cache, errno.EROFS)
    try:
        with pytest.raises(MeasurementError, match="make .*read-only.* writable or point --claims-cache-dir"):
            _tune(cache, world)
    finally:
        cache.chmod(0o755)


def test_a_failing_write_is_a_clear_error_and_leaves_nothing(world, tmp_path, monkeypatch):
    import transformers

    def disk_full(self, output_dir=None, *args, **kwargs):
        (Path(output_dir) / "model.safetensors").write_bytes(b"\0" * 100)  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transformers.Trainer, "save_model", disk_full)
    with pytest.raises(MeasurementError, match="No space left on device.*free disk space under .*Nothing was cached"):
        _tune(tmp_path, world)
    assert _entries(tmp_path) == [] and _trainings(tmp_path) == []
    assert not list((tmp_path / "finetuned").glob(".tmp-*"))


@pytest.mark.parametrize(
    ("requested", "worker", "visible", "expected_visible"),
    [
        ("cuda", "gw0", None, "0"),
        ("cuda", "gw5", None, "1"),  # gw5 on 4 GPUs: 5 % 4
        ("cuda", "gw2", "4,5,6,7", "6"),  # an index into the GPUs already made visible
        ("cuda:3", "gw1", None, "3"),  # an explicit GPU wins over the worker's
    ],
)
def test_each_xdist_worker_is_pinned_to_its_own_gpu(monkeypatch, requested, worker, visible, expected_visible):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert resolve_device(requested) == "cuda:0"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == expected_visible
    with pytest.raises(NotRunError, match="'cuda:4' was asked for but 1 CUDA device"):
        resolve_device("cuda:4")  # now one GPU is visible to this process


def test_devices():
    assert resolve_device("cpu") == "cpu"
    assert Runtime.for_device("cpu").precision == "float32"
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(NotRunError, match="no CUDA device is visible"):
            resolve_device("cuda")
