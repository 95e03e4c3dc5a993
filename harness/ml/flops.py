"""Forward FLOPs of a transformers model at a declared sequence length and batch, under a stated convention.

Papers print FLOPs under different conventions: 2 FLOPs per multiply-add or MACs, with or without the
attention score and value products (QK^T and AV), the embeddings and the head. ``FlopConvention`` names
these choices; ``forward_flops`` counts under one of them and breaks the count down per top-level module.

The count is analytic, from the module tree:

- every ``nn.Linear`` costs ``in_features x out_features`` multiply-adds per row it is applied to. How many
  rows reach it (every token; only the first token for a pooler or a sequence classifier; twice for a
  layer shared across depth) is read off one forward pass with hooks, on the ``meta`` device when the model
  is there (no weights, no arithmetic), so no model's forward code is re-implemented here;
- the attention products cost ``2 x batch x L x L x width`` multiply-adds per layer (QK^T and AV, each
  ``L x L x head_dim`` per head and sequence, ``width = heads x head_dim``), with the number of layers and
  the width taken from the model's config (``num_hidden_layers``, ``hidden_size``) unless given
  (``attention_layers = 0``: a model without attention);
- embedding lookups are gathers, not products, and cost nothing under any convention; ``embeddings``
  decides whether linear layers inside the embeddings (a factorized embedding's projection) count;
- element-wise work (softmax, GELU, layer norm, residual additions) is not counted, as usual.

The same forward pass also runs under torch's ``FlopCounterMode`` (every matrix product, 2 x MAC), and the
analytic count with everything included must equal it: an architecture whose products the rules above do
not describe (a custom attention, a bottleneck whose attention width differs from the hidden size) is an
error, never a silently wrong count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import MeasurementError
from harness.ml.errors import FieldError, require_positive_int
from harness.ml.modules import base_prefix, group_of, is_embedding, is_head, model_device

#: the key of the attention products in a FLOP breakdown
ATTENTION = "attention scores and values"


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise FieldError(name, "true or false", repr(value), f"write {name} = true or {name} = false")


@attrs.frozen
class FlopConvention:
    """How FLOPs are counted.

    ``multiply_add``: FLOPs per multiply-accumulate, 2 (a multiply and an add: "2 x MAC") or 1 (MACs);
    ``attention_scores``: whether the QK^T and AV products count; ``embeddings``: whether linear layers
    inside the embeddings count; ``head``: whether the pooler and any task head count.
    """

    multiply_add: int = 2
    attention_scores: bool = True
    embeddings: bool = False
    head: bool = True

    def __attrs_post_init__(self) -> None:
        if isinstance(self.multiply_add, bool) or self.multiply_add not in (1, 2):
            raise FieldError(
                "multiply_add",
                "2 (a multiply-add counts as 2 FLOPs) or 1 (FLOPs are MACs)",
                repr(self.multiply_add),
                "write multiply_add = 2 unless the paper counts multiply-accumulates (MACs)",
            )
        for name in ("attention_scores", "embeddings", "head"):
            _check_bool(name, getattr(self, name))

    def describe(self) -> str:
        """The convention in words, for a report."""
        included = {True: "included", False: "excluded"}
        per_mac = {2: "2 FLOPs per multiply-add (2 x MAC)", 1: "1 FLOP per multiply-add (MACs)"}[self.multiply_add]
        return (
            f"{per_mac}; attention scores and values {included[self.attention_scores]};"
            f" embedding projections {included[self.embeddings]}; pooler and task head {included[self.head]};"
            " embedding lookups and element-wise work never counted"
        )


#: the convention of torch's FlopCounterMode: every matrix product, 2 FLOPs per multiply-add
EVERYTHING = FlopConvention(multiply_add=2, attention_scores=True, embeddings=True, head=True)


@attrs.frozen
class FlopCount:
    """Forward FLOPs of ``batch`` sequences of ``seq_len`` tokens under ``convention``.

    ``by_module``: FLOPs counted per top-level module, the attention products under ``ATTENTION``;
    ``excluded``: FLOPs the convention leaves out, same keys; ``measured``: torch's FlopCounterMode
    total for the same pass (every product, 2 x MAC), whatever the convention.
    """

    total: int
    seq_len: int
    batch: int
    convention: FlopConvention
    by_module: Mapping[str, int]
    excluded: Mapping[str, int]
    measured: int

    def per_sequence(self) -> float:
        """FLOPs of one sequence."""
        return self.total / self.batch


def attention_kernel_formulas() -> dict[Any, Any]:
    """FLOP formulas for attention kernels torch's counter does not know (the CPU flash kernel): the same
    count as for the GPU kernels, 4 x batch x heads x L_q x L_k x head dim."""
    import torch
    from torch.utils.flop_counter import sdpa_flop_count

    def sdpa(
        query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, out_shape: Any = None, **kwargs: Any
    ) -> int:
        return int(sdpa_flop_count(query_shape, key_shape, value_shape))

    ops = ("_scaled_dot_product_flash_attention_for_cpu",)
    return {getattr(torch.ops.aten, op): sdpa for op in ops if hasattr(torch.ops.aten, op)}


def _attention_shape(model: Any, layers: int | None, width: int | None) -> tuple[int, int]:
    """(layers, width) of the model's self-attention: as given, else from its config; 0 layers: none."""
    config = getattr(model, "config", None)
    if layers is None:
        layers = getattr(config, "num_hidden_layers", None)
    if layers is None:
        raise FieldError(
            "attention_layers",
            "the number of attention layers and their width (heads x head dim)",
            f"{type(model).__name__} has no config with num_hidden_layers and hidden_size",
            "pass attention_layers and attention_width (attention_layers = 0 for a model without attention)",
        )
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 0:
        raise FieldError("attention_layers", "a whole number >= 0", repr(layers), "pass the number of layers")
    if layers == 0:
        return 0, 0
    if width is None:
        width = getattr(config, "hidden_size", None)
    if width is None:
        raise FieldError(
            "attention_width",
            "the width of the attention (heads x head dim)",
            f"{type(model).__name__} has no config with hidden_size",
            "pass attention_width",
        )
    return layers, require_positive_int("attention_width", width)


