"""Hub layouts built by hand, for tests: a Hugging Face hub cache as ``huggingface_hub`` writes it, and GLUE-style
parquet files as ``nyu-mll/glue`` stores them; nothing is downloaded.

In the cache, ``<cache>/<kind>s--<org>--<name>/blobs/<sha256>`` holds each file's bytes once;
``snapshots/<commit>/<path>`` is a relative symlink to its blob; ``refs/<branch>`` holds the commit a branch points to.

For the dress rehearsal (tests/test_rehearsal.py) and the guards on published checkpoints: GLUE-layout data set
repositories (``write_glue_repo``), tiny classifiers under any id (``save_classifier``), a headless checkpoint
(``save_headless``), a label-permuted copy of a classifier (``save_label_permuted``), and evaluation labels that a
classifier gets right by construction (``own_labels``, ``relabel_by_model``), so that its permuted copy is wrong on
every example and the permutation check has something to find without any training.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def cache_snapshot(
    cache: Path,
    kind: str,
    repo_id: str,
    commit: str,
    files: Mapping[str, bytes | Path],
    refs: Iterable[str] = ("main",),
) -> Path:
    """A snapshot of ``repo_id`` at ``commit`` in the hub cache ``cache``; its directory.

    ``files`` maps a path in the repository to its bytes or to a local file to copy; each ``refs`` branch is set
    to ``commit``.
    """
    storage = cache / "--".join([f"{kind}s", *repo_id.split("/")])
    snapshot = storage / "snapshots" / commit
    for rel, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            blob.write_bytes(data)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    snapshot.mkdir(parents=True, exist_ok=True)
    for ref in refs:
        path = storage / "refs" / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(commit, encoding="utf-8")
    return snapshot


def write_sst2_parquet(path: Path, sentences: list[str], labels: list[int]) -> Path:
    """A parquet file with SST-2's columns and features (``label`` a class label negative/positive)."""
    import datasets

    features = datasets.Features(
        {"sentence": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "positive"])}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict({"sentence": sentences, "label": labels}, features=features).to_parquet(str(path))
    return path


# ---------------------------------------------------------------- stand-ins under the claims file's real ids

#: GLUE features of the tasks the rehearsal serves: text columns and class label names (nyu-mll/glue's own)
GLUE_FEATURES = {
    "sst2": (("sentence",), ("negative", "positive")),
    "mrpc": (("sentence1", "sentence2"), ("not_equivalent", "equivalent")),
    "rte": (("sentence1", "sentence2"), ("entailment", "not_entailment")),
}


def write_glue_parquet(path: Path, config: str, rows: list[tuple[Any, ...]]) -> Path:
    """A parquet file with one GLUE config's columns and features; ``rows`` are ``(*texts, label)``."""
    import datasets

    fields, names = GLUE_FEATURES[config]
    features = datasets.Features(
        {**{f: datasets.Value("string") for f in fields}, "label": datasets.ClassLabel(names=list(names))}
    )
    columns: dict[str, list[Any]] = {f: [r[i] for r in rows] for i, f in enumerate(fields)}
    columns["label"] = [r[-1] for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(columns, features=features).to_parquet(str(path))
    return path


def glue_card(splits: Mapping[str, Iterable[str]]) -> str:
    """A dataset card (README.md) declaring the parquet files of each config, as nyu-mll/glue's does."""
    lines = ["---", "configs:"]
    for config, names in splits.items():
        lines += [f"- config_name: {config}", "  data_files:"]
        for name in names:
            lines += [f"  - split: {name}", f"    path: {config}/{name}-*"]
    return "\n".join([*lines, "---", "# GLUE stand-in (tests)", ""])


def write_glue_repo(repo: Path, n: int = 24, seed: int = 0) -> Path:
    """A GLUE-layout data set repository (``<config>/<split>-00000-of-00001.parquet``) for sst2, mrpc and rte."""
    import tiny

    rng = random.Random(seed)
    splits: dict[str, list[str]] = {}
    for config in GLUE_FEATURES:
        for split in ("train", "validation"):
            rows: list[tuple[Any, ...]] = (
                list(tiny.sentiment(rng, n)) if config == "sst2" else list(tiny.pairs(rng, n))  # type: ignore[arg-type]
            )
            write_glue_parquet(repo / config / f"{split}-00000-of-00001.parquet", config, rows)
            splits.setdefault(config, []).append(split)
    (repo / "README.md").write_text(glue_card(splits), encoding="utf-8")
    return repo


def save_classifier(path: Path, config: Mapping[str, Any], labels: Sequence[str] | None, seed: int = 0) -> Path:
    """A tiny random sequence classifier with ``labels`` as its id2label (None: generic LABEL_i, 2 labels)."""
    import tiny

    extra: dict[str, Any] = {"num_labels": len(labels) if labels else 2}
    if labels:
        extra.update(id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    return tiny.save_checkpoint(path, dict(config), head="AutoModelForSequenceClassification", seed=seed, **extra)


def save_headless(path: Path, config: Mapping[str, Any], seed: int = 0) -> Path:
    """A base checkpoint (no task head) saved where a published fine-tuned one is expected: loading it for a task
    reports the head's keys as missing (the guard of issue 12 item 4 must refuse it)."""
    import tiny

    return tiny.save_checkpoint(path, dict(config), head="AutoModel", seed=seed)


def save_label_permuted(path: Path, source: Path, permutation: Sequence[int]) -> Path:
    """A copy of the classifier at ``source`` whose outputs are permuted: output ``i`` of the copy is output
    ``permutation[i]`` of the original, with generic labels, so the declared order is silently wrong (as
    TextAttack's MNLI models are, ``[1, 2, 0]`` relative to GLUE)."""
    import transformers

    model = transformers.AutoModelForSequenceClassification.from_pretrained(source)
    head = model.classifier if hasattr(model, "classifier") else model.score
    index = list(permutation)
    head.weight.data = head.weight.data[index].clone()
    head.bias.data = head.bias.data[index].clone()
    n = len(index)
    model.config.id2label = {i: f"LABEL_{i}" for i in range(n)}
    model.config.label2id = {f"LABEL_{i}": i for i in range(n)}
    model.save_pretrained(path)
    transformers.AutoTokenizer.from_pretrained(source).save_pretrained(path)
    return path


def own_labels(path: Path, texts: Sequence[Sequence[str]], task: str = "glue/sst2") -> list[int]:
    """The classifier at ``path``'s argmax on ``texts`` (one list per text column), through the harness's own
    evaluation path with its settings (max length 128, the CPU batch size), so the harness sees the same classes."""
    from harness.ml import data
    from harness.ml.evaluation import Runtime, default_batch_size, predict_classes
    from harness.ml.finetune import load_for_task, load_tokenizer

    model = load_for_task(path, data.task(task)).eval()
    logits = predict_classes(
        model,
        load_tokenizer(path),
        [list(t) for t in texts],
        Runtime.for_device("cpu"),
        max_length=128,
        batch_size=default_batch_size("cpu"),
        progress=False,
    )
    return [int(i) for i in logits.argmax(axis=1)]


def relabel_by_model(parquet: Path, config: str, model: Path) -> Path:
    """Rewrite a GLUE parquet file's labels as the classifier at ``model`` predicts them."""
    import datasets

    fields, _ = GLUE_FEATURES[config]
    ds = datasets.Dataset.from_parquet(str(parquet), keep_in_memory=True)
    labels = own_labels(model, [ds[f] for f in fields], f"glue/{config}")
    rows = [(*(ds[f][i] for f in fields), labels[i]) for i in range(len(ds))]
    return write_glue_parquet(parquet, config, rows)
