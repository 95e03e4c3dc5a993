"""The task chain on a CUDA device: a tiny model fine-tuned and evaluated on the GPU (bf16/TF32 where the
device has them), self-contained; skipped on machines without one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tiny

from harness.measure.measurement import Context, Options
from harness.ml import data
from harness.ml.devices import resolve_device
from harness.ml.evaluation import Runtime, default_batch_size, predict_classes
from harness.ml.finetune import load_for_task, load_tokenizer
from harness.ml.finetune_cache import MANIFEST
from harness.spec import load

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none is visible)"),
]


def test_tiny_fine_tune_and_evaluation_on_cuda(tmp_path: Path) -> None:
    models, data_dir = tiny.write_models(tmp_path / "models"), tiny.write_glue(tmp_path / "data")
    claims = tmp_path / "claims.toml"
    claims.write_text(
        tiny.claims_header()
        + tiny.claim("glue.tiny_bert.sst2", "tiny_bert", "glue/sst2", "accuracy", recipe="tiny_single"),
        encoding="utf-8",
    )
    options = Options(models_dir=models, data_dir=data_dir, cache_dir=tmp_path / "cache", device="cuda")
    context = Context(load(claims), options)
    measured = context.measure(context.file.claim("glue.tiny_bert.sst2"))

    bf16 = torch.cuda.is_bf16_supported()
    assert measured.conditions["device"].startswith("cuda")
    assert measured.details["precision"] == ("bfloat16" if bf16 else "float32")
    assert measured.evidence["smoke"]
    assert measured.evidence["path"].startswith("fine-tuned here with recipe tiny_single")
    assert measured.interval is not None and measured.interval[0] <= measured.value <= measured.interval[1]
    assert torch.backends.cuda.matmul.allow_tf32
    (entry,) = measured.evidence["cache_entries"]
    inputs = json.loads((Path(entry) / MANIFEST).read_text())["inputs"]
    assert inputs["device"] == "cuda" and inputs["precision"] == ("bfloat16" if bf16 else "float32")

    # the GPU's predictions agree with the same fine-tuned model evaluated in float32 on the CPU
    task = data.task("glue/sst2")
    dev = data.load(task, "eval", options)
    texts = [list(dev.dataset["sentence"])]
    cpu = predict_classes(
        load_for_task(Path(entry), task),
        load_tokenizer(Path(entry)),
        texts,
        Runtime("cpu"),
        max_length=64,
        batch_size=16,
    )
    runtime = Runtime.for_device(resolve_device("cuda"))
    gpu = predict_classes(
        load_for_task(Path(entry), task).to(runtime.device),
        load_tokenizer(Path(entry)),
        texts,
        runtime,
        max_length=64,
        batch_size=default_batch_size(runtime.device),
    )
    assert np.mean(cpu.argmax(1) == gpu.argmax(1)) >= 0.9
    assert np.allclose(cpu, gpu, atol=0.1 if bf16 else 1e-3)
    accuracy = 100 * np.mean(gpu.argmax(1) == np.asarray(dev.dataset["label"]))
    assert measured.value == pytest.approx(accuracy, abs=100 / len(gpu))  # at most one near-tie flips