def _check_length(model: Any, seq_len: int) -> None:
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(limit, int) and seq_len > limit:
        raise FieldError(
            "seq_len",
            f"at most the model's max_position_embeddings ({limit})",
            str(seq_len),
            f"count at a sequence length <= {limit}, or declare a config with more position embeddings",
        )


def _traced_rows(model: Any, seq_len: int, batch: int) -> tuple[dict[str, list[tuple[int, int, int]]], int]:
    """Per nn.Linear: (rows, in, out) of each call in one forward pass; and torch's FLOP count of the pass."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    calls: dict[str, list[tuple[int, int, int]]] = {}
    handles = []

    def recorder(name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            rows = output.numel() // module.out_features
            calls.setdefault(name, []).append((rows, module.in_features, module.out_features))

        return hook

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            handles.append(module.register_forward_hook(recorder(name)))
    ids = torch.zeros((batch, seq_len), dtype=torch.long, device=model_device(model))
    counter = FlopCounterMode(display=False, custom_mapping=attention_kernel_formulas())
    try:
        with counter, torch.inference_mode():
            # no attention mask: all tokens attend, and a mask's data cannot be inspected on meta
            model(input_ids=ids)
    except Exception as exc:
        raise MeasurementError(
            f"counting FLOPs: the forward pass of {type(model).__name__} on {tuple(ids.shape)} input ids failed "
            f"({type(exc).__name__}: {exc}); check that the model takes input_ids and runs on the meta device"
        ) from exc
    finally:
        for handle in handles:
            handle.remove()
    return calls, int(counter.get_total_flops())


def forward_flops(
    model: Any,
    seq_len: int,
    batch: int = 1,
    convention: FlopConvention = FlopConvention(),
    *,
    attention_layers: int | None = None,
    attention_width: int | None = None,
    cross_check: bool = True,
) -> FlopCount:
    """Forward FLOPs of ``batch`` sequences of ``seq_len`` tokens (no padding) under ``convention``.

    ``attention_layers`` and ``attention_width`` default to the config's ``num_hidden_layers`` and
    ``hidden_size``. With ``cross_check``, the analytic count with everything included must equal torch's
    FlopCounterMode for the same pass; a difference raises ``MeasurementError``. Without it the caller
    vouches for the attention shape, and ``measured`` still shows torch's count.
    """
    seq_len, batch = require_positive_int("seq_len", seq_len), require_positive_int("batch", batch)
    _check_length(model, seq_len)
    layers, width = _attention_shape(model, attention_layers, attention_width)
    calls, measured = _traced_rows(model, seq_len, batch)
    prefix = base_prefix(model)
    counted: dict[str, int] = {}
    excluded: dict[str, int] = {}
    everything = 0
    for name, products in calls.items():
        macs = sum(rows * n_in * n_out for rows, n_in, n_out in products)
        everything += macs
        counts = convention.head if is_head(name, prefix) else True
        if is_embedding(name, prefix):
            counts = convention.embeddings
        into = counted if counts else excluded
        group = group_of(name, prefix)
        into[group] = into.get(group, 0) + macs * convention.multiply_add
    attention_macs = layers * 2 * batch * seq_len * seq_len * width
    everything += attention_macs
    if layers:
        (counted if convention.attention_scores else excluded)[ATTENTION] = attention_macs * convention.multiply_add
    if cross_check and 2 * everything != measured:
        raise MeasurementError(
            f"counting FLOPs of {type(model).__name__} at length {seq_len}, batch {batch}: the analytic count "
            f"({2 * everything:,} FLOPs with everything included) differs from torch's FlopCounterMode "
            f"({measured:,}) by {measured - 2 * everything:,}; this architecture has products other than its "
            f"nn.Linear layers and {layers} full self-attention layers of width {width}. Pass attention_layers "
            "and attention_width if those differ from the config's num_hidden_layers and hidden_size; otherwise "
            "its FLOPs cannot be counted under a convention here"
        )
    return FlopCount(
        total=sum(counted.values()),
        seq_len=seq_len,
        batch=batch,
        convention=convention,
        by_module=counted,
        excluded=excluded,
        measured=measured,
    )
