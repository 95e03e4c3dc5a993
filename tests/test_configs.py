"""Strict configs (``harness.ml.configs``): every field resolved with defaults marked, the errors for unknown
keys and model types, wrong types and invalid combinations (each message naming the field and the fix), and
the comparison of a declared config with a checkpoint's."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import ClaimError
from harness.ml.configs import ABSENT, Difference, compare_configs, resolve_config_fields
from harness.ml.errors import FieldError

pytestmark = pytest.mark.fast

CLAIMS_FILE = Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml"

#: the claims file's [models.distilbert.config], as written there
DISTILBERT = {
    "model_type": "distilbert",
    "vocab_size": 30522,
    "dim": 768,
    "n_layers": 6,
    "n_heads": 12,
    "hidden_dim": 3072,
    "activation": "gelu",
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "max_position_embeddings": 512,
    "sinusoidal_pos_embds": False,
    "initializer_range": 0.02,
    "pad_token_id": 0,
}


# ---------------------------------------------------------------- resolution


def test_every_field_resolved_and_defaults_marked() -> None:
    resolved = resolve_config_fields("distilbert", DISTILBERT)
    assert resolved.config_class == "DistilBertConfig"
    assert type(resolved.config).__name__ == "DistilBertConfig"
    assert resolved.values["dim"] == 768
    assert resolved.values["n_layers"] == 6
    assert resolved.given == frozenset(DISTILBERT)
    # fields the file does not give take DistilBertConfig's defaults, and say so
    assert resolved.values["qa_dropout"] == 0.1
    assert resolved.values["seq_classif_dropout"] == 0.2
    assert resolved.source("seq_classif_dropout") == "default"
    assert resolved.source("dim") == "given"
    assert {"qa_dropout", "seq_classif_dropout", "tie_word_embeddings"} <= set(resolved.defaulted())
    evidence = resolved.as_evidence()
    assert evidence["n_heads"] == {"value": 12, "source": "given"}
    assert evidence["seq_classif_dropout"] == {"value": 0.2, "source": "default"}
    assert set(evidence) == set(resolved.values)


def test_the_claims_files_configs_are_strict_clean() -> None:
    models = tomllib.loads(CLAIMS_FILE.read_text(encoding="utf-8"))["models"]
    configs = {name: spec["config"] for name, spec in models.items() if "config" in spec}
    assert set(configs) == {"bert_base", "distilbert", "distilbert_d"}
    for name, config in configs.items():
        resolved = resolve_config_fields(config["model_type"], config)
        assert resolved.given >= set(config), name
    assert configs["distilbert"] == DISTILBERT


def test_an_omitted_field_is_a_visible_default() -> None:
    resolved = resolve_config_fields("bert", {"hidden_size": 32, "num_attention_heads": 2})
    assert resolved.values["num_hidden_layers"] == 12
    assert resolved.source("num_hidden_layers") == "default"
    assert resolved.given == frozenset({"hidden_size", "num_attention_heads", "model_type"})


def test_aliases_generic_keys_and_integer_floats() -> None:
    # hidden_size is DistilBertConfig's alias of dim; num_labels sets id2label and label2id
    resolved = resolve_config_fields("distilbert", {"hidden_size": 512, "n_heads": 8, "num_labels": 3})
    assert resolved.values["dim"] == 512
    assert resolved.source("dim") == "given"
    assert resolved.values["id2label"] == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert resolved.source("id2label") == "given"
    # an integer is accepted for a float field, as a float
    assert resolve_config_fields("bert", {"initializer_range": 1}).values["initializer_range"] == 1.0


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("model_type", "config", "field", "in_message"),
    [
        ("bertt", {}, "model_type", "Did you mean 'bert'"),
        ("bert", {"hidden_sizee": 768}, "hidden_sizee", "remove it or correct its name. Did you mean 'hidden_size'"),
        ("bert", {"hidden_sizee": 768, "gap_size": 0}, "hidden_sizee", "(unknown too: 'gap_size'). Fix: remove them"),
        ("bert", {"position_embedding_type": "absolute"}, "position_embedding_type", "would keep it and ignore it"),
        ("distilbert", {"n_layer": 6}, "n_layer", "Did you mean 'n_layers'"),
        ("bert", {"hidden_size": "768"}, "hidden_size", "hidden_size = 768 (a number, without quotes)"),
        ("bert", {"num_hidden_layers": True}, "num_hidden_layers", "write an integer, e.g. num_hidden_layers = 12"),
        (
            "bert",
            {"hidden_dropout_prob": "0.1"},
            "hidden_dropout_prob",
            "write a number, e.g. hidden_dropout_prob = 0.1",
        ),
        ("bert", {"hidden_act": 3}, "hidden_act", "write a string, e.g. hidden_act = 'gelu'"),
        ("bert", {"id2label": ["neg", "pos"]}, "id2label", "write a table or none"),
        ("bert", {"id2label": {0: "neg"}, "num_labels": 2}, "num_labels", "give id2label or num_labels, not both"),
        ("bert", {"hidden_size": 7.5}, "hidden_size", "write an integer, e.g. hidden_size = 768"),
        ("bert", {"problem_type": "regresion"}, "problem_type", "write none or 'regression' or"),
        ("bert", {"dtype": 16}, "dtype", "write a string or dtype or none"),
        ("distilbert", {"n_layers": 0}, "n_layers", "write n_layers >= 1"),
        ("distilbert", {"dim": 768, "hidden_size": 512}, "hidden_size", "give only dim"),
        ("bert", {"model_type": "distilbert"}, "model_type", "make the config's model_type"),
    ],
)
def test_config_errors(model_type: str, config: dict[str, Any], field: str, in_message: str) -> None:
    with pytest.raises(FieldError) as err:
        resolve_config_fields(model_type, config)
    assert err.value.field == field
    assert in_message in str(err.value)
    assert err.value.expected and err.value.found and err.value.fix


def test_transformers_own_validation_is_reported_as_a_field_error() -> None:
    with pytest.raises(FieldError) as err:
        resolve_config_fields("t5", {"feed_forward_proj": "bogus-act"})
    assert err.value.field == "config"
    assert "feed_forward_proj" in err.value.found
    assert err.value.expected == "values T5Config accepts"


def test_heads_must_divide_the_hidden_size() -> None:
    with pytest.raises(FieldError) as err:
        resolve_config_fields("bert", {"hidden_size": 100})
    assert err.value.field == "hidden_size"
    assert err.value.found == "hidden_size = 100 and num_attention_heads = 12 (the default) (8.33 each)"
    assert err.value.fix == (
        "set num_attention_heads to a divisor of 100 (e.g. 4 or 5 or 10) or hidden_size to a multiple of 12 "
        "(e.g. 96 or 108)"
    )
    # DistilBERT's own names
    with pytest.raises(FieldError) as err:
        resolve_config_fields("distilbert", {"dim": 768, "n_heads": 10})
    assert err.value.field == "dim"
    assert err.value.expected.startswith("dim divisible by n_heads")
    assert err.value.found == "dim = 768 and n_heads = 10 (76.8 each)"
    assert "set n_heads to a divisor of 768" in err.value.fix


def test_an_unknown_model_type_lists_close_names() -> None:
    with pytest.raises(FieldError) as err:
        resolve_config_fields("distilbrt", {})
    assert err.value.field == "model_type"
    assert "'distilbrt', which this transformers does not know" == err.value.found
    assert "Did you mean 'distilbert'" in err.value.fix
    with pytest.raises(FieldError, match="keys of transformers.CONFIG_MAPPING"):
        resolve_config_fields("zzzzzz", {})


def test_a_field_error_located_in_a_claims_file() -> None:
    with pytest.raises(FieldError) as err:
        resolve_config_fields("bert", {"hidden_sizee": 768})
    located = err.value.to_claim_error("claims/paper.toml", None, "models.bert_base.config.")
    assert isinstance(located, ClaimError)
    assert str(located).startswith("claims/paper.toml: field 'models.bert_base.config.hidden_sizee': expected ")
    assert "Fix: remove it or correct its name. Did you mean 'hidden_size'" in str(located)


# ---------------------------------------------------------------- comparison


def test_the_same_model_compares_equal() -> None:
    checkpoint = {
        **DISTILBERT,
        "architectures": ["DistilBertForMaskedLM"],
        "transformers_version": "4.6.0.dev0",
        "qa_dropout": 0.1,  # a default written out
    }
    assert compare_configs(DISTILBERT, checkpoint) == {}
    assert compare_configs({"model_type": "distilbert", "hidden_size": 768}, {"model_type": "distilbert"}) == {}


def test_differences_are_listed() -> None:
    declared = {"model_type": "bert", "hidden_size": 768}
    found = {"model_type": "bert", "num_hidden_layers": 6, "gradient_checkpointing": False}
    assert compare_configs(declared, found) == {
        "num_hidden_layers": Difference(12, 6),
        "gradient_checkpointing": Difference(ABSENT, False),
    }
    assert compare_configs({"model_type": "bert"}, {"model_type": "distilbert"}) == {
        "model_type": Difference("bert", "distilbert")
    }


def test_a_config_without_model_type_cannot_be_compared() -> None:
    with pytest.raises(FieldError) as err:
        compare_configs({"hidden_size": 768}, {"model_type": "bert"})
    assert err.value.field == "declared.model_type"
    assert err.value.fix == "add model_type to that config"
