"""Speed claims: the paired timer, its stopping rule and bootstrap ratio, the workloads, and the pytest wiring
(pytest-benchmark storage, the xdist NOT_RUN path). Tiny models (hidden 32) and a few dozen inputs."""

from __future__ import annotations

import json
import math
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.core.errors import ClaimError, NotRunError
from harness.core.stats import bootstrap_indices, percentile_interval, rng
from harness.measure.kinds.latency import parse_workload, synthetic_lengths
from harness.measure.measurement import Context, Options
from harness.ml.flop_probe import flop_polynomial
from harness.ml.builders import build_model
from harness.ml.timing import BOOTSTRAP_SEED, StoppingRule, Timer, paired_run
from harness.spec import load

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]

TINY = textwrap.dedent(
    """
    schema_version = 1
    [source]
    key = "tiny"
    title = "a tiny stand-in paper"
    reference = "test"
    version = "v1"

    [models.big]
    hub_id = "nonexistent/tiny-big"
    config_source = "test"
    [models.big.config]
    model_type = "bert"
    vocab_size = 100
    hidden_size = 32
    num_hidden_layers = 4
    num_attention_heads = 2
    intermediate_size = 64
    max_position_embeddings = 64

    [models.small]
    hub_id = "nonexistent/tiny-small"
    config_source = "test"
    [models.small.config]
    model_type = "distilbert"
    vocab_size = 100
    dim = 32
    n_layers = 1
    n_heads = 2
    hidden_dim = 64
    max_position_embeddings = 64

    [workloads.w]
    dataset = "glue/stsb"
    split = "validation"
    text_fields = ["sentence1", "sentence2"]
    examples = 60
    batch_size = 1
    threads = 1
    max_length = 64
    quick_examples = 20
    budget_seconds = {quick = 2, full = 1}
    synthetic_lengths = {distribution = "lognormal", median = 10, p95 = 20, min = 4, max = 40, source = "test"}
    {workload_extra}

    [[claims]]
    id = "speed.big"
    quote = "q"
    location = "Table 3"
    value = 1
    unit = "seconds"
    precision = 1
    comparable_on = ["device", "batch_size", "cpu_model"]
    [claims.conditions]
    device = "cpu"
    batch_size = 1
    cpu_model = "a reference processor no test machine has"
    [claims.tolerance]
    kind = "relative"
    value = 0.5
    rationale = "test"
    [claims.measure]
    kind = "latency"
    model = "big"
    workload = "w"

    [[claims]]
    id = "speed.small"
    quote = "q"
    location = "Table 3"
    value = 1
    unit = "seconds"
    precision = 1
    comparable_on = ["cpu_model"]
    [claims.conditions]
    cpu_model = "a reference processor no test machine has"
    [claims.tolerance]
    kind = "relative"
    value = 0.5
    rationale = "test"
    [claims.measure]
    kind = "latency"
    model = "small"
    workload = "w"

    [[claims]]
    id = "speed.ratio"
    quote = "q"
    location = "Table 3"
    value = 1.5
    unit = "ratio"
    precision = 0.1
    formula = "speed.big / speed.small"
    comparable_on = ["device", "batch_size"]
    [claims.conditions]
    device = "cpu"
    batch_size = 1
    [claims.tolerance]
    kind = "lower_bound"
    value = 0.05
    rationale = "test"
    """
)


def tiny_file(tmp_path: Path, workload_extra: str = "") -> Path:
    path = tmp_path / "claims" / "tiny.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TINY.replace("{workload_extra}", workload_extra), encoding="utf-8")
    return path


class FakeTimer(Timer):
    """A timer whose "seconds" are what the call returns: exact, machine-independent latencies."""

    def __call__(self, call: Callable[[], Any]) -> float:
        return float(call())

    def overhead(self, calls: int = 1) -> float:
        return 0.0


# ---------------------------------------------------------------- the paired loop


