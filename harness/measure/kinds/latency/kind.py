"""The ``latency`` kind: a model's time on a workload, from the shared paired run, with its bootstrap replicates."""

from __future__ import annotations

import os
from typing import Any

from harness.core.stats import percentile_interval
from harness.measure.kinds.latency.paired import PairedRun, paired
from harness.measure.kinds.latency.workload import check_latency_claim
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.ml.flop_probe import cpu_peak_flops
from harness.spec import Claim


def _details(run: PairedRun, k: int, device: str, threads: int) -> dict[str, Any]:
    import numpy as np

    t = run.timings
    name = t.models[k]
    seconds = t.seconds(k)
    calls_flops = run.flops[name][t.call_input[t.call_model == k]]
    achieved = float(calls_flops.sum() / seconds.sum())
    total = {m: float(run.flops[m][t.inputs].sum()) for m in t.models}  # over the timed inputs
    flops: dict[str, Any] = {
        "counted_by": "torch.utils.flop_counter.FlopCounterMode (matrix products + attention), quadratic in length",
        "gflop_per_example": total[name] / 1e9 / float(run.conditions["timed_examples"]),
        "ratio_to": {m: total[name] / v for m, v in total.items() if m != name and v > 0},
        "achieved_gflop_per_s": achieved / 1e9,
    }
    if device == "cpu":
        peak, how = cpu_peak_flops(threads)
        flops["peak_estimate"] = how
        if peak is not None:
            flops["peak_gflop_per_s"] = peak / 1e9
            flops["fraction_of_peak"] = achieved / peak
            flops["sanity"] = (
                "SUSPECT: above the estimated peak; the timer or the FLOP count is wrong"
                if achieved > peak
                else "plausible (below the estimated peak)"
            )
    else:
        flops["peak_estimate"] = "no estimate for accelerators (their peak depends on dtype and tensor-core use)"
    ratios = {}
    for j, other in enumerate(t.models):
        if j != k:
            value, (lo, hi) = t.ratio(k, j)
            drift = t.drift(k, j) if t.inputs.size >= 8 else None
            ratios[f"{name}/{other}"] = {
                "value": value,
                "interval": [lo, hi],
                "interval_kind": "studentized (delta method, log scale)",
                "drift": None
                if drift is None
                else {
                    "drifted": drift.drifted,
                    "p_value": drift.p_value,
                    "relative_change": drift.relative_change,
                    "explanation": drift.explanation,
                },
            }
    mean_call = float(seconds.mean())
    return {
        "model": name,
        "paired_with": [m for m in t.models if m != name],
        "per_call_ms": {
            "mean": mean_call * 1e3,
            "median": float(np.median(seconds)) * 1e3,
            "min": float(seconds.min()) * 1e3,
            "max": float(seconds.max()) * 1e3,
            "calls": int(seconds.size),
        },
        "time_ratios": ratios,
        "run": {
            "profile": run.profile,
            "inputs_timed": int(t.inputs.size),
            "pool": len(run.inputs.batches),
            "passes": round(len(t.call_input) / len(t.models) / len(run.inputs.batches), 3),
            "stopped_by": t.stopped,
            "estimator": t.estimator,
            "load_average_1min": {"before": t.load_average[0], "after": t.load_average[1], "cores": os.cpu_count()},
            "rule": {
                "min_inputs": t.rule.min_inputs,
                "relative_halfwidth": t.rule.relative_halfwidth,
                "budget_seconds": t.rule.budget_seconds,
                "floor_inputs": t.rule.floor_inputs,
            },
            "measuring_seconds": t.measuring_seconds,
            "loop_wall_seconds": t.wall_seconds,
            "warmup_seconds": t.warmup_seconds,
            "timer": "perf_counter around each call"
            + (", torch.cuda.synchronize before and after" if device != "cpu" else ""),
            "timer_overhead_us": t.timer_overhead_seconds * 1e6,
            "timer_overhead_fraction": t.timer_overhead_seconds / mean_call if mean_call else None,
        },
        "sequence_lengths": {
            "min": int(min(run.inputs.lengths)),
            "median": float(np.median(run.inputs.lengths)),
            "max": int(max(run.inputs.lengths)),
            "of": run.inputs.kind,
        },
        "flops": flops,
    }


@register(
    "latency",
    required=("model", "workload"),
    optional=("statistic",),
    markers=("speed",),
    check=check_latency_claim,
)
def latency(claim: Claim, context: Context) -> Measurement:
    """Seconds the model takes on the workload: a full pass (mean per call x calls per pass), or per example."""
    assert claim.measure is not None
    statistic = claim.measure.params.get("statistic", "full_pass_seconds")  # checked at load (check_latency_claim)
    run = paired(claim, context)
    model = claim.measure.params["model"]
    k = run.index(model)
    t = run.timings
    calls = len(run.inputs.batches)
    scale = calls if statistic == "full_pass_seconds" else calls / len(run.inputs.lengths)
    value = float(t.per_input[k].mean()) * scale
    replicates = t.mean_replicates(k) * scale
    details = _details(run, k, str(run.conditions["device"]), int(run.conditions["torch_threads"]))
    recorder = context.options.extra.get("benchmark_recorder")
    benchmark = "not recorded: no pytest session (measured outside pytest)"
    if recorder is not None:
        benchmark = recorder.record(
            fullname=f"{claim.path}::{claim.id}",
            name=claim.id,
            group=f"latency {run.workload.name} ({run.profile}, {run.inputs.kind})",
            seconds=t.seconds(k),
            extra_info={
                "model": model,
                "unit": "seconds per call",
                "statistic": statistic,
                "value": value,
                "examples_per_call": run.workload.batch_size,
                **{key: run.conditions[key] for key in ("device", "workload", "timed_examples", "examples")},
            },
        )
    details["benchmark"] = benchmark
    what = (
        f"{t.inputs.size} of {calls} calls timed, scaled to the full pass"
        if t.inputs.size < calls
        else f"all {calls} calls timed"
    )
    evidence = run.evidence(what, run.configs[model])
    drifted = [
        f"{pair}: {r['drift']['explanation']}"
        for pair, r in details["time_ratios"].items()
        if r["drift"] is not None and r["drift"]["drifted"]
    ]
    budget = run.budget(replicates)
    return Measurement(
        value=value,
        unit="seconds",
        budget=budget,
        inconclusive="; ".join(drifted) if drifted else None,
        interval=percentile_interval(replicates),
        replicates=replicates,
        conditions=dict(run.conditions),
        evidence=evidence,
        details=details,
    )
