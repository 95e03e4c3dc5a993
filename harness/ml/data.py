"""Task data sets: the GLUE tasks, IMDb and SQuAD v1.1, from local files or a Hugging Face dataset id.

Where the data comes from is ``DataOptions.data_source`` (``--claims-data-source`` / ``CLAIMS_DATA_SOURCE``):
``local`` reads the files of each data set's own distribution under ``--claims-data-dir`` (the GLUE
download's ``<TASK>/dev.tsv`` layout, the ``aclImdb/`` folder, ``dev-v1.1.json``); ``hub`` loads the dataset
id from the hub cache's dataset snapshot (the parquet files ``python -m harness fetch`` or
``hf download <id> --repo-type dataset`` put there), else from the ``datasets`` cache, never downloaded (the
harness runs offline; see ``harness.ml.offline``); ``auto`` (default) uses the local files when they are there
(the distribution's own layout, or a fetched ``<dir>/<dataset id>/<config>/<split>-*.parquet``) and the hub
otherwise. Both give a ``datasets.Dataset``
with the hub's column names and label order, so everything downstream is the same. Missing data raises
``NotRunError`` saying which file to put where. The tasks themselves are ``harness.ml.tasks``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness.core.errors import MeasurementError, NotRunError
from harness.core.files import OutsideError, contained, sha256_file

if TYPE_CHECKING:
    pass
from harness.ml.tasks import TASKS, GlueFiles, Task, TaskData, task  # noqa: F401 (data.task(...) reads well)


class DataOptions(Protocol):
    """Where data is looked for (``harness.measure.measurement.Options`` fits): a local folder and the source."""

    data_dir: Path | None
    data_source: str


DATA_SOURCES = ("auto", "local", "hub")
SPLITS = ("train", "eval")


# ---------------------------------------------------------------- local files


def local_path(t: Task, split: str, data_dir: Path) -> Path:
    """The file (or, for IMDb, the folder) a task's split is read from under ``data_dir`` (it may not exist);
    a task (a plug-in may register one) whose file names would leave ``data_dir`` is a ``MeasurementError``."""
    if t.glue is not None:
        relative = f"glue/{t.glue.folder}/{t.glue.train if split == 'train' else t.glue.eval}"
    elif t.local_files is not None:
        relative = t.local_files[0] if split == "train" else t.local_files[1]
    elif t.name == "imdb":
        relative = "aclImdb/" + ("train" if split == "train" else "test")
    else:
        relative = "squad/" + ("train-v1.1.json" if split == "train" else "dev-v1.1.json")
    try:
        return contained(data_dir, relative)
    except OutsideError as exc:
        raise MeasurementError(
            f"task {t.name!r}: its {split} file {exc}; data is read only inside --claims-data-dir"
        ) from None


def data_remedy(t: Task, splits: Sequence[str], source: str) -> str:
    """The exact way to supply the given splits of a task from ``source`` (local files, the hub, or either)."""
    paths = [local_path(t, split, Path("DIR")) for split in splits]
    shown = [f"{p}/{{pos,neg}}/*.txt" if p.parent.name == "aclImdb" else str(p) for p in paths]
    local = "--claims-data-dir DIR (or CLAIMS_DATA_DIR=DIR) with " + " and ".join(shown)
    hub = (
        f"the Hugging Face dataset {t.hub_id}{f' ({t.hub_config})' if t.hub_config else ''} in the hub cache "
        f"(once online: hf download {t.hub_id} --repo-type dataset --include '{parquet_config(t)}/*')"
    )
    return {"local": local, "hub": hub}.get(source, f"{local}, or {hub}")


def _digest_files(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _read_tsv(path: Path, files: GlueFiles) -> tuple[list[str] | None, list[list[str]]]:
    """Rows of a GLUE TSV file, read as the GLUE tools read them (tab separated, no quoting)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:  # MRPC's header starts with a BOM
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if files.header:
        if not rows:
            raise MeasurementError(f"{path} is empty: expected a header line and one example per line")
        return rows[0], rows[1:]
    return None, rows