def test_models_alternate_on_each_input_after_interleaved_warmup() -> None:
    seen: list[tuple[int, int]] = []

    def call(k: int, i: int) -> float:
        seen.append((k, i))
        return 2.0 if k == 0 else 1.0

    run = paired_run(("a", "b"), call, [3, 1, 2, 0], StoppingRule(min_inputs=4), FakeTimer(), warmup_calls=2)
    warmup, timed = seen[:4], seen[4:]
    assert warmup == [(0, 3), (1, 3), (0, 1), (1, 1)]
    assert timed == [(0, 3), (1, 3), (0, 1), (1, 1), (0, 2), (1, 2), (0, 0), (1, 0)]
    assert run.stopped == "precision"
    assert list(run.call_model) == [0, 1] * 4 and list(run.call_input) == [3, 3, 1, 1, 2, 2, 0, 0]
    assert list(run.inputs) == [3, 1, 2, 0]


def test_exactly_proportional_latencies_give_a_zero_width_interval() -> None:
    lengths = [5, 9, 14, 30, 7, 11]
    run = paired_run(
        ("a", "b"),
        lambda k, i: lengths[i] * (3.0 if k == 0 else 1.5),
        list(range(6)),
        StoppingRule(min_inputs=6),
        FakeTimer(),
        warmup_calls=0,
    )
    assert run.ratio(0, 1) == (2.0, (2.0, 2.0))
    assert run.stopped == "precision"


def test_bootstrap_ratio_interval_exact_numbers() -> None:
    # model a takes 2 or 4 s, b always 1 s: each replicate's ratio is mean(a[idx]) in {2, 3, 4} with
    # probability 1/4, 1/2, 1/4, so the 95% percentile interval is exactly [2, 4] around the value 3
    run = paired_run(
        ("a", "b"),
        lambda k, i: (2.0, 4.0)[i] if k == 0 else 1.0,
        [0, 1],
        StoppingRule(min_inputs=2, budget_seconds=0.0, floor_inputs=2),
        FakeTimer(),
        warmup_calls=0,
    )
    assert run.ratio(0, 1) == (3.0, (2.0, 4.0))
    idx = bootstrap_indices(2, rng(BOOTSTRAP_SEED))
    np.testing.assert_array_equal(run.indices, idx)
    np.testing.assert_allclose(run.mean_replicates(0), np.array([2.0, 4.0])[idx].mean(axis=1))


def test_pairing_narrows_the_interval() -> None:
    """Inputs of very different lengths: the per-input ratio is steady (2 +- 2%), the latencies are not.
    Resampling both models with the same indices keeps the ratio's interval narrow; independent
    resampling would not."""
    gen = np.random.default_rng(5)
    base = gen.lognormal(3.0, 0.6, size=80)
    noise = 1 + 0.02 * gen.standard_normal(80)
    run = paired_run(
        ("a", "b"),
        lambda k, i: base[i] * (2 * noise[i] if k == 0 else 1.0),
        list(range(80)),
        StoppingRule(min_inputs=80, budget_seconds=0.0, floor_inputs=80),
        FakeTimer(),
        warmup_calls=0,
    )
    value, (lo, hi) = run.ratio(0, 1)
    other = bootstrap_indices(80, rng(99))
    unpaired = percentile_interval(run.mean_replicates(0) / run.per_input[1][other].mean(axis=1))
    assert lo < value < hi and (hi - lo) / value < 0.02
    assert (unpaired[1] - unpaired[0]) > 5 * (hi - lo)


# ---------------------------------------------------------------- the stopping rule


@pytest.mark.parametrize(
    ("inputs", "elapsed", "halfwidth", "expected"),
    [
        (149, 5.0, 0.001, None),  # the profile's sample first
        (150, 5.0, 0.001, "precision"),
        (150, 5.0, 0.05, None),  # not precise, budget left: more inputs
        (150, 25.0, 0.05, "budget"),
        (20, 25.0, math.inf, None),  # under the floor: even the budget waits
        (30, 25.0, math.inf, "budget"),  # floor reached, budget spent: stop with a smaller sample
        (150, 0.0, None, "sample complete (one model: no ratio to make precise)"),
    ],
)
def test_stopping_rule(inputs: int, elapsed: float, halfwidth: float | None, expected: str | None) -> None:
    rule = StoppingRule(min_inputs=150, relative_halfwidth=0.01, budget_seconds=20.0, floor_inputs=30)
    assert rule.reason(inputs, elapsed, halfwidth) == expected


