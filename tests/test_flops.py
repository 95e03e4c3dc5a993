"""Forward FLOPs under counting conventions (``harness.ml.flops``): exact counts against hand computations for a
tiny BERT (hidden 8, 2 layers, intermediate 16, length 4), a tiny ALBERT (factorized embedding, one layer
shared across depth) and the BERT-base / DistilBERT configurations, cross-checked with torch's FlopCounterMode
on meta and on CPU. Tiny models check the counting machinery only; they are not the paper's models."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from meta_models import BERT_BASE, DISTILBERT, TINY_ALBERT, TINY_BERT, meta

from harness.core.errors import MeasurementError
from harness.ml.builders import build_model
from harness.ml.errors import FieldError
from harness.ml.flops import ATTENTION, EVERYTHING, FlopConvention, attention_kernel_formulas, forward_flops

pytestmark = pytest.mark.fast


def encoder_flops(seq_len: int, layers: int, hidden: int, intermediate: int, per_mac: int, attention: bool) -> int:
    """A post-LN encoder written out: per token and layer 4 H^2 (Q, K, V, output) + 2 H I (feed-forward)
    multiply-adds; per layer 2 L^2 H for QK^T and AV (L^2 x head_dim per head, heads x head_dim = H)."""
    linear = seq_len * layers * (4 * hidden * hidden + 2 * hidden * intermediate)
    scores = layers * 2 * seq_len * seq_len * hidden if attention else 0
    return per_mac * (linear + scores)


# ---------------------------------------------------------------- tiny BERT, by hand


def test_tiny_bert_by_hand() -> None:
    # per token and layer: Q, K, V, O 4 x 8 x 8 = 256 and FFN 8 x 16 + 16 x 8 = 256 multiply-adds;
    # x 4 tokens x 2 layers = 4096 MACs = 8192 FLOPs. Attention: 2 products x 4 x 4 x 8 = 256 MACs per layer,
    # x 2 layers = 512 MACs = 1024 FLOPs. Pooler: 8 x 8 = 64 MACs on the first token only = 128 FLOPs.
    count = forward_flops(meta(TINY_BERT), 4)
    assert count.by_module == {"encoder": 8192, ATTENTION: 1024, "pooler": 128}
    assert count.total == 9344
    assert count.excluded == {}
    assert count.measured == 9344  # torch's FlopCounterMode, same pass


@pytest.mark.parametrize(
    ("convention", "total", "excluded"),
    [
        (FlopConvention(), 9344, {}),
        (FlopConvention(attention_scores=False), 8320, {ATTENTION: 1024}),
        (FlopConvention(head=False), 9216, {"pooler": 128}),
        (FlopConvention(attention_scores=False, head=False), 8192, {ATTENTION: 1024, "pooler": 128}),
        (FlopConvention(multiply_add=1), 4672, {}),
        (FlopConvention(multiply_add=1, attention_scores=False, head=False), 4096, {ATTENTION: 512, "pooler": 64}),
        (EVERYTHING, 9344, {}),  # BERT has no linear layer inside its embeddings
    ],
)
def test_tiny_bert_conventions(convention: FlopConvention, total: int, excluded: dict[str, int]) -> None:
    count = forward_flops(meta(TINY_BERT), 4, convention=convention)
    assert count.total == total
    assert count.excluded == excluded
    assert count.convention == convention


def test_convention_in_words() -> None:
    assert FlopConvention().describe() == (
        "2 FLOPs per multiply-add (2 x MAC); attention scores and values included; embedding projections excluded;"
        " pooler and task head included; embedding lookups and element-wise work never counted"
    )
    assert FlopConvention(multiply_add=1, head=False).describe().startswith("1 FLOP per multiply-add (MACs);")


def test_batch_multiplies_every_part() -> None:
    count = forward_flops(meta(TINY_BERT), 4, batch=3)
    assert count.by_module == {"encoder": 3 * 8192, ATTENTION: 3 * 1024, "pooler": 3 * 128}
    assert count.per_sequence() == 9344.0


def test_task_head_on_the_first_token() -> None:
    # sequence classification: pooler 8 x 8 and classifier 8 x 2 on one row each, 2 x (64 + 16) = 160 FLOPs
    count = forward_flops(meta(TINY_BERT, "AutoModelForSequenceClassification"), 4)
    assert count.by_module == {"bert.encoder": 8192, ATTENTION: 1024, "bert.pooler": 128, "classifier": 32}
    # span head: qa_outputs 8 x 2 on every token, 2 x 4 x 16 = 128 FLOPs; the QA model has no pooler
    count = forward_flops(meta(TINY_BERT, "AutoModelForQuestionAnswering"), 4, convention=FlopConvention(head=False))
    assert count.total == 9216
    assert count.excluded == {"qa_outputs": 128}


def test_factorized_embedding_and_shared_layer() -> None:
    # ALBERT: embedding projection 4 -> 8 on every token (4 x 32 MACs = 256 FLOPs), counted only with
    # embeddings = true; its one layer is applied twice and counted twice (8192 FLOPs, as tiny BERT's 2 layers)
    model = meta(TINY_ALBERT)
    without = forward_flops(model, 4)
    assert without.by_module == {"encoder": 8192, ATTENTION: 1024, "pooler": 128}
    assert without.excluded == {"encoder": 256}
    assert without.total == 9344
    with_embeddings = forward_flops(model, 4, convention=FlopConvention(embeddings=True))
    assert with_embeddings.total == 9600
    assert with_embeddings.measured == 9600


# ---------------------------------------------------------------- BERT-base and DistilBERT at L = 128


@pytest.mark.parametrize(
    ("convention", "expected"),
    [
        (FlopConvention(), 22_348_431_360),
        (FlopConvention(head=False), 22_347_251_712),
        (FlopConvention(attention_scores=False), 21_744_451_584),
        (FlopConvention(attention_scores=False, head=False), 21_743_271_936),
        (FlopConvention(multiply_add=1, head=False), 11_173_625_856),
    ],
)
def test_bert_base_at_128(convention: FlopConvention, expected: int) -> None:
    count = forward_flops(meta(BERT_BASE), 128, convention=convention)
    pooler = convention.multiply_add * 768 * 768 if convention.head else 0
    formula = encoder_flops(128, 12, 768, 3072, convention.multiply_add, convention.attention_scores) + pooler
    assert formula == expected
    assert count.total == expected
    assert count.measured == 22_348_431_360


@pytest.mark.parametrize(
    ("convention", "expected"),
    [
        (FlopConvention(), 11_173_625_856),
        (FlopConvention(attention_scores=False), 10_871_635_968),
        (FlopConvention(multiply_add=1), 5_586_812_928),
    ],
)
def test_distilbert_at_128(convention: FlopConvention, expected: int) -> None:
    count = forward_flops(meta(DISTILBERT), 128, convention=convention)
    formula = encoder_flops(128, 6, 768, 3072, convention.multiply_add, convention.attention_scores)
    assert formula == expected
    assert count.total == expected


def test_bert_base_is_twice_distilbert_without_heads() -> None:
    bert = forward_flops(meta(BERT_BASE), 128, convention=FlopConvention(head=False))
    distil = forward_flops(meta(DISTILBERT), 128, convention=FlopConvention(head=False))
    assert bert.total == 2 * distil.total


# ---------------------------------------------------------------- cross-checks with torch's counter


def test_cpu_forward_counted_by_torch_agrees() -> None:
    """A real CPU forward pass with an attention mask (the CPU attention kernel), counted independently."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(TINY_BERT, device="cpu")
    ids = torch.tensor([[2, 5, 7, 3]])
    counter = FlopCounterMode(display=False, custom_mapping=attention_kernel_formulas())
    with counter, torch.inference_mode():
        model(input_ids=ids, attention_mask=torch.ones_like(ids))
    assert counter.get_total_flops() == 9344
    assert forward_flops(model, 4, convention=EVERYTHING).total == 9344


