"""Small claims files for tests: a valid header and records built from keyword arguments."""

from __future__ import annotations

from typing import Any

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
TINY_PARAMETERS = (100 + 64 + 2) * 32 + 64 + 2 * (4 * (32 * 32 + 32) + 64 + 32 * 64 + 64 + 64 * 32 + 32 + 64) + 32 * 32 + 32


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