def test_an_imprecise_run_takes_more_inputs_until_the_interval_is_narrow() -> None:
    # the first 10 inputs have ratios 1.5 / 2.5, every later one exactly 2: the interval narrows with n
    def call(k: int, i: int) -> float:
        if k == 1:
            return 1.0
        return (1.5, 2.5)[i % 2] if i < 10 else 2.0

    run = paired_run(
        ("a", "b"),
        call,
        list(range(200)),
        StoppingRule(min_inputs=10, relative_halfwidth=0.05, budget_seconds=60.0),
        FakeTimer(),
        warmup_calls=0,
        outlier_factor=10.0,
    )
    assert run.stopped == "precision"
    assert 10 < run.inputs.size < 200
    value, (lo, hi) = run.ratio(0, 1)
    assert (hi - lo) / 2 / value <= 0.05


def test_the_budget_stops_a_run_that_never_gets_precise() -> None:
    noisy = np.random.default_rng(1).uniform(1, 3, size=100)
    run = paired_run(
        ("a", "b"),
        lambda k, i: noisy[i] if k == 0 else 1.0,
        list(range(100)),
        StoppingRule(min_inputs=50, budget_seconds=0.0, floor_inputs=20),
        FakeTimer(),
        warmup_calls=0,
        outlier_factor=10.0,
    )
    assert run.stopped == "budget" and run.inputs.size == 20


def test_a_disturbed_pair_is_timed_again_and_keeps_the_fastest_attempt() -> None:
    attempts: dict[int, int] = {}

    def call(k: int, i: int) -> float:
        if k == 0:
            attempts[i] = attempts.get(i, 0) + 1
            if i == 15 and attempts[i] == 1:
                return 50.0  # another process took the core during this one call
        return 2.0 if k == 0 else 1.0

    run = paired_run(("a", "b"), call, list(range(30)), StoppingRule(min_inputs=30), FakeTimer(), warmup_calls=0)
    assert attempts[15] == 2 and run.retimed_inputs == 1
    assert run.ratio(0, 1) == (2.0, (2.0, 2.0))


def test_a_deliberately_slowed_model_is_measured_as_slower() -> None:
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Linear(256, 1024), torch.nn.GELU(), torch.nn.Linear(1024, 256))
    inputs = [torch.randn(n, 256) for n in (32, 64, 96, 48, 80) * 12]

    def call(k: int, i: int) -> Any:
        with torch.inference_mode():
            for _ in range(1 if k == 0 else 3):  # model 1 is model 0 run three times over
                out = layer(inputs[i])
        return out

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: another process on the other core cannot stall a thread barrier
    try:
        run = paired_run(
            ("fast", "slow"),
            call,
            list(range(60)),
            StoppingRule(min_inputs=60, budget_seconds=0.0, floor_inputs=60),
            Timer("cpu"),
        )
    finally:
        torch.set_num_threads(threads)
    value, (lo, hi) = run.ratio(1, 0)
    assert lo > 1.5, f"slowed model measured at {value:.2f}x [{lo:.2f}, {hi:.2f}] the fast one"


def test_cpu_timer_measures_wall_time_with_small_overhead() -> None:
    timer = Timer("cpu")
    assert not timer.synchronizes
    assert timer(lambda: time.sleep(0.01)) >= 0.01
    assert 0 < timer.overhead(200) < 50e-6


# ---------------------------------------------------------------- workloads


def test_synthetic_lengths_follow_the_claims_file() -> None:
    paper = load(ROOT / "claims" / "distilbert.toml")
    spec = paper.workloads["stsb_dev_cpu"]["synthetic_lengths"]
    lengths = synthetic_lengths(spec, 1500)
    assert lengths == synthetic_lengths(spec, 1500)  # seeded
    assert spec["min"] <= min(lengths) and max(lengths) <= spec["max"]
    assert abs(np.median(lengths) - spec["median"]) <= 1
    assert abs(np.quantile(lengths, 0.95) - spec["p95"]) <= 0.1 * spec["p95"]


