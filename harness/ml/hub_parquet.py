"""Reading a data set's parquet files from a hub snapshot directory (a ``datasets--<org>--<name>`` snapshot), offline.

Two layouts are read, both as the Hub stores them:

- the repository's own files, as in ``nyu-mll/glue`` on its main branch: ``<config>/<split>-00000-of-00001.parquet``
  (``sst2/validation-00000-of-00001.parquet``, ``mnli/validation_matched-00000-of-00001.parquet``; shards are
  ``-00000-of-00003`` ... and some repositories add a hash, ``-00000-of-00001-<hex>.parquet``);
- the Hub's parquet conversion (the ``refs/convert/parquet`` revision): ``<config>/<split>/0000.parquet``.

The columns come back as the files store them, with the ``datasets`` features (class label names) the files carry
in their schema metadata. Nothing here touches the network or writes a cache.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import MeasurementError, NotRunError

if TYPE_CHECKING:
    import datasets

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _shard_pattern(split: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(split)}-(\d+)-of-(\d+)(-[0-9a-f]+)?\.parquet")


def parquet_files(snapshot_dir: Path, config: str, split: str) -> list[Path]:
    """The parquet files of one config and split in a snapshot, in shard order; ``[]`` when there are none.

    The repository layout (``<config>/<split>-NNNNN-of-NNNNN.parquet``) is preferred; the converted layout
    (``<config>/<split>/*.parquet``) is read when the former has no file.
    """
    for what, value in (("config", config), ("split", split)):
        if not _NAME.fullmatch(value) or value in (".", ".."):
            raise MeasurementError(
                f"parquet_files({snapshot_dir}): {what} {value!r} is not a config or split name; expected letters, "
                "digits, '_', '-' or '.' (e.g. 'sst2', 'validation_matched')"
            )
    folder = snapshot_dir / config
    pattern = _shard_pattern(split)
    shards = [p for p in folder.glob(f"{split}-*.parquet") if pattern.fullmatch(p.name) and p.is_file()]
    if shards:
        return sorted(shards, key=lambda p: int(pattern.fullmatch(p.name).group(1)))  # type: ignore[union-attr]
    return sorted(p for p in (folder / split).glob("*.parquet") if p.is_file())


def _tables(files: list[Path]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for path in files:
        try:
            tables.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as exc:
            raise MeasurementError(
                f"{path} is not a readable parquet file ({type(exc).__name__}: {exc}); delete it and fetch the "
                "data set again"
            ) from None
    try:
        return pa.concat_tables(tables)
    except pa.ArrowInvalid as exc:
        raise MeasurementError(
            f"the shards {', '.join(str(p) for p in files)} have different columns ({exc}); expected shards of one "
            "split; delete them and fetch the data set again"
        ) from None


def _split_files(snapshot_dir: Path, config: str, split: str) -> list[Path]:
    files = parquet_files(snapshot_dir, config, split)
    if not files:
        raise NotRunError(
            f"no parquet file for config {config!r} split {split!r} in the hub snapshot {snapshot_dir} (expected "
            f"{config}/{split}-00000-of-00001.parquet or {config}/{split}/0000.parquet)",
            f"fetch the data set's files for that config (allow_patterns ['{config}/*']) into the hub cache",
        )
    return files


def parquet_columns(snapshot_dir: Path, config: str, split: str) -> dict[str, list[Any]]:
    """One split's columns (``{column: values}``) from a snapshot's parquet files, read with pyarrow.

    A ``NotRunError`` when the split has no parquet file there; a ``MeasurementError`` when a file is unreadable.
    """
    return _tables(_split_files(snapshot_dir, config, split)).to_pydict()


def load_parquet_split(snapshot_dir: Path, config: str, split: str) -> datasets.Dataset:
    """One split as an in-memory ``datasets.Dataset``, with the features (class label names) the files declare."""
    import datasets

    table = _tables(_split_files(snapshot_dir, config, split))
    return datasets.Dataset(table)