@settings(max_examples=25, deadline=None)
@given(seq_len=st.integers(1, 8), batch=st.integers(1, 3), per_mac=st.sampled_from([1, 2]), attention=st.booleans())
def test_analytic_formula_and_counter_agree(seq_len: int, batch: int, per_mac: int, attention: bool) -> None:
    convention = FlopConvention(multiply_add=per_mac, attention_scores=attention, head=False)
    count = forward_flops(meta(TINY_BERT), seq_len, batch=batch, convention=convention)
    assert count.total == batch * encoder_flops(seq_len, 2, 8, 16, per_mac, attention)
    assert count.measured == batch * (encoder_flops(seq_len, 2, 8, 16, 2, True) + 2 * 8 * 8)


def test_a_count_torch_disagrees_with_is_an_error() -> None:
    with pytest.raises(MeasurementError, match="differs from torch's FlopCounterMode") as err:
        forward_flops(meta(TINY_BERT), 4, attention_width=16)
    assert "attention_width" in str(err.value)
    # without the cross-check the caller takes the stated width at its word
    unchecked = forward_flops(meta(TINY_BERT), 4, attention_width=16, cross_check=False)
    assert unchecked.by_module[ATTENTION] == 2048
    assert unchecked.measured == 9344


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "field", "fix"),
    [
        ({"multiply_add": 3}, "multiply_add", "multiply_add = 2"),
        ({"multiply_add": True}, "multiply_add", "multiply_add = 2"),
        ({"attention_scores": "yes"}, "attention_scores", "attention_scores = true"),
        ({"embeddings": 1}, "embeddings", "embeddings = false"),
        ({"head": None}, "head", "head = true"),
    ],
)
def test_convention_errors(kwargs: dict[str, Any], field: str, fix: str) -> None:
    with pytest.raises(FieldError) as err:
        FlopConvention(**kwargs)
    assert err.value.field == field
    assert fix in err.value.fix
    assert repr(next(iter(kwargs.values()))) in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "field", "found"),
    [
        ({"seq_len": 0}, "seq_len", "0"),
        ({"seq_len": 9}, "seq_len", "9"),  # max_position_embeddings is 8
        ({"seq_len": 4, "batch": 1.5}, "batch", "1.5"),
        ({"seq_len": 4, "attention_layers": -1}, "attention_layers", "-1"),
        ({"seq_len": 4, "attention_width": 0}, "attention_width", "0"),
    ],
)
def test_length_and_batch_errors(kwargs: dict[str, Any], field: str, found: str) -> None:
    with pytest.raises(FieldError) as err:
        forward_flops(meta(TINY_BERT), **kwargs)
    assert err.value.field == field
    assert err.value.found == found
    assert err.value.fix


def test_a_model_without_config_needs_the_attention_shape() -> None:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(10, 8)
            self.proj = torch.nn.Linear(8, 8)

        def forward(self, input_ids: Any) -> Any:
            return self.proj(self.embed(input_ids))

    with torch.device("meta"):
        model = Encoder()
    with pytest.raises(FieldError, match="attention_layers = 0") as err:
        forward_flops(model, 4)
    assert err.value.field == "attention_layers"
    # one 8 x 8 product per token, 4 tokens: 2 x 4 x 64 = 512 FLOPs; torch's counter agrees (cross-checked)
    count = forward_flops(model, 4, attention_layers=0)
    assert count.by_module == {"proj": 512}
    assert count.measured == 512