def test_workload_table_errors_name_the_key_and_the_fix(tmp_path: Path) -> None:
    claims_file = load(tiny_file(tmp_path))
    claim = claims_file.claim("speed.big")
    table = dict(claims_file.workloads["w"])
    with pytest.raises(ClaimError, match=r"workloads\.w\.batchsize.*Did you mean 'batch_size'"):
        parse_workload(claim, "w", {**table, "batchsize": 2})
    del table["synthetic_lengths"]
    with pytest.raises(ClaimError, match=r"workloads\.w\.synthetic_lengths"):
        parse_workload(claim, "w", table)


def test_flop_count_is_the_encoders_analytic_count() -> None:
    """hidden d, FFN f, n layers: per token 2n(4d^2 + 2df) FLOPs, attention 4nd per token pair, and the
    pooler's 2d^2 once."""
    config = {
        "model_type": "bert",
        "vocab_size": 100,
        "hidden_size": 32,
        "num_hidden_layers": 4,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
    }
    c0, c1, c2 = flop_polynomial(build_model(config, device="cpu"), "cpu", 100)
    d, f, n = 32, 64, 4
    assert (c0, c1, c2) == pytest.approx((2 * d * d, 2 * n * (4 * d * d + 2 * d * f), 4 * n * d))


# ---------------------------------------------------------------- the latency kind


def test_latency_claims_share_one_paired_run_and_the_ratio_is_paired(tmp_path: Path) -> None:
    claims_file = load(tiny_file(tmp_path))
    shared: dict[Any, Any] = {}
    context = Context(claims_file, Options(), shared)
    big = context.measure(claims_file.claim("speed.big"))
    small = context.measure(claims_file.claim("speed.small"))
    ratio = context.measure(claims_file.claim("speed.ratio"))
    assert [k[0] for k in shared] == ["latency-paired-run"]
    np.testing.assert_allclose(ratio.replicates, big.replicates / small.replicates)
    assert ratio.value == pytest.approx(big.value / small.value)
    assert ratio.interval is not None and ratio.interval[0] > 1.0  # 4 layers against 1
    assert big.details["time_ratios"]["big/small"]["interval"] == pytest.approx(list(ratio.interval))
    run = big.details["run"]
    assert run["profile"] == "quick" and run["inputs_timed"] >= run["rule"]["floor_inputs"]
    assert big.details["per_call_ms"]["calls"] == small.details["per_call_ms"]["calls"]
    assert big.details["flops"]["ratio_to"]["small"] > 1.0
    assert big.details["flops"]["achieved_gflop_per_s"] > 0
    assert big.conditions["workload"] == "synthetic" and big.conditions["examples"] == 60
    assert big.conditions["device"] == "cpu" and big.conditions["batch_size"] == 1
    assert big.conditions["torch_threads"] == 1
    assert big.evidence["workload"] == "synthetic"
    assert big.evidence["data"].startswith("synthetic token lengths") and "stsb" in big.evidence["data"]
    # the full pass is the mean per call x calls per pass
    assert big.value == pytest.approx(big.details["per_call_ms"]["mean"] / 1e3 * 60, rel=0.5)


def test_the_full_profile_times_every_input(tmp_path: Path) -> None:
    claims_file = load(tiny_file(tmp_path))
    m = Context(claims_file, Options(speed_profile="full")).measure(claims_file.claim("speed.small"))
    assert m.details["run"]["inputs_timed"] == 60 and m.conditions["timed_examples"] == 60
    assert m.evidence["path"].endswith("all 60 calls timed)")


