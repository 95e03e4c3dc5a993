"""The paired run: every model with a latency claim on one workload, timed in one interleaved loop."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.environment import cpu_model, versions
from harness.core.errors import NotRunError
from harness.core.stats import rng
from harness.measure.kinds.latency.workload import (
    QUICK_FLOOR_INPUTS,
    SEEDS,
    Inputs,
    Workload,
    make_inputs,
    parse_workload,
    vocab_size,
)
from harness.measure.measurement import Context, Options
from harness.ml.flop_probe import flop_polynomial
from harness.ml.models import build_model, resolve_config
from harness.ml.timing import PairedTimings, StoppingRule, Timer, paired_run
from harness.spec import Claim
from harness.verdict.budget import Budget, Component


@attrs.frozen(eq=False)
class PairedRun:
    """One paired run shared by the latency claims of a workload, with what every claim reports."""

    workload: Workload
    timings: PairedTimings
    inputs: Inputs
    conditions: Mapping[str, Any]
    flops: Mapping[str, Any]  # model -> array of the FLOPs of each of the pool's calls
    configs: Mapping[str, str]
    profile: str

    def index(self, model: str) -> int:
        return self.timings.models.index(model)

    def evidence(self, what: str, config: Any) -> dict[str, Any]:
        """What every timing claim's evidence says: the path (``what`` was timed), the workload, the configs."""
        return {
            "path": f"paired interleaved timing of random-weight models ({self.profile} profile: {what})",
            "smoke": False,
            "synthetic": self.inputs.kind == "synthetic",
            "workload": self.inputs.kind,
            "data": self.inputs.origin,
            "config": config,
            "profile": self.profile,
        }

    def budget(self, replicates: Any) -> Budget:
        """One Type A component: the spread of the studentized replicates over the timed inputs."""
        u = float(replicates.std(ddof=1))
        return Budget(
            (Component("inputs", "A", u, f"studentized replicates over {self.timings.inputs.size} timed inputs"),)
        )


#: the kinds whose claims are timed in a workload's paired run, and the keys naming their models
TIMED_KINDS = {"latency": ("model",), "speedup": ("model", "baseline")}


def partner_models(claim: Claim, context: Context) -> tuple[str, ...]:
    """The models of every latency and speedup claim in this file on the claim's workload, in file order."""
    assert claim.measure is not None
    workload = claim.measure.params["workload"]
    names = [
        c.measure.params[key]
        for c in context.file.claims
        if c.measure is not None and c.measure.kind in TIMED_KINDS and c.measure.params.get("workload") == workload
        for key in TIMED_KINDS[c.measure.kind]
    ]
    return tuple(dict.fromkeys(names))


def _device(options: Options) -> str:
    if options.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise NotRunError(
                f"--claims-device {options.device} was asked for but torch sees no CUDA device",
                "run on a machine with a CUDA GPU and a CUDA build of torch, or use --claims-device cpu",
            )
    return options.device


def _run(context: Context, workload: Workload, models: tuple[str, ...], device: str) -> PairedRun:
    import numpy as np
    import torch
    import transformers

    profile = context.options.speed_profile
    dtype = getattr(torch, workload.dtype)
    configs: dict[str, str] = {}
    built = []
    for name in models:
        resolved = resolve_config(context.file.models[name], context.options.models_dir, context.scope)
        configs[name] = resolved.origin
        built.append(build_model(context.file.models[name], resolved.config, device=device, dtype=dtype))
    inputs = make_inputs(workload, context, models, device)
    vocab = min(vocab_size(context, m) for m in models)
    saved_threads = torch.get_num_threads()
    if workload.threads is not None:
        torch.set_num_threads(workload.threads)
    try:
        threads = torch.get_num_threads()
        polys = {name: flop_polynomial(model, device, vocab) for name, model in zip(models, built, strict=True)}
        tokenize = inputs.tokenize

        def call(k: int, i: int) -> Any:
            batch = inputs.batches[i]
            with torch.inference_mode():
                return built[k](**(tokenize(batch) if tokenize is not None else batch))

        pool = len(inputs.batches)
        order = [int(i) for i in rng(SEEDS["order"]).permutation(pool)]
        quick = min(pool, math.ceil(workload.quick_examples / workload.batch_size))
        floor = min(pool, QUICK_FLOOR_INPUTS)  # the stopping rule may stop early only after the floor
        rule = StoppingRule(
            min_inputs=max(quick, floor) if profile == "quick" else pool,
            relative_halfwidth=workload.target_halfwidth,
            budget_seconds=workload.budget_seconds[profile],
            floor_inputs=floor if profile == "quick" else pool,
        )
        timings = paired_run(models, call, order, rule, Timer(device), warmup_calls=workload.warmup_calls)
    finally:
        torch.set_num_threads(saved_threads)
    padded = np.asarray(inputs.padded, dtype=float)
    sizes = np.asarray(
        [min(workload.batch_size, len(inputs.lengths) - s) for s in range(0, len(inputs.lengths), workload.batch_size)],
        dtype=float,
    )
    flops = {name: sizes * (c0 + c1 * padded + c2 * padded**2) for name, (c0, c1, c2) in polys.items()}
    timed = timings.inputs
    timed_lengths = [
        inputs.lengths[j]
        for i in timed
        for j in range(i * workload.batch_size, min((i + 1) * workload.batch_size, len(inputs.lengths)))
    ]
    real = inputs.kind == "real"
    conditions: dict[str, Any] = {
        "device": device.split(":")[0],
        "cpu_model": cpu_model(),
        "cores": os.cpu_count() or 0,
        "torch_threads": threads,
        "batch_size": workload.batch_size,
        "dtype": workload.dtype,
        "examples": len(inputs.lengths),
        "timed_examples": len(timed_lengths),
        "workload": inputs.kind,
        "dataset": workload.dataset if real else f"synthetic lengths (stand-in for {workload.dataset or 'the data'})",
        "split": workload.split,
        "include_tokenization": bool(real and workload.include_tokenization),
        "seq_len_median": float(np.median(timed_lengths)),
        "seq_len_max": int(max(timed_lengths)),
        "torch": versions().get("torch") or torch.__version__,
        "transformers": versions().get("transformers") or transformers.__version__,
    }
    if device.startswith("cuda"):
        conditions["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return PairedRun(workload, timings, inputs, conditions, flops, configs, profile)


def paired(claim: Claim, context: Context) -> PairedRun:
    """The paired run of the claim's workload (run once per session, shared by its partner claims)."""
    assert claim.measure is not None
    if context.options.xdist_workers > 1:
        raise NotRunError(
            f"timing claims are not measured under pytest-xdist ({context.options.xdist_workers} workers compete for "
            "the same cores, and pytest-benchmark disables itself there)",
            "rerun them without workers: pytest -m claims -k speed -p no:xdist (or -n 0)",
        )
    name = claim.measure.params["workload"]
    workload = parse_workload(claim, name, context.file.workloads[name])
    device = _device(context.options)
    models = partner_models(claim, context)
    key = ("latency-paired-run", context.file.path, name, models, context.options.speed_profile, device)
    return context.cached(key, lambda: _run(context, workload, models, device))


# ---------------------------------------------------------------- the kind
