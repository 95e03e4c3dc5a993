"""The kinds and conventions a second paper needs: ``flops``, ``parameter_count`` conventions, ``speedup``,
the ``relative_or_precision`` tolerance, the FLOP and hours units, optional ``hub_id`` and scoped look-up.

Exact numbers are hand computations: tiny BERT (d=8, f=16, 2 layers, vocabulary 10, 8 positions) for FLOPs,
transformers' default BERT-base and DistilBERT configs (the bert-base-uncased and distilbert-base-uncased
architectures) for parameter counts. The speedup's timings come from a fake timer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from claimsfile import HEADER, claim, claims_toml
from meta_models import TINY_BERT

from harness.core.errors import NotRunError
from harness.measure.engine import evaluate
from harness.measure.kinds.latency import speedup_of
from harness.measure.measurement import Context, Options
from harness.ml.timing import StoppingRule, Timer, paired_run
from harness.spec import load
from harness.spec.units import convert
from harness.verdict import band

pytestmark = pytest.mark.fast


def model(config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"hub_id": "toy-org/m", "config_source": "test", "config": config, **extra}


def header(**models: dict[str, Any]) -> dict[str, Any]:
    return {**HEADER, "models": models}


def write(tmp_path: Path, *records: dict[str, Any], models: dict[str, Any], name: str = "toy") -> Path:
    path = tmp_path / "claims" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(claims_toml(*records, header=header(**models)), encoding="utf-8")
    return path


def measured(path: Path, claim_id: str, options: Options | None = None) -> Any:
    claims_file = load(path)
    assert not claims_file.invalid, [str(r.error) for r in claims_file.invalid]
    return Context(claims_file, options or Options()).measure(claims_file.claim(claim_id))


def flops_claim(cid: str, value: float, unit: str = "FLOP", **measure: Any) -> dict[str, Any]:
    return claim(
        cid,
        value,
        unit=unit,
        precision=1,
        tolerance={"kind": "relative", "value": 0.01, "rationale": "test"},
        measure={"kind": "flops", "model": "tiny", "seq_len": 4, **measure},
    )


# ---------------------------------------------------------------- flops


def test_flops_kind_exact_counts_under_each_convention(tmp_path: Path) -> None:
    # per layer and token: Q, K, V, output 4 d^2 = 256 MACs, FFN 2 d f = 256 MACs; 2 layers x 4 tokens = 4096 MACs;
    # attention products 2 x L^2 x d = 256 MACs per layer = 512 MACs; pooler d^2 = 64 MACs on the first token
    path = write(
        tmp_path,
        flops_claim("f.all", 9344),
        flops_claim("f.macs_no_attention_no_head", 4096, multiply_add=1, attention_scores=False, head=False),
        flops_claim("f.batch3", 3 * 9344, batch=3),
        flops_claim("f.gflop", 9344e-9, unit="GFLOP"),
        models={"tiny": model(TINY_BERT)},
    )
    everything = measured(path, "f.all")
    assert everything.value == 9344
    assert everything.details["by_module"] == {"encoder": 8192, "attention scores and values": 1024, "pooler": 128}
    assert everything.details["flop_counter_mode_total"] == 9344
    assert "2 FLOPs per multiply-add" in everything.evidence["convention"]
    assert everything.conditions["seq_len"] == 4
    lean = measured(path, "f.macs_no_attention_no_head")
    assert lean.value == 4096
    assert lean.details["excluded"] == {"attention scores and values": 512, "pooler": 64}
    assert measured(path, "f.batch3").value == 3 * 9344
    assert measured(path, "f.gflop").value == pytest.approx(9.344e-6)


def test_bert_base_flops_at_128_tokens_by_hand(tmp_path: Path) -> None:
    d, f, n, length = 768, 3072, 12, 128
    macs = n * length * (4 * d * d + 2 * d * f) + n * 2 * length * length * d + d * d
    assert macs == 11_174_215_680
    path = write(
        tmp_path,
        flops_claim("f.bert", 22.3, unit="B", seq_len=length),
        models={"tiny": model({"model_type": "bert"})},
    )
    m = measured(path, "f.bert")
    assert m.details["flops"] == 2 * macs
    assert m.value == pytest.approx(2 * macs / 1e9)


def test_flops_units_and_hours() -> None:
    assert convert(1.2, "B", "FLOP") == pytest.approx(1.2e9)
    assert convert(1.2, "billion FLOPs", "GFLOP") == pytest.approx(1.2)
    assert convert(2.0, "hours", "seconds") == 7200.0
    with pytest.raises(ValueError, match="cannot convert"):
        convert(1.0, "GFLOP", "parameters")


# ---------------------------------------------------------------- parameter counting conventions


@pytest.mark.parametrize(
    ("config", "measure", "expected"),
    [
        ({"model_type": "bert"}, {}, 109_482_240),
        ({"model_type": "bert"}, {"exclude": ["pooler*"]}, 108_891_648),
        ({"model_type": "bert"}, {"exclude": ["embeddings*", "pooler*"]}, 108_891_648 - 23_837_184),
        ({"model_type": "distilbert"}, {}, 66_362_880),
        ({"model_type": "distilbert"}, {"include": ["transformer*"]}, 66_362_880 - 23_835_648),
    ],
)
def test_parameter_count_conventions_exact(
    tmp_path: Path, config: dict[str, Any], measure: dict[str, Any], expected: int
) -> None:
    record = claim(
        "p",
        1,
        unit="parameters",
        measure={"kind": "parameter_count", "model": "m", **measure},
    )
    m = measured(write(tmp_path, record, models={"m": model(config)}), "p")
    assert m.value == expected
    assert sum(m.details["by_module"].values()) == expected
    if config["model_type"] == "bert":  # embeddings 30522 x 768 + 512 x 768 + 2 x 768 + LayerNorm 2 x 768
        counted_or_not = {**m.details["by_module"], **m.details["excluded"]}
        assert counted_or_not["embeddings"] == 23_837_184
        assert counted_or_not["pooler"] == 768 * 768 + 768
    width = "hidden_size" if config["model_type"] == "bert" else "dim"  # every field resolved, defaults marked
    assert m.evidence["resolved_config"][width] == {"value": 768, "source": "default"}
    assert m.evidence["resolved_config"]["model_type"]["source"] == "given"
    assert width in m.evidence["defaulted_fields"]


def test_a_pattern_that_matches_nothing_is_an_error_on_the_claim(tmp_path: Path) -> None:
    from harness.core.errors import ClaimError

    record = claim("p", 1, unit="parameters", measure={"kind": "parameter_count", "model": "m", "exclude": ["pooer"]})
    path = write(tmp_path, record, models={"m": model(TINY_BERT)})
    claims_file = load(path)
    with pytest.raises(ClaimError) as err:
        Context(claims_file, Options()).measure(claims_file.claim("p"))
    assert err.value.field == "measure.exclude"
    assert "Did you mean 'pooler'" in err.value.fix


# ---------------------------------------------------------------- speedup


class FakeTimer(Timer):
    """The "seconds" of a call are what the call returns."""

    def __call__(self, call: Any) -> float:
        return float(call())

    def overhead(self, calls: int = 1) -> float:
        return 0.0


def test_speedup_is_the_baselines_time_over_the_models_with_paired_replicates() -> None:
    # the model takes 1 or 2 s, the baseline 6 or 12 s on the same inputs: every input 6x, so speedup 6 exactly
    times = {0: (1.0, 2.0, 1.0, 2.0), 1: (6.0, 12.0, 6.0, 12.0)}
    timings = paired_run(
        ("model", "baseline"),
        lambda k, i: times[k][i],
        [0, 1, 2, 3],
        StoppingRule(min_inputs=4, budget_seconds=0.0, floor_inputs=4),
        FakeTimer(),
        warmup_calls=0,
    )
    value, interval, replicates = speedup_of(timings, 0, 1)
    assert value == pytest.approx(6.0)
    assert interval == pytest.approx((6.0, 6.0))  # a constant per-input ratio: no spread
    np.testing.assert_allclose(replicates, timings.mean_replicates(1) / timings.mean_replicates(0))
    fraction, fraction_interval, inverse = speedup_of(timings, 0, 1, "time_fraction")
    assert fraction == pytest.approx(1 / 6)
    assert fraction_interval == pytest.approx((1 / 6, 1 / 6))
    np.testing.assert_allclose(inverse, 1 / replicates)


SPEED_MODELS = {
    "big": model(
        {
            **TINY_BERT,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 4,
            "vocab_size": 100,
            "max_position_embeddings": 64,
        }
    ),
    "small": model(
        {
            **TINY_BERT,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "vocab_size": 100,
            "max_position_embeddings": 64,
        }
    ),
}
WORKLOAD = {
    "max_length": 64,
    "examples": 40,
    "batch_size": 1,
    "threads": 1,
    "quick_examples": 20,
    "budget_seconds": {"quick": 2, "full": 2},
    "synthetic_lengths": {"distribution": "lognormal", "median": 10, "p95": 20, "min": 4, "max": 40, "source": "t"},
}


def test_a_ratio_only_speed_claim_needs_no_absolute_values(tmp_path: Path) -> None:
    record = claim(
        "speed.small",
        1.2,
        unit="ratio",
        comparable_on=["device"],
        conditions={"device": "cpu"},
        tolerance={"kind": "lower_bound", "value": 0.0, "rationale": "test: 4 layers against 1"},
        measure={"kind": "speedup", "model": "small", "baseline": "big", "workload": "w"},
    )
    path = tmp_path / "claims" / "speed.toml"
    path.parent.mkdir(parents=True)
    path.write_text(claims_toml(record, header={**header(**SPEED_MODELS), "workloads": {"w": WORKLOAD}}))
    claims_file = load(path)
    assert not claims_file.invalid
    shared: dict[Any, Any] = {}
    context = Context(claims_file, Options(), shared)
    m = context.measure(claims_file.claim("speed.small"))
    assert [k[0] for k in shared] == ["latency-paired-run"]
    assert shared[next(iter(shared))].timings.models == ("small", "big")
    assert m.interval is not None and m.interval[0] > 1.0  # 4 layers are slower than 1: a real speedup
    assert m.details["mean_ms_per_input"]["big"] > m.details["mean_ms_per_input"]["small"]
    result = evaluate(claims_file.claim("speed.small"), context, "n", "r")
    if m.inconclusive:  # the machine's load changed under the measurement (a shared CI machine): said, not judged
        assert result.verdict == "INCONCLUSIVE" and m.inconclusive in result.reason
    else:
        assert result.verdict == "REPRODUCED", result.reason


# ---------------------------------------------------------------- tolerance


def test_relative_or_precision_takes_the_wider_band() -> None:
    # 0.5% of 7.5 is 0.0375, half the printed rounding 0.05: the rounding is wider
    assert band(7.5, "relative_or_precision", 0.005, 0.1) == band(7.5, "absolute", 0.05, 0.1)
    wide = band(7.5, "relative_or_precision", 0.05, 0.1)
    assert (wide.lo, wide.hi) == pytest.approx((7.125, 7.875))  # relative wider


# ---------------------------------------------------------------- unreleased models and scoped look-up


def test_an_unreleased_model_counts_but_its_task_claims_are_not_run(tmp_path: Path) -> None:
    params = claim("p", 1448, unit="parameters", precision=1, measure={"kind": "parameter_count", "model": "m"})
    task = claim(
        "glue.m.sst2",
        90.0,
        unit="points",
        metric={"name": "accuracy", "split": "validation"},
        measure={"kind": "task_score", "model": "m", "task": "glue/sst2"},
    )
    unreleased = {"config_source": "test", "config": TINY_BERT}
    path = write(tmp_path, params, task, models={"m": unreleased})
    claims_file = load(path)
    assert not claims_file.invalid
    assert claims_file.models["m"].hub_id is None and not claims_file.models["m"].released
    context = Context(claims_file, Options())
    assert context.measure(claims_file.claim("p")).value == 1448
    with pytest.raises(NotRunError, match="was never released") as err:
        context.measure(claims_file.claim("glue.m.sst2"))
    assert "architecture claims" in err.value.remedy


def test_released_true_without_hub_id_is_a_load_error(tmp_path: Path) -> None:
    path = write(tmp_path, claim("c"), models={"m": {"released": True, "config_source": "t", "config": TINY_BERT}})
    (record,) = load(path).invalid
    assert record.error.field == "models.m.hub_id"
    assert "released = false" in record.error.fix


def _save_config(directory: Path, config: dict[str, Any]) -> None:
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")


def test_model_lookup_is_scoped_per_claims_file_and_a_differing_checkpoint_is_not_comparable(tmp_path: Path) -> None:
    params = claim(
        "p",
        1448,
        unit="parameters",
        precision=1,
        tolerance={"kind": "absolute", "value": 0, "rationale": "exact"},
        measure={"kind": "parameter_count", "model": "bert_base"},
    )
    unreleased = {"config_source": "test", "config": TINY_BERT, "released": False}
    path = write(tmp_path, params, models={"bert_base": unreleased}, name="paper_a")
    models_dir = tmp_path / "models"
    _save_config(models_dir / "bert_base", {**TINY_BERT, "hidden_size": 16})  # another paper's bert_base
    _save_config(models_dir / "paper_a" / "bert_base", TINY_BERT)  # this file's own
    claims_file = load(path)
    same = Context(claims_file, Options(models_dir=models_dir)).measure(claims_file.claim("p"))
    assert str(models_dir / "paper_a" / "bert_base") in same.evidence["config"]
    assert "config_differences" not in same.evidence
    # the scoped directory gone: the unscoped one is found, and it is a different model
    (models_dir / "paper_a" / "bert_base" / "config.json").unlink()
    context = Context(claims_file, Options(models_dir=models_dir))
    result = evaluate(claims_file.claim("p"), context, "n", "r")
    assert result.verdict == "NOT_COMPARABLE"
    assert "hidden_size 8 -> 16" in result.reason
    assert result.evidence["config_differences"]["hidden_size"] == {"claims_file": "8", "checkpoint": "16"}
    assert not math.isnan(result.measured)


def test_parameter_ratio_needs_no_printed_counts(tmp_path: Path) -> None:
    smaller = claim(
        "size.smaller",
        1.6,
        unit="ratio",
        measure={"kind": "parameter_ratio", "model": "distil", "baseline": "bert"},
    )
    fraction = claim(
        "size.fraction",
        60,
        unit="percent",
        precision=1,
        measure={
            "kind": "parameter_ratio",
            "model": "distil",
            "baseline": "bert",
            "statistic": "fraction",
            "exclude": ["embeddings*"],
        },
    )
    models = {"distil": model({"model_type": "distilbert"}), "bert": model({"model_type": "bert"})}
    path = write(tmp_path, smaller, fraction, models=models)
    times = measured(path, "size.smaller")
    assert times.value == 109_482_240 / 66_362_880
    assert times.details["parameters"] == {"distil": 66_362_880, "bert": 109_482_240}
    # without the embeddings (DistilBERT's 23,835,648; BERT's 23,837,184): in percent
    assert measured(path, "size.fraction").value == pytest.approx(
        100 * (66_362_880 - 23_835_648) / (109_482_240 - 23_837_184)
    )


def test_serialized_bytes_is_the_weights_plus_the_safetensors_header(tmp_path: Path) -> None:
    record = claim(
        "size.file",
        1,
        unit="bytes",
        measure={"kind": "serialized_bytes", "model": "tiny", "dtype": "float16"},
    )
    m = measured(write(tmp_path, record, models={"tiny": model(TINY_BERT)}), "size.file")
    weights = 1448 * 2  # tiny BERT's 1448 parameters in float16
    assert weights < m.value < weights + 8192  # plus the JSON header naming each tensor
    assert m.conditions["dtype"] == "float16" and m.conditions["format"] == "safetensors"
    assert m.details["files"] == ["model.safetensors"]