def _local_stsb(tmp_path: Path) -> tuple[Path, Path]:
    """A GLUE-layout STS-B dev.tsv and a word-level tokenizer checkpoint for the tiny models."""
    words = ["the", "a", "cat", "dog", "sat", "on", "mat", "is", "big", "small", "runs", "fast"]
    data = tmp_path / "data" / "glue" / "STS-B"
    data.mkdir(parents=True)
    gen = np.random.default_rng(3)
    lines = ["index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"]
    for i in range(40):
        s1 = " ".join(gen.choice(words, size=int(gen.integers(3, 12))))
        s2 = " ".join(gen.choice(words, size=int(gen.integers(3, 12))))
        lines.append(f"{i}\tmain\tf\t2012\t{i}\tnone\tnone\t{s1}\t{s2}\t{gen.uniform(0, 5):.3f}")
    (data / "dev.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    checkpoint = tmp_path / "models" / "nonexistent" / "tiny-big"
    checkpoint.mkdir(parents=True)
    (checkpoint / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    (checkpoint / "config.json").write_text(
        json.dumps(
            {
                "model_type": "bert",
                "vocab_size": 100,
                "hidden_size": 32,
                "num_hidden_layers": 4,
                "num_attention_heads": 2,
                "intermediate_size": 64,
                "max_position_embeddings": 64,
            }
        )
    )
    return tmp_path / "data", tmp_path / "models"


@pytest.mark.parametrize("tokenization", [False, True])
def test_the_real_workload_is_timed_when_data_and_tokenizer_are_here(tmp_path: Path, tokenization: bool) -> None:
    data_dir, models_dir = _local_stsb(tmp_path)
    extra = f'include_tokenization = {str(tokenization).lower()}\ntokenizer = "big"'
    claims_file = load(tiny_file(tmp_path, extra))
    context = Context(claims_file, Options(data_dir=data_dir, models_dir=models_dir, speed_profile="full"))
    m = context.measure(claims_file.claim("speed.big"))
    assert m.conditions["workload"] == "real" and m.conditions["dataset"] == "glue/stsb"
    assert m.conditions["examples"] == 40 and m.conditions["include_tokenization"] is tokenization
    assert str(data_dir) in m.evidence["data"] and "tokenizer of nonexistent/tiny-big" in m.evidence["data"]
    # [CLS] s1 [SEP] s2 [SEP]: 3 + 3 to 11 words each
    assert 9 <= m.details["sequence_lengths"]["min"] and m.details["sequence_lengths"]["max"] <= 25


def test_under_several_xdist_workers_speed_claims_are_not_run(tmp_path: Path) -> None:
    claims_file = load(tiny_file(tmp_path))
    context = Context(claims_file, Options(xdist_workers=2))
    with pytest.raises(NotRunError, match="pytest-xdist") as err:
        context.measure(claims_file.claim("speed.ratio"))
    assert "-p no:xdist" in err.value.remedy


def test_cuda_without_a_gpu_is_not_run(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the CUDA path is covered by tests/test_speed_gpu.py")
    claims_file = load(tiny_file(tmp_path))
    with pytest.raises(NotRunError, match="no CUDA device"):
        Context(claims_file, Options(device="cuda")).measure(claims_file.claim("speed.big"))


# ---------------------------------------------------------------- pytest wiring


def test_timings_are_written_to_pytest_benchmark_storage(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # when this test itself runs in an xdist worker, the inner session must not believe it is one
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    tiny_file(pytester.path)
    pytester.makeini("[pytest]\n")
    out = tmp_path / "bench.json"
    storage = tmp_path / "storage"
    result = pytester.runpytest(
        "-m",
        "claims",
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={out}",
        "--benchmark-autosave",
        f"--benchmark-storage=file://{storage}",
        f"--claims-out={tmp_path / 'results'}",
    )
    result.assert_outcomes(passed=1, skipped=2)  # the ratio passes; absolute times: NOT_COMPARABLE
    written = json.loads(out.read_text())
    by_name = {b["fullname"]: b for b in written["benchmarks"]}
    assert set(by_name) == {"claims/tiny.toml::speed.big", "claims/tiny.toml::speed.small"}
    big = by_name["claims/tiny.toml::speed.big"]
    assert big["stats"]["rounds"] == len(big["stats"]["data"]) >= 20 and big["extra_info"]["model"] == "big"
    assert len(list(storage.glob("*/0001_*.json"))) == 1
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    details = {r["id"]: r["details"] for r in results["results"]}
    assert details["speed.big"]["benchmark"] == "recorded in pytest-benchmark as claims/tiny.toml::speed.big"


def test_speed_claims_under_xdist_workers_end_as_not_run(pytester: pytest.Pytester) -> None:
    tiny_file(pytester.path)
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess("-m", "claims", "-n", "2", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*NOT_RUN: speed.big*", "*rerun them without workers: pytest -m claims -k speed*"])
