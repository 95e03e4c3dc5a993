"""The ``speedup`` kind: how many times faster a model is than a baseline, from the shared paired run.

Papers often print only the ratio ("9.4x faster"), measured on hardware the reader does not have; the ratio
is the portable part. A ``speedup`` claim needs no absolute times: it names the model, the baseline and the
workload, and both models join the workload's one paired, interleaved run (``paired``) with every latency
claim on it. The value is the baseline's mean time per input over the model's (``> 1``: the model is
faster); its interval is the run's studentized ratio interval (``PairedTimings.ratio``, selection-free), its
replicates the ratio of the two models' jointly drawn mean replicates, and a ratio that drifted during the run
makes the claim INCONCLUSIVE, as for latency. ``statistic = "time_fraction"`` gives the inverse, the model's
time as a fraction of the baseline's ("about 31% inference time of them").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.measure.kinds import params as measure_params
from harness.measure.kinds.latency.paired import paired
from harness.measure.kinds.latency.workload import check_workload
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.spec import Claim, ClaimsFile

if TYPE_CHECKING:
    import numpy as np

    from harness.ml.timing import PairedTimings

SPEEDUP_STATISTICS = ("speedup", "time_fraction")


def speedup_of(
    timings: PairedTimings, model: int, baseline: int, statistic: str = "speedup"
) -> tuple[float, tuple[float, float], np.ndarray]:
    """The baseline's mean time over the model's (its inverse for ``time_fraction``): the value, its studentized
    95% interval and replicates from the joint draw of both models' means."""
    a, b = (baseline, model) if statistic == "speedup" else (model, baseline)
    value, interval = timings.ratio(a, b)
    return value, interval, timings.mean_replicates(a) / timings.mean_replicates(b)


def check_speedup_claim(claim: Claim, declared: ClaimsFile) -> None:
    """At load: the statistic, a baseline other than the model, and the workload against both models."""
    measure_params.statistic(claim, "speedup", SPEEDUP_STATISTICS)
    measure_params.other_baseline(claim, "the speedup")
    check_workload(claim, declared, ("model", "baseline"))


@register(
    "speedup",
    required=("model", "baseline", "workload"),
    optional=("statistic",),
    markers=("speed",),
    check=check_speedup_claim,
)
def speedup(claim: Claim, context: Context) -> Measurement:
    """Times faster than the baseline on the workload (paired run; no absolute times needed)."""
    assert claim.measure is not None
    params = claim.measure.params
    statistic = params.get("statistic", "speedup")  # checked at load (check_speedup_claim)
    model, baseline = params["model"], params["baseline"]
    run = paired(claim, context)
    t = run.timings
    k, j = run.index(model), run.index(baseline)
    value, interval, replicates = speedup_of(t, k, j, statistic)
    drift = t.drift(j, k) if t.inputs.size >= 8 else None
    what = "baseline time / model time" if statistic == "speedup" else "model time / baseline time"
    evidence = run.evidence(what, {m: run.configs[m] for m in (model, baseline)})
    details = {
        "model": model,
        "baseline": baseline,
        "statistic": statistic,
        "mean_ms_per_input": {
            model: float(t.per_input[k].mean()) * 1e3,
            baseline: float(t.per_input[j].mean()) * 1e3,
        },
        "interval_kind": "studentized (delta method, log scale)",
        "inputs_timed": int(t.inputs.size),
        "stopped_by": t.stopped,
        "drift": None if drift is None else {"drifted": drift.drifted, "explanation": drift.explanation},
    }
    budget = run.budget(replicates)
    return Measurement(
        value=value,
        unit="ratio",
        budget=budget,
        inconclusive=drift.explanation if drift is not None and drift.drifted else None,
        interval=interval,
        replicates=replicates,
        conditions=dict(run.conditions),
        evidence=evidence,
        details=details,
    )
