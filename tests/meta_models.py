"""Configurations the ML-layer tests count, and their architectures on the meta device (built once each).

Tiny configs check the counting machinery only; BERT_BASE and DISTILBERT are transformers' defaults, which
are the bert-base-uncased and distilbert-base-uncased architectures.
"""

from __future__ import annotations

from typing import Any

from harness.ml.builders import build_model

TINY_BERT = {
    "model_type": "bert",
    "vocab_size": 10,
    "hidden_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 16,
    "max_position_embeddings": 8,
}
TINY_ALBERT = {
    "model_type": "albert",
    "vocab_size": 10,
    "embedding_size": 4,
    "hidden_size": 8,
    "num_hidden_layers": 2,  # one layer group, applied twice
    "num_attention_heads": 2,
    "intermediate_size": 16,
    "max_position_embeddings": 8,
}
BERT_BASE = {"model_type": "bert"}  # 12 layers x 768, 12 heads, intermediate 3072, vocabulary 30522
DISTILBERT = {"model_type": "distilbert"}  # 6 layers x 768, 12 heads, hidden_dim 3072, vocabulary 30522

_BUILT: dict[tuple[str, str], Any] = {}


def meta(config: dict[str, Any], auto_class: str = "AutoModel") -> Any:
    """The architecture on the meta device, built once per test session (counting leaves it unchanged)."""
    key = (repr(sorted(config.items())), auto_class)
    if key not in _BUILT:
        _BUILT[key] = build_model(config, auto_class=auto_class)
    return _BUILT[key]
