"""Naming the parts of a transformers model: top-level groups, base-model-relative names, heads, embeddings.

Parameter counts and FLOP counts break their totals down the same way and apply the same counting
conventions, so both ask this module what a qualified module name (``bert.encoder.layer.0.attention``)
belongs to:

- its *relative* name drops the base model's prefix (``bert.``, ``distilbert.``) when the model is a
  task model (``BertForSequenceClassification``) wrapping a base model, so that ``pooler*`` means the
  same in ``BertModel`` and in ``BertForSequenceClassification``;
- its *group* is the top-level module of the breakdown: a child of the base model (``bert.embeddings``,
  ``bert.encoder``, ``bert.pooler``) or a task model's own child (``classifier``, ``qa_outputs``);
- it is part of the *head* when it lies outside the base model (a task head) or in its pooler;
- it is part of the *embeddings* when a component of its relative name contains ``embed`` (``embeddings``,
  ``embedding_hidden_mapping_in`` of ALBERT's factorized embedding) and it is not part of the head.

``model_device`` says where a model's tensors are (``meta`` for an architecture built without weights),
so that inputs for a pass through it are made there.
"""

from __future__ import annotations

from typing import Any

#: first components of a relative name that make a module of the base model part of the head
POOLER_NAMES = ("pooler",)


def base_prefix(model: Any) -> str:
    """``"bert."`` when ``model`` is a task model wrapping its base model as child ``bert``; ``""`` otherwise."""
    prefix = getattr(model, "base_model_prefix", "") or ""
    if prefix and prefix in dict(model.named_children()):
        return prefix + "."
    return ""


def relative_name(name: str, prefix: str) -> str:
    """``name`` without the base model's prefix (unchanged when it lies outside the base model)."""
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


def group_of(name: str, prefix: str) -> str:
    """The top-level module ``name`` (a module or parameter name) belongs to in a breakdown."""
    if prefix and name.startswith(prefix):
        return prefix + name[len(prefix) :].split(".", 1)[0]
    return name.split(".", 1)[0]


def is_head(name: str, prefix: str) -> bool:
    """Whether ``name`` lies in a task head (outside the base model) or in the base model's pooler."""
    if prefix and not name.startswith(prefix):
        return True
    return relative_name(name, prefix).split(".", 1)[0] in POOLER_NAMES


def is_embedding(name: str, prefix: str) -> bool:
    """Whether ``name`` lies in the embeddings (lookups and any projection of a factorized embedding)."""
    if is_head(name, prefix):
        return False
    return any("embed" in part.lower() for part in relative_name(name, prefix).split("."))


def model_device(model: Any) -> Any:
    """The ``torch.device`` of the model's first parameter or buffer (CPU for a model with neither)."""
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")
