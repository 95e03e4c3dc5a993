"""Model builders (``harness.ml.builders``): the transformers builder on the meta device, builders named by
registry, entry point or dotted path (one with partial parameter sharing, which transformers cannot express),
their errors, and the meta-device forward pass that proves a built model runs. Tiny models only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from meta_models import TINY_BERT

from harness.core.errors import MeasurementError
from harness.ml.builders import build_model, meta_forward_check, resolve_builder, transformers_builder
from harness.ml.errors import FieldError
from harness.ml.flops import ATTENTION, forward_flops
from harness.ml.parameters import count_parameters

pytestmark = pytest.mark.fast


#: a builder module a user would write: a tiny BERT whose two layers share one set of weights
SHARED_LAYERS = textwrap.dedent(
    """
    from harness.ml.builders import transformers_builder

    def build(config):
        model = transformers_builder("AutoModel")(config)
        model.encoder.layer[1] = model.encoder.layer[0]
        return model

    def not_a_model(config):
        return {"hidden_size": 8}
    """
)


@pytest.fixture
def user_builders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An importable module ``user_builders_mod`` with the builders above."""
    (tmp_path / "user_builders_mod.py").write_text(SHARED_LAYERS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "user_builders_mod"


def test_importing_the_ml_layer_imports_nothing_heavy() -> None:
    code = (
        "import sys, harness.ml.builders, harness.ml.configs, harness.ml.flops, harness.ml.parameters; "
        "print(sorted(m for m in ('torch', 'transformers', 'numpy', 'datasets') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


def test_the_default_builder_makes_a_meta_model() -> None:
    model = build_model(TINY_BERT)
    assert type(model).__name__ == "BertModel"
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert not model.training
    assert count_parameters(model).total == 1448
    assert meta_forward_check(model, 4) == {"last_hidden_state": (1, 4, 8), "pooler_output": (1, 8)}
    task = build_model(TINY_BERT, transformers_builder("AutoModelForSequenceClassification"))
    assert meta_forward_check(task, 4, batch=3) == {"logits": (3, 2)}


def test_the_default_builder_is_strict() -> None:
    with pytest.raises(FieldError) as err:
        build_model({**TINY_BERT, "hidden_sizee": 8})
    assert err.value.field == "hidden_sizee"
    with pytest.raises(FieldError) as err:
        build_model({"hidden_size": 8})
    assert err.value.field == "model_type"
    with pytest.raises(FieldError) as err:
        transformers_builder("AutoModelForSequenceClasification")
    assert err.value.field == "auto_class"
    assert "Did you mean 'AutoModelForSequenceClassification'" in err.value.fix


def test_a_dotted_path_builder_with_shared_layers(user_builders: str) -> None:
    model = build_model(TINY_BERT, f"{user_builders}:build")
    # parameters: the shared layer counted once (1448 - 600 for the second layer of tiny BERT)
    assert count_parameters(model).total == 848
    # FLOPs: the shared layer runs twice and is counted twice, exactly as two separate layers
    count = forward_flops(model, 4)
    assert count.by_module == {"encoder": 8192, ATTENTION: 1024, "pooler": 128}
    assert count.measured == 9344
    assert meta_forward_check(model, 4)["last_hidden_state"] == (1, 4, 8)


def test_registered_builders_come_from_the_one_registry() -> None:
    """A name is looked up in harness.ml.models.BUILDERS, the registry entry points and conftest.py fill."""
    from harness.ml.models import BUILDERS as REGISTRY

    calls: list[str] = []

    def from_registry(auto_class: str, config: Any, device: str, dtype: Any) -> Any:
        calls.append(auto_class)
        return transformers_builder()(config)

    REGISTRY.add("mine", from_registry, "tests/test_builders.py")
    try:
        build_model(TINY_BERT, "mine")
        assert calls == ["AutoModel"]
    finally:
        REGISTRY.remove("mine")


@pytest.mark.parametrize(
    ("name", "found", "fix"),
    [
        ("transformer", "'transformer'", "Did you mean 'transformers'"),
        ("no_such_package_xyz.mod:build", "ModuleNotFoundError", "put it on PYTHONPATH"),
        ("{mod}:biuld", "has no attribute 'biuld'", "Did you mean 'build'"),
        ("", "''", "write a name"),
    ],
)
def test_builder_name_errors(user_builders: str, name: str, found: str, fix: str) -> None:
    with pytest.raises(FieldError) as err:
        resolve_builder(name.format(mod=user_builders))
    assert err.value.field == "builder"
    assert found in err.value.found
    assert fix in err.value.fix


def test_a_builder_must_return_a_module(user_builders: str) -> None:
    with pytest.raises(FieldError) as err:
        build_model(TINY_BERT, f"{user_builders}:not_a_model")
    assert err.value.field == "builder"
    assert err.value.found == f"'{user_builders}:not_a_model' returned a dict"
    assert err.value.fix == "make the builder return the model it builds"


def test_a_model_that_does_not_run_is_a_clear_error() -> None:
    import torch

    model = build_model(TINY_BERT)
    with pytest.raises(MeasurementError, match=r"does not run: forward of BertModel on input ids of shape \(1, 9\)"):
        meta_forward_check(model, 9)  # max_position_embeddings is 8
    with torch.device("meta"):
        linear = torch.nn.Linear(8, 8)
    with pytest.raises(MeasurementError, match="its forward takes no input_ids"):
        meta_forward_check(linear, 4)
    with pytest.raises(FieldError) as err:
        meta_forward_check(model, 0)
    assert err.value.field == "seq_len"
