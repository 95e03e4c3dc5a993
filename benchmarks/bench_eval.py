"""Evaluation throughput: the harness's batched evaluation against transformers.pipeline, Trainer.predict
and the bare batched forward pass, on the same small random model and SST-2-like sentences, in one process.

    python benchmarks/bench_eval.py [--examples 872] [--batch-size 32] [--repeats 3]

Targets: harness >= 2x the pipeline (same batch size, tokenization included in both) and >= 0.95x the bare
forward pass over the same length-sorted batches of pre-tokenized, pre-padded inputs (which excludes
tokenization, so the ratio is the harness's whole overhead). Each figure is the best of ``--repeats`` runs;
the machine's load average is printed, since other processes sharing the cores make every number noisy.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import tiny  # noqa: E402  (the test-time WordPiece tokenizer)

#: a small random BERT (MiniLM-L6-sized, a quarter of BERT-base's width): the forward pass dominates, as with
#: a real model, yet one pass over 872 sentences takes seconds on two cores
CONFIG = {
    "model_type": "bert",
    "vocab_size": tiny.VOCAB,
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 6,
    "intermediate_size": 1536,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "pad_token_id": 0,
}


def sst2_like(n: int, seed: int = 0) -> list[str]:
    """Sentences with SST-2 dev's word-count spread (median ~17 words, 2 to 55)."""
    rng = random.Random(seed)
    words = tiny.POSITIVE + tiny.NEGATIVE + tiny.FILLER + tiny.PLACES
    out = []
    for _ in range(n):
        length = min(55, max(2, round(rng.lognormvariate(2.85, 0.55))))
        out.append(" ".join(rng.choice(words) for _ in range(length)))
    return out


def best_of(repeats: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The best time of each run over ``repeats`` rounds, the runs interleaved so load changes hit all alike."""
    for run in runs.values():
        run()  # warm-up
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=872, help="SST-2 dev has 872")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    import datasets
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments, pipeline

    from harness.ml.evaluation import Runtime, batches_by_length, pad_rows, predict_classes
    from harness.ml.models import build_config

    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(build_config({**CONFIG, "num_labels": 2})).eval()
    tok = tiny.tokenizer(token_type_ids=True)
    texts = sst2_like(args.examples)
    n, bs = len(texts), args.batch_size
    runtime = Runtime("cpu")

    def harness() -> np.ndarray:
        return predict_classes(
            model, tok, [texts], runtime, max_length=128, batch_size=bs, desc="harness", progress=False
        )

    clf = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")

    def with_pipeline() -> list:
        return clf(texts, batch_size=bs, truncation=True, max_length=128)

    scratch = tempfile.mkdtemp(prefix="bench-eval-")
    trainer = Trainer(
        model=model,
        processing_class=tok,
        args=TrainingArguments(
            output_dir=scratch, per_device_eval_batch_size=bs, use_cpu=True, report_to="none", disable_tqdm=True
        ),
    )
    raw = datasets.Dataset.from_dict({"sentence": texts})

    def with_trainer() -> np.ndarray:
        features = raw.map(
            lambda b: tok(b["sentence"], truncation=True, max_length=128),
            batched=True,
            remove_columns=["sentence"],
            keep_in_memory=True,
        )
        return trainer.predict(features).predictions

    enc = tok(texts, truncation=True, max_length=128)
    lengths = np.array([len(x) for x in enc["input_ids"]])
    batches = [
        {k: torch.from_numpy(pad_rows([enc[k][i] for i in b], 0)) for k in enc} for b in batches_by_length(lengths, bs)
    ]

    def bare() -> None:
        with torch.inference_mode():
            for batch in batches:
                model(**batch)

    with torch.inference_mode():
        reference = model(**tok(texts[:8], padding=True, return_tensors="pt")).logits.numpy()
    assert np.allclose(harness()[:8], reference, atol=1e-4), "the harness's outputs differ from a padded batch"

    seconds = best_of(
        args.repeats, {"harness": harness, "pipeline": with_pipeline, "trainer": with_trainer, "bare": bare}
    )
    print(
        f"evaluation throughput: {n} SST-2-like sentences (mean {lengths.mean():.1f} tokens), batch {bs}, "
        f"BERT hidden {CONFIG['hidden_size']} x {CONFIG['num_hidden_layers']} layers, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f} (other processes make this noisy)"
    )
    for name, s in seconds.items():
        print(f"  {name:9s} {n / s:9.1f} examples/s  ({s:.3f} s, best of {args.repeats})")
    print(f"harness / pipeline        = {seconds['pipeline'] / seconds['harness']:.2f}x   (target >= 2)")
    print(f"harness / Trainer.predict = {seconds['trainer'] / seconds['harness']:.2f}x")
    print(
        f"harness / bare forward    = {seconds['bare'] / seconds['harness']:.2f}x   (target >= 0.95; "
        "the bare pass excludes tokenization)"
    )


if __name__ == "__main__":
    main()