def _glue_columns(t: Task, path: Path) -> tuple[dict[str, list[Any]], int]:
    """A GLUE TSV file as dataset columns (labels mapped to the hub's indices), and the lines skipped."""
    assert t.glue is not None
    header, rows = _read_tsv(path, t.glue)
    index: dict[str, int] = {}
    for column, where in t.glue.columns.items():
        if isinstance(where, int):
            index[column] = where
        elif header is None or where not in header:
            raise MeasurementError(
                f"{path}: no column {where!r} in the header {header!r}; expected the GLUE distribution's "
                f"{t.glue.folder}/{path.name} (download_glue_data.py)"
            )
        else:
            index[column] = header.index(where)
    width = max(index.values()) + 1
    out: dict[str, list[Any]] = {c: [] for c in t.glue.columns}
    skipped = 0
    for row in rows:
        if len(row) < width:  # a few malformed lines (QQP's train.tsv has some): skipped and counted
            skipped += 1
            continue
        for column, i in index.items():
            out[column].append(row[i])
    raw = out["label"]
    if t.kind == "regression":
        out["label"] = [float(v) for v in raw]
    else:
        lookup = {v: i for i, v in enumerate(t.glue.raw_labels)}
        bad = sorted({v for v in raw if v not in lookup})
        if bad:
            raise MeasurementError(f"{path}: unknown label values {bad[:5]!r}; expected {list(t.glue.raw_labels)!r}")
        out["label"] = [lookup[v] for v in raw]
    return out, skipped


def _imdb_columns(folder: Path) -> tuple[dict[str, list[Any]], list[Path]]:
    """aclImdb/<split>/{neg,pos}/*.txt as text/label columns (neg = 0, pos = 1, the hub's order)."""
    texts: list[str] = []
    labels: list[int] = []
    files: list[Path] = []
    for label, sub in enumerate(("neg", "pos")):
        paths = sorted((folder / sub).glob("*.txt"))
        if not paths:
            raise MeasurementError(f"{folder / sub} has no *.txt review files; expected the aclImdb distribution")
        for path in paths:
            texts.append(path.read_text(encoding="utf-8"))
            labels.append(label)
        files.extend(paths)
    return {"text": texts, "label": labels}, files


def _squad_columns(path: Path) -> dict[str, list[Any]]:
    """A SQuAD v1.1 JSON file flattened to the hub's columns (id, title, context, question, answers)."""
    try:
        articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError) as exc:
        raise MeasurementError(f"{path}: not a SQuAD v1.1 JSON file ({exc}); expected {{'data': [...]}}") from None
    out: dict[str, list[Any]] = {k: [] for k in ("id", "title", "context", "question", "answers")}
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                out["id"].append(qa["id"])
                out["title"].append(article.get("title", ""))
                out["context"].append(paragraph["context"])
                out["question"].append(qa["question"])
                out["answers"].append(
                    {
                        "text": [a["text"] for a in qa["answers"]],
                        "answer_start": [a["answer_start"] for a in qa["answers"]],
                    }
                )
    return out


def _load_local(t: Task, split: str, data_dir: Path) -> TaskData:
    import datasets

    path = local_path(t, split, data_dir)
    skipped = 0
    try:
        if t.glue is not None:
            (columns, skipped), files = _glue_columns(t, path), [path]
        elif t.name == "imdb":
            columns, files = _imdb_columns(path)
        else:
            columns, files = _squad_columns(path), [path]
        digest = _digest_files(files)
    except (OSError, UnicodeDecodeError) as exc:
        raise MeasurementError(f"cannot read {path}: {exc}") from None
    if not columns[next(iter(columns))]:
        raise MeasurementError(f"{path} holds no examples")
    origin = f"local files {path}" + (f" ({skipped} malformed lines skipped)" if skipped else "")
    return TaskData(t, split, datasets.Dataset.from_dict(columns), origin, digest)


# ---------------------------------------------------------------- the hub (or the datasets cache)


def parquet_config(t: Task) -> str:
    """The folder of a task's parquet files in its hub repository (``sst2``; ``plain_text`` for IMDb and SQuAD)."""
    return t.hub_config or "plain_text"


def _snapshot_data(t: Task, split: str, snapshot: Path, repo_id: str, revision: str | None, where: str) -> TaskData:
    """One split from the parquet files of a hub snapshot (or a fetched copy laid out like one)."""
    from harness.ml.hub_parquet import load_parquet_split, parquet_files
    from harness.ml.lock import digest_of

    name, config = t.hub_split(split), parquet_config(t)
    files = parquet_files(snapshot, config, name)
    try:
        hashes = {p.relative_to(snapshot).as_posix(): sha256_file(p) for p in files}
    except OSError as exc:
        raise MeasurementError(f"cannot read {snapshot}: {exc}; fetch the data set again") from None
    ds = load_parquet_split(snapshot, config, name)
    if "idx" in ds.column_names:
        ds = ds.remove_columns("idx")
    origin = f"{where} {snapshot} ({repo_id} {config}/{name}" + (f" at {revision})" if revision else ")")
    return TaskData(t, split, ds, origin, digest_of(hashes), repo_id, revision, snapshot)


