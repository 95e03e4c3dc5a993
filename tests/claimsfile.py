"""Small claims files for tests: a valid header and records built from keyword arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w

HEADER: dict[str, Any] = {
    "schema_version": 1,
    "source": {"key": "toy", "title": "A toy paper", "reference": "arXiv:0000.00000", "version": "v1"},
    "models": {
        "tiny": {
            "hub_id": "toy-org/tiny-encoder",
            "auto_class": "AutoModel",
            "config_source": "written for the tests",
            "config": {
                "model_type": "bert",
                "vocab_size": 100,
                "hidden_size": 32,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "intermediate_size": 64,
                "max_position_embeddings": 64,
                "type_vocab_size": 2,
            },
        }
    },
}

#: BertModel parameters for HEADER's tiny config, counted by hand:
#: embeddings (100 + 64 + 2) * 32 + LayerNorm 64; per layer: attention 4 * (32*32 + 32) + LayerNorm 64,
#: intermediate 32*64 + 64, output 64*32 + 32 + LayerNorm 64; pooler 32*32 + 32.
TINY_PARAMETERS = (
    (100 + 64 + 2) * 32 + 64 + 2 * (4 * (32 * 32 + 32) + 64 + 32 * 64 + 64 + 64 * 32 + 32 + 64) + 32 * 32 + 32
)


def claim(claim_id: str, value: float | None = 1.0, **fields: Any) -> dict[str, Any]:
    """A valid record with sensible defaults; ``fields`` override or add keys."""
    record: dict[str, Any] = {
        "id": claim_id,
        "quote": f"the quote of {claim_id}",
        "location": "Table 1",
        "unit": "ratio",
        "precision": 0.1,
        "tolerance": {"kind": "absolute", "value": 0.5, "rationale": "test"},
        "measure": {"kind": "not_measurable", "requires": "a thing", "remedy": "supply the thing"},
    }
    if value is not None:
        record["value"] = value
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def claims_toml(*records: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """The TOML text of a claims file with ``records``."""
    return tomli_w.dumps({**(header or HEADER), "claims": list(records)})


# A measurement kind for pytester sessions: reports the value, interval and conditions its table gives.
FIXED_KIND = """
from harness.measure.measurement import Measurement
from harness.measure.registry import KINDS, register

if "fixed" not in KINDS:
    @register("fixed", required=("measured",), optional=("low", "high", "conditions"))
    def fixed(claim, context):
        p = claim.measure.params
        interval = (p["low"], p["high"]) if "low" in p else None
        return Measurement(p["measured"], claim.unit, interval=interval, conditions=p.get("conditions", {}),
                           evidence={"path": "fixed by the test", "smoke": True})
"""


def fixed(measured: float, **extra: Any) -> dict[str, Any]:
    """A ``[claims.measure]`` table of the test kind ``fixed``."""
    return {"kind": "fixed", "measured": measured, **extra}


def write(p: pytest.Pytester, *records: dict[str, Any], name: str = "toy") -> Path:
    """Write a claims file into the pytester project's claims/ directory."""
    path = p.path / "claims" / f"{name}.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(claims_toml(*records), encoding="utf-8")
    return path


def results(p: pytest.Pytester, out: str = "out") -> dict[str, dict[str, Any]]:
    """The results of a pytester run written with ``--claims-out=out``, by claim id."""
    data = json.loads((p.path / out / "latest" / "results.json").read_text())
    return {r["id"]: r for r in data["results"]}
