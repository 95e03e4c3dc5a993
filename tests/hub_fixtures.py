"""Hub layouts built by hand, for tests: a Hugging Face hub cache as ``huggingface_hub`` writes it, and GLUE-style
parquet files as ``nyu-mll/glue`` stores them; nothing is downloaded.

In the cache, ``<cache>/<kind>s--<org>--<name>/blobs/<sha256>`` holds each file's bytes once;
``snapshots/<commit>/<path>`` is a relative symlink to its blob; ``refs/<branch>`` holds the commit a branch points to.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path


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
