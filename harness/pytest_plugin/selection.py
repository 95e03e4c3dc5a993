"""What a run selected of the claims it collected, and whether it is partial (the ``"run"`` object).

A run is partial when it did not measure every claim of the files it collected: a node id, ``-k``, an
``-m`` expression other than ``claims``, ``--lf``, a deselection, a claim left without a result, a Ctrl-C
or a ``-x`` stop. The results file, the terminal summary and the report's banner all say so.
Under pytest-xdist each worker reports what it collected through ``workeroutput``; the controller merges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from harness.report.runs import FULL_MARKERS


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Selection:
    """Claim node ids collected (per claims file), selected and run in this process (or merged from workers)."""

    def __init__(self) -> None:
        self.in_files: dict[str, list[str]] = {}
        self.selected: set[str] = set()

    def collected_file(self, path: str, nodeids: Iterable[str]) -> None:
        self.in_files[path] = list(nodeids)

    def select(self, nodeids: Iterable[str]) -> None:
        self.selected |= set(nodeids)

    @property
    def collected(self) -> list[str]:
        return sorted({n for ids in self.in_files.values() for n in ids})

    def to_workeroutput(self) -> dict[str, Any]:
        return {"in_files": self.in_files, "selected": sorted(self.selected)}

    def merge(self, data: Mapping[str, Any]) -> None:
        for path, ids in (data.get("in_files") or {}).items():
            self.in_files[path] = sorted(set(self.in_files.get(path, [])) | set(ids))
        self.selected |= set(data.get("selected") or ())

    def run_object(
        self, config: pytest.Config, *, run_id: str, started: str, measured: int, interrupted: bool
    ) -> dict[str, Any]:
        """The results file's ``"run"`` object."""
        args = [str(a) for a in config.invocation_params.args]
        keywords = getattr(config.option, "keyword", "") or None
        markers = getattr(config.option, "markexpr", "") or None
        lf = bool(getattr(config.option, "lf", False))
        node_ids = [str(a) for a in config.args if "::" in str(a)]
        collected = self.collected
        deselected = [n for n in collected if n not in self.selected]
        selected = len([n for n in collected if n in self.selected])
        partial = bool(
            interrupted
            or lf
            or keywords
            or markers not in FULL_MARKERS
            or node_ids
            or deselected
            or measured < selected
        )
        return {
            "id": run_id,
            "started": started,
            "finished": now_iso(),
            "partial": partial,
            "selection": {
                "args": args,
                "keywords": keywords,
                "markers": markers,
                "lf": lf,
                "node_ids": node_ids,
                "collected": len(collected),
                "selected": selected,
                "deselected": deselected,
            },
            "interrupted": interrupted,
            "unmeasured": max(0, selected - measured),
        }
