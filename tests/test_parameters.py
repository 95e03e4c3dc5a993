"""Parameter counts under counting conventions (``harness.ml.parameters``): exact counts for the BERT-base and
DistilBERT configurations on the meta device and hand-computed counts for a tiny BERT (hidden 8, 2 layers,
intermediate 16), include / exclude patterns, tied weights, and the error for a pattern that matches nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from meta_models import BERT_BASE, DISTILBERT, TINY_BERT, meta

from harness.ml.errors import FieldError
from harness.ml.parameters import count_parameters

pytestmark = pytest.mark.fast

POOLER = 768 * 768 + 768  # BERT-base pooler: dense 768 -> 768 with bias


def tiny_by_hand() -> dict[str, int]:
    h, i, v, p, t = 8, 16, 10, 8, 2
    embeddings = v * h + p * h + t * h + 2 * h  # word, position, token type, layer norm
    layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h  # Q K V O, LN, FFN in, FFN out, LN
    return {"embeddings": embeddings, "encoder": 2 * layer, "pooler": h * h + h}


def test_tiny_bert_by_hand() -> None:
    count = count_parameters(meta(TINY_BERT))
    assert tiny_by_hand() == {"embeddings": 176, "encoder": 1200, "pooler": 72}
    assert count.by_module == {"embeddings": 176, "encoder": 1200, "pooler": 72}
    assert count.total == 1448
    assert count.excluded == {}
    assert count.tied == ()


def test_bert_base_and_distilbert() -> None:
    bert = count_parameters(meta(BERT_BASE))
    assert bert.total == 109_482_240
    assert bert.by_module == {"embeddings": 23_837_184, "encoder": 85_054_464, "pooler": POOLER}
    distil = count_parameters(meta(DISTILBERT))
    assert distil.total == 66_362_880
    assert distil.by_module == {"embeddings": 23_835_648, "transformer": 42_527_232}


@pytest.mark.parametrize(
    ("config", "auto_class", "expected"),
    [  # the reference's section 6 (shared/reference/distilbert-paper.md)
        (BERT_BASE, "AutoModelForSequenceClassification", 109_483_778),  # 2 labels
        (BERT_BASE, "AutoModelForQuestionAnswering", 108_893_186),
        (DISTILBERT, "AutoModelForSequenceClassification", 66_955_010),
        (DISTILBERT, "AutoModelForQuestionAnswering", 66_364_418),
    ],
)
def test_task_models(config: dict[str, Any], auto_class: str, expected: int) -> None:
    assert count_parameters(meta(config, auto_class)).total == expected


@pytest.mark.parametrize("pattern", ["pooler*", "pooler", "pooler.dense*"])
def test_bert_base_without_pooler(pattern: str) -> None:
    count = count_parameters(meta(BERT_BASE), exclude=(pattern,))
    assert count.total == 109_482_240 - POOLER == 108_891_648
    assert count.excluded == {"pooler": POOLER}
    assert count.matches == {"include": {}, "exclude": {pattern: POOLER}}


def test_patterns_mean_the_same_in_a_task_model() -> None:
    # the base model's prefix ("bert.", "distilbert.") is optional in a pattern
    seq = count_parameters(meta(BERT_BASE, "AutoModelForSequenceClassification"), exclude=("pooler*", "classifier*"))
    assert seq.total == 108_891_648
    assert seq.excluded == {"bert.pooler": POOLER, "classifier": 768 * 2 + 2}
    qa = count_parameters(meta(BERT_BASE, "AutoModelForQuestionAnswering"), exclude=("qa_outputs*",))
    assert qa.total == 108_891_648  # the QA model has no pooler
    distil = count_parameters(meta(DISTILBERT, "AutoModelForSequenceClassification"), exclude=("*classifier*",))
    assert distil.total == 66_362_880
    assert distil.excluded == {"pre_classifier": POOLER, "classifier": 768 * 2 + 2}
    assert distil.matches["exclude"] == {"*classifier*": POOLER + 768 * 2 + 2}


def test_include_and_exclude_together() -> None:
    model = meta(BERT_BASE)
    assert count_parameters(model, exclude=("embeddings*",)).total == 85_054_464 + POOLER
    assert count_parameters(model, include=("encoder*",)).total == 85_054_464
    # only the encoder, without its biases and layer norms' betas
    count = count_parameters(model, include=("encoder",), exclude=("*.bias",))
    per_layer_biases = 4 * 768 + 768 + 3072 + 768 + 768  # Q K V O, LN beta, FFN in, FFN out, LN beta
    assert count.total == 85_054_464 - 12 * per_layer_biases == 84_953_088
    assert count.excluded == {"embeddings": 23_837_184, "encoder": 12 * per_layer_biases, "pooler": POOLER}
    assert count.convention() == "tied weights counted once; only encoder; without *.bias"


def test_tied_weights_are_counted_once() -> None:
    # the MLM decoder reuses the word embeddings (10 x 8) and the prediction bias (10)
    model = meta(TINY_BERT, "AutoModelForMaskedLM")
    transform = 8 * 8 + 8 + 2 * 8  # dense + layer norm
    count = count_parameters(model)
    assert count.total == 176 + 1200 + transform + 10 == 1474
    assert count.by_module == {"bert.embeddings": 176, "bert.encoder": 1200, "cls": transform + 10}
    assert count.tied == (
        ("bert.embeddings.word_embeddings.weight", "cls.predictions.decoder.weight"),
        ("cls.predictions.bias", "cls.predictions.decoder.bias"),
    )
    # a tied tensor is matched through any of its names: excluding the decoder excludes the embedding matrix
    without_decoder = count_parameters(model, exclude=("cls.predictions.decoder",))
    assert without_decoder.total == 1474 - 80 - 10


@settings(max_examples=30, deadline=None)
@given(excluded=st.sets(st.sampled_from(["embeddings", "encoder", "pooler", "encoder.layer.1", "*LayerNorm*"])))
def test_counted_and_excluded_add_up(excluded: set[str]) -> None:
    model = meta(TINY_BERT)
    count = count_parameters(model, exclude=tuple(sorted(excluded)))
    assert count.total == sum(count.by_module.values())
    assert count.total + sum(count.excluded.values()) == 1448
    assert all(n > 0 for n in count.matches["exclude"].values())


@pytest.mark.parametrize(
    ("kwargs", "field", "hint"),
    [
        ({"exclude": ("poolr*",)}, "exclude", "Did you mean 'pooler'?"),
        ({"include": ("encodr",)}, "include", "Did you mean 'encoder'"),
        ({"exclude": ("classifier*",)}, "exclude", "its top-level modules: embeddings, encoder, pooler"),
    ],
)
def test_a_pattern_matching_nothing_is_an_error(kwargs: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(FieldError) as err:
        count_parameters(meta(TINY_BERT), **kwargs)
    assert err.value.field == field
    assert "matches nothing" in err.value.found
    assert "correct the pattern or remove it" in err.value.fix
    assert hint in str(err.value)


def test_a_string_instead_of_a_list_is_an_error() -> None:
    with pytest.raises(FieldError) as err:
        count_parameters(meta(TINY_BERT), exclude="pooler*")
    assert err.value.field == "exclude"
    assert err.value.fix == "write exclude = ['pooler*']"
