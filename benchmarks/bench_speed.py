"""The harness's speedup estimate and its cost, against torch.utils.benchmark on the same two models.

Both run in this process on the same inputs (the quick profile's sample of the workload): the harness's
paired, interleaved run with its bootstrap interval, then torch.utils.benchmark timing each model's whole
sweep over those inputs, the two models' sweeps alternating. Prints the two ratios, whether the
baseline's ratio falls inside the harness's interval, the interval's half-width, what each cost, and the
timer's overhead per call against the faster model's forward pass.

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 python benchmarks/bench_speed.py
    python benchmarks/bench_speed.py --claims claims/distilbert.toml --ratio speed.speedup --repeats 2

Timings on a shared machine are noisy: the load average before and after each part is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_average() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default=str(ROOT / "claims" / "distilbert.toml"))
    parser.add_argument("--ratio", default="speed.speedup", help="a formula claim: <latency claim> / <latency claim>")
    parser.add_argument("--repeats", type=int, default=5, help="torch.utils.benchmark sweeps per model")
    args = parser.parse_args()
    # a benchmark never downloads: without these, a missing data set costs minutes of retries
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

    import torch
    from torch.utils import benchmark

    from harness.measure.kinds.latency import paired
    from harness.measure.measurement import Context, Options
    from harness.ml.models import build_spec_model, resolve_config
    from harness.spec import load

    claims_file = load(args.claims)
    ratio_claim = claims_file.claim(args.ratio)
    assert ratio_claim.formula is not None
    slow_id, fast_id = ratio_claim.formula.names
    context = Context(claims_file, Options(speed_profile="quick"))

    # ---- the harness: one paired run serves both latency claims and the ratio
    load_before = load_average()
    start = time.perf_counter()
    ratio = context.measure(ratio_claim)
    harness_total = time.perf_counter() - start
    slow = context.measure(claims_file.claim(slow_id))
    fast = context.measure(claims_file.claim(fast_id))
    run = paired(claims_file.claim(slow_id), context)
    info = slow.details["run"]
    load_mid = load_average()

    # ---- the baseline: torch.utils.benchmark, each model's sweep over the same inputs, one after the other
    inputs = [run.inputs.batches[int(i)] for i in run.timings.inputs]
    models = {}
    for claim in (claims_file.claim(slow_id), claims_file.claim(fast_id)):
        assert claim.measure is not None
        spec = claims_file.models[claim.measure.params["model"]]
        models[claim.id] = build_spec_model(spec, resolve_config(spec, None), device="cpu")

    def sweep(model: object) -> None:
        with torch.inference_mode():
            for batch in inputs:
                model(**batch)  # type: ignore[operator]

    sweeps: dict[str, list[float]] = {cid: [] for cid in models}
    start = time.perf_counter()
    for _ in range(args.repeats):  # the models' sweeps alternate, so that a slow drift of the load hits both
        for cid, model in models.items():
            timer = benchmark.Timer(
                stmt="sweep(model)",
                globals={"sweep": sweep, "model": model},
                num_threads=torch.get_num_threads(),
                label=cid,
            )
            sweeps[cid].extend(timer.timeit(1).times)
    baseline_total = time.perf_counter() - start
    baseline = {cid: statistics.median(times) for cid, times in sweeps.items()}
    load_after = load_average()
    baseline_ratio = baseline[slow_id] / baseline[fast_id]
    # the baseline's own spread: the ratio of each pair of sweeps run back to back
    sweep_ratios = [a / b for a, b in zip(sweeps[slow_id], sweeps[fast_id], strict=True)]

    lo, hi = ratio.interval or (float("nan"), float("nan"))
    halfwidth = (hi - lo) / 2 / ratio.value
    fast_call = fast.details["per_call_ms"]["mean"] / 1e3
    overhead = info["timer_overhead_us"] * 1e-6
    print(
        f"machine: {run.conditions['cpu_model']}, {run.conditions['cores']} cores, torch threads "
        f"{run.conditions['torch_threads']}; workload {run.inputs.kind}, {len(inputs)} inputs "
        f"(median {run.conditions['seq_len_median']:g} tokens)"
    )
    print(
        f"load average (1 min): {load_before:.2f} before, {load_mid:.2f} after the harness, "
        f"{load_after:.2f} after the baseline (this process adds about its torch thread count while it times; "
        f"more than that means other processes competed)"
    )
    print(
        f"harness   {args.ratio} = {ratio.value:.4f} [{lo:.4f}, {hi:.4f}]  half-width {halfwidth:.2%} of the ratio "
        f"(target {info['rule']['relative_halfwidth']:.0%}); stopped by {info['stopped_by']} after "
        f"{info['inputs_timed']} inputs, {info['retimed_inputs']} re-timed"
    )
    print(
        f"          measuring {info['loop_wall_seconds']:.1f} s (budget {info['rule']['budget_seconds']:g} s), "
        f"total with model build, FLOP count and warm-up {harness_total:.1f} s"
    )
    print(
        f"baseline  torch.utils.benchmark ratio = {baseline_ratio:.4f} ({slow_id} {baseline[slow_id]:.2f} s, "
        f"{fast_id} {baseline[fast_id]:.2f} s per sweep, median of {args.repeats}, sweeps alternating); "
        f"{baseline_total:.1f} s"
    )
    print(f"          the baseline's sweep-pair ratios range over [{min(sweep_ratios):.4f}, {max(sweep_ratios):.4f}]")
    print(
        f"ratio harness / baseline          = {ratio.value / baseline_ratio:.4f}  "
        f"(baseline inside the harness's interval: {'yes' if lo <= baseline_ratio <= hi else 'NO'}; "
        f"harness inside the baseline's range: "
        f"{'yes' if min(sweep_ratios) <= ratio.value <= max(sweep_ratios) else 'NO'})"
    )
    print(f"cost harness measuring / baseline = {info['loop_wall_seconds'] / baseline_total:.3f}")
    print(
        f"timer overhead per call / {fast_id} forward = {overhead / fast_call:.2e} "
        f"({overhead * 1e6:.2f} us / {fast_call * 1e3:.1f} ms)"
    )
    print(
        f"FLOP ratio {slow.details['flops']['ratio_to'][fast.details['model']]:.3f}; achieved "
        f"{slow.details['flops']['achieved_gflop_per_s']:.1f} GFLOP/s, "
        f"{slow.details['flops'].get('fraction_of_peak', float('nan')):.1%} of the estimated peak "
        f"({slow.details['flops']['peak_estimate']})"
    )


if __name__ == "__main__":
    main()