def _hub_snapshot(t: Task, split: str, revision: str | None) -> tuple[Path, str] | None:
    """The hub cache snapshot holding the split's parquet files (under the task's id or an alias), and its id."""
    from harness.ml.hub import Artifact, HubCacheError, find_cached

    artifact = Artifact("dataset", t.hub_id, revision, config=parquet_config(t), split=t.hub_split(split))
    try:
        found = find_cached(artifact)
    except HubCacheError as exc:
        raise MeasurementError(str(exc)) from None
    if found is None:
        return None
    folder = found.parent.parent.name  # datasets--<org>--<name>: the id (or alias) the cache holds it under
    return found, "/".join(folder.split("--")[1:])


def laid_out_snapshot(t: Task, split: str, data_dir: Path) -> tuple[Path, str] | None:
    """``<data_dir>/<dataset id>/`` (what ``python -m harness fetch --to`` writes) when it holds the split."""
    from harness.ml.hub import equivalent_ids
    from harness.ml.hub_parquet import parquet_files

    for repo_id in equivalent_ids(t.hub_id):
        folder = data_dir / repo_id
        if folder.is_dir() and parquet_files(folder, parquet_config(t), t.hub_split(split)):
            return folder, repo_id
    return None


def _load_hub(t: Task, split: str, revision: str | None = None) -> TaskData:
    found = _hub_snapshot(t, split, revision)
    if found is not None:
        snapshot, repo_id = found
        return _snapshot_data(t, split, snapshot, repo_id, snapshot.name, "hub cache snapshot")
    import datasets

    name = t.hub_split(split)
    try:
        ds = datasets.load_dataset(t.hub_id, t.hub_config, split=name, revision=revision)
    except Exception as exc:  # datasets raises many types (offline, not cached, no network): all mean "not here"
        raise NotRunError(
            f"the dataset {t.hub_id}{f' ({t.hub_config})' if t.hub_config else ''} split {name!r} is not available "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            data_remedy(t, (split,), "auto"),
            {f"data {t.name}": data_remedy(t, (split,), "auto")},
        ) from None
    if "idx" in ds.column_names:
        ds = ds.remove_columns("idx")
    return TaskData(
        t,
        split,
        ds,
        f"Hugging Face dataset {t.hub_id} ({t.hub_config or 'default'}) split {name} (datasets cache)",
        f"hub:{t.hub_id}:{t.hub_config}:{name}:{ds._fingerprint}",
        t.hub_id,
        revision,
    )


def data_source(options: DataOptions) -> str:
    """The data source in force: ``DataOptions.data_source``, checked."""
    if options.data_source not in DATA_SOURCES:
        raise MeasurementError(
            f"data source {options.data_source!r}: expected one of {', '.join(DATA_SOURCES)} "
            "(--claims-data-source or CLAIMS_DATA_SOURCE)"
        )
    return options.data_source


def local_available(t: Task, split: str, options: DataOptions) -> bool:
    """Whether the split's local files exist (no reading): the distribution's layout or a fetched copy."""
    if options.data_dir is None:
        return False
    return local_path(t, split, options.data_dir).exists() or laid_out_snapshot(t, split, options.data_dir) is not None


def load(t: Task, split: str, options: DataOptions, revision: str | None = None) -> TaskData:
    """One split (``train`` or ``eval``) of a task, from the source ``DataOptions.data_source`` chooses.

    ``revision`` pins the hub snapshot (a commit, branch or tag); local files are what they are.
    """
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: expected one of {SPLITS}")
    source = data_source(options)
    if source != "hub" and options.data_dir is not None:
        if local_path(t, split, options.data_dir).exists():
            return _load_local(t, split, options.data_dir)
        laid_out = laid_out_snapshot(t, split, options.data_dir)
        if laid_out is not None:
            return _snapshot_data(t, split, *laid_out, None, "fetched copy")
    if source == "local":
        missing = (
            "no --claims-data-dir"
            if options.data_dir is None
            else f"{local_path(t, split, options.data_dir)} does not exist"
        )
        raise NotRunError(
            f"the {t.name} {split} data is not on this machine ({missing}; data source 'local')",
            data_remedy(t, (split,), "local"),
            {f"data {t.name}": data_remedy(t, (split,), "local")},
        )
    return _load_hub(t, split, revision)


def splits_not_local(t: Task, splits: Sequence[str], options: DataOptions) -> list[str]:
    """The splits whose local files are not here (none when the data source is the hub)."""
    if data_source(options) == "hub":
        return []
    return [split for split in splits if not local_available(t, split, options)]


def stsb_validation_pairs(options: DataOptions) -> tuple[list[tuple[str, str]], str]:
    """The STS-B validation sentence pairs and where they came from (for timing workloads).

    Raises ``NotRunError`` with the remedy when the data is not on this machine.
    """
    data = load(TASKS["glue/stsb"], "eval", options)
    pairs = list(zip(list(data.dataset["sentence1"]), list(data.dataset["sentence2"]), strict=True))
    return pairs, data.origin
