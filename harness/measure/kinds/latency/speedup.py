"""The ``speedup`` kind: how many times faster a model is than a baseline, from the shared paired run.

Papers often print only the ratio ("9.4x faster"), measured on hardware the reader does not have; the ratio
is the portable part. A ``speedup`` claim needs no absolute times: it names the model, the baseline and the
workload, and both models join the workload's one paired, interleaved run (``paired``) with every latency
claim on it. The value is the baseline's mean time per input over the model's (``> 1``: the model is
faster); its replicates use the run's shared bootstrap indices, so the interval is the paired one.
``statistic = "time_fraction"`` gives the inverse, the model's time as a fraction of the baseline's
("about 31% inference time of them").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.core.errors import ClaimError, did_you_mean
from harness.core.stats import percentile_interval
from harness.measure.kinds.latency.paired import paired
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.spec import Claim

if TYPE_CHECKING:
    import numpy as np

    from harness.ml.timing import PairedTimings

SPEEDUP_STATISTICS = ("speedup", "time_fraction")


def speedup_of(
    timings: PairedTimings, model: int, baseline: int, statistic: str = "speedup"
) -> tuple[float, np.ndarray]:
    """The baseline's mean time over the model's (or its inverse for ``time_fraction``), with paired replicates."""
    a, b = (baseline, model) if statistic == "speedup" else (model, baseline)
    value = float(timings.per_input[a].mean() / timings.per_input[b].mean())
    return value, timings.mean_replicates(a) / timings.mean_replicates(b)


@register("speedup", required=("model", "baseline", "workload"), optional=("statistic",), markers=("speed",))
def speedup(claim: Claim, context: Context) -> Measurement:
    """Times faster than the baseline on the workload (paired run; no absolute times needed)."""
    assert claim.measure is not None
    params = claim.measure.params
    statistic = params.get("statistic", "speedup")
    if statistic not in SPEEDUP_STATISTICS:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure.statistic",
            "one of " + ", ".join(SPEEDUP_STATISTICS),
            repr(statistic),
            "use one of those." + did_you_mean(str(statistic), SPEEDUP_STATISTICS),
        )
    baseline = params["baseline"]
    if baseline not in context.file.models or baseline == params["model"]:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure.baseline",
            "the name of another [models.<name>] table of this file",
            repr(baseline),
            "name the model the speedup is relative to." + did_you_mean(str(baseline), context.file.models),
        )
    run = paired(claim, context)
    k, j = run.index(params["model"]), run.index(baseline)
    value, replicates = speedup_of(run.timings, k, j, statistic)
    what = "baseline time / model time" if statistic == "speedup" else "model time / baseline time"
    evidence = {
        "path": f"paired interleaved timing of random-weight models ({run.profile} profile): {what}",
        "smoke": False,
        "workload": run.inputs.kind,
        "data": run.inputs.origin,
        "config": {m: run.configs[m] for m in (params["model"], baseline)},
        "profile": run.profile,
    }
    details = {
        "model": params["model"],
        "baseline": baseline,
        "statistic": statistic,
        "mean_ms_per_input": {
            params["model"]: float(run.timings.per_input[k].mean()) * 1e3,
            baseline: float(run.timings.per_input[j].mean()) * 1e3,
        },
        "inputs_timed": int(run.timings.inputs.size),
        "stopped_by": run.timings.stopped,
    }
    return Measurement(
        value=value,
        unit="ratio",
        interval=percentile_interval(replicates),
        replicates=replicates,
        conditions=dict(run.conditions),
        evidence=evidence,
        details=details,
    )
