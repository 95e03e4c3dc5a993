"""Speed claims: how long models take on a declared workload, timed in pairs.

The ``latency`` kind times every model that has a latency claim on the same workload in ONE paired,
interleaved run (``harness.timing``), which those claims share through ``context.cached``. Each claim's
measurement carries bootstrap replicates drawn with the run's shared indices, so that a ratio formula over
two of them (``speed.a / speed.b``) gets the paired interval. Latency does not depend on trained weights:
models are built from their configurations with random weights.

The workload is the source's data when ``harness.data`` finds it on this machine (a GLUE-layout ``dev.tsv``
under ``--claims-data-dir``, or the datasets cache) and a tokenizer for it is found; otherwise a synthetic
workload whose token lengths the claims file declares. The measurement says which it ran on.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from harness.claims import Claim
from harness.environment import cpu_model, versions
from harness.errors import ClaimError, MeasurementError, NotRunError, did_you_mean
from harness.measurement import Context, Measurement, Options
from harness.measures import register
from harness.models import build_model, checkpoint_dir, resolve_config
from harness.stats import percentile_interval, rng
from harness.timing import PairedTimings, StoppingRule, Timer, paired_run

STATISTICS = ("full_pass_seconds", "per_example_seconds")
PROFILES = {"quick", "full"}
DTYPES = ("float32", "float16", "bfloat16")
SYNTHETIC_DISTRIBUTIONS = ("lognormal",)
#: keys of a [workloads.<name>] table and whether the latency kind requires them
WORKLOAD_KEYS = {
    "description": False,
    "dataset": False,
    "split": False,
    "examples": True,
    "batch_size": True,
    "device": False,
    "text_fields": False,
    "max_length": False,
    "padding": False,
    "include_tokenization": False,
    "unclear": False,
    "synthetic_lengths": True,
    "dtype": False,
    "threads": False,
    "tokenizer": False,
    "quick_examples": False,
    "warmup_calls": False,
    "target_halfwidth": False,
    "budget_seconds": False,
}
DEFAULT_QUICK_EXAMPLES = 150
DEFAULT_BUDGET_SECONDS = {"quick": 20.0, "full": 600.0}
DEFAULT_TARGET_HALFWIDTH = 0.01
DEFAULT_WARMUP_CALLS = 5
#: a quick run stopped by its budget still times at least this many inputs
QUICK_FLOOR_INPUTS = 30
#: sequence lengths at which FLOPs are counted; FLOPs of an encoder are a quadratic in the length
FLOP_PROBE_LENGTHS = (8, 16, 32)
SEEDS = {"lengths": 0, "order": 1, "token_ids": 3}


@attrs.frozen
class Workload:
    """What the source timed: data, batch size, device, dtype and threads, as the claims file declares it."""

    name: str
    examples: int
    batch_size: int
    synthetic_lengths: Mapping[str, Any]
    dataset: str | None = None
    split: str = "validation"
    text_fields: tuple[str, ...] = ()
    max_length: int = 512
    include_tokenization: bool = False
    dtype: str = "float32"
    threads: int | None = None
    tokenizer: str | None = None
    quick_examples: int = DEFAULT_QUICK_EXAMPLES
    warmup_calls: int = DEFAULT_WARMUP_CALLS
    target_halfwidth: float = DEFAULT_TARGET_HALFWIDTH
    budget_seconds: Mapping[str, float] = attrs.field(factory=lambda: dict(DEFAULT_BUDGET_SECONDS))

    @property
    def batches(self) -> int:
        """Calls in one pass over the examples."""
        return math.ceil(self.examples / self.batch_size)


def parse_workload(claim: Claim, name: str, table: Mapping[str, Any]) -> Workload:
    """The workload table, checked: a malformed one is a ``ClaimError`` naming the key and the fix."""

    def error(key: str, expected: str, found: Any, fix: str) -> ClaimError:
        return ClaimError(claim.path, claim.id, f"workloads.{name}.{key}", expected, repr(found), fix)

    for key in table:
        if key not in WORKLOAD_KEYS:
            raise error(
                key,
                "a known workload key (" + ", ".join(WORKLOAD_KEYS) + ")",
                key,
                "remove it or correct its name." + did_you_mean(key, WORKLOAD_KEYS),
            )
    for key, required in WORKLOAD_KEYS.items():
        if required and key not in table:
            raise error(
                key, f"the {key!r} key the latency kind needs", None, f"add `{key} = ...` to [workloads.{name}]"
            )

    def positive_int(key: str, default: int | None) -> int | None:
        value = table.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise error(key, "a whole number >= 1", value, f"write e.g. `{key} = 1`")
        return value

    lengths = table["synthetic_lengths"]
    if not isinstance(lengths, dict) or lengths.get("distribution") not in SYNTHETIC_DISTRIBUTIONS:
        raise error(
            "synthetic_lengths",
            "a table with distribution = "
            + " | ".join(SYNTHETIC_DISTRIBUTIONS)
            + ", median, p95, min, max (token counts)",
            lengths,
            'declare the token-length distribution of the source\'s data, e.g. {distribution = "lognormal", '
            'median = 27, p95 = 57, min = 12, max = 128, source = "..."}',
        )
    for key in ("median", "p95", "min", "max"):
        if not isinstance(lengths.get(key), (int, float)) or isinstance(lengths.get(key), bool) or lengths[key] < 1:
            raise error(f"synthetic_lengths.{key}", "a token count >= 1", lengths.get(key), f"add `{key} = <tokens>`")
    if not lengths["min"] <= lengths["median"] < lengths["p95"] <= lengths["max"]:
        raise error("synthetic_lengths", "min <= median < p95 <= max", lengths, "correct the lengths")
    dtype = table.get("dtype", "float32")
    if dtype not in DTYPES:
        raise error("dtype", "one of " + ", ".join(DTYPES), dtype, "use one of those")
    budget = {**DEFAULT_BUDGET_SECONDS, **table.get("budget_seconds", {})}
    if set(budget) != PROFILES or not all(isinstance(v, (int, float)) and v > 0 for v in budget.values()):
        raise error(
            "budget_seconds",
            "a table {quick = <seconds>, full = <seconds>}",
            table.get("budget_seconds"),
            "give each profile a positive time budget in seconds",
        )
    halfwidth = table.get("target_halfwidth", DEFAULT_TARGET_HALFWIDTH)
    if not isinstance(halfwidth, float) or not 0 < halfwidth < 1:
        raise error("target_halfwidth", "a fraction of the ratio, e.g. 0.01", halfwidth, "write 1% as 0.01")
    padding = table.get("padding", "none" if table["batch_size"] == 1 else "longest")
    if padding not in ("none", "longest") or (padding == "none" and table["batch_size"] != 1):
        raise error(
            "padding",
            '"none" (batch size 1) or "longest" (pad each batch to its longest input)',
            padding,
            'use padding = "longest" for batches of more than one input',
        )
    return Workload(
        name=name,
        examples=positive_int("examples", None) or 0,
        batch_size=positive_int("batch_size", None) or 0,
        synthetic_lengths=dict(lengths),
        dataset=table.get("dataset"),
        split=table.get("split", "validation"),
        text_fields=tuple(table.get("text_fields", ())),
        max_length=positive_int("max_length", 512) or 512,
        include_tokenization=bool(table.get("include_tokenization", False)),
        dtype=dtype,
        threads=positive_int("threads", None),
        tokenizer=table.get("tokenizer"),
        quick_examples=positive_int("quick_examples", DEFAULT_QUICK_EXAMPLES) or DEFAULT_QUICK_EXAMPLES,
        warmup_calls=positive_int("warmup_calls", DEFAULT_WARMUP_CALLS) or DEFAULT_WARMUP_CALLS,
        target_halfwidth=float(halfwidth),
        budget_seconds={k: float(v) for k, v in budget.items()},
    )


def synthetic_lengths(spec: Mapping[str, Any], n: int, seed: int = SEEDS["lengths"]) -> list[int]:
    """``n`` token lengths drawn from the declared distribution (seeded: the same lengths every run).

    Lognormal through its median and 95th percentile: mu = ln(median), sigma = ln(p95 / median) / 1.6449;
    rounded to whole tokens and clipped to [min, max].
    """
    import numpy as np

    mu = math.log(spec["median"])
    sigma = math.log(spec["p95"] / spec["median"]) / 1.6448536269514722
    draws = rng(seed).lognormal(mu, sigma, size=n)
    return [int(x) for x in np.clip(np.rint(draws), spec["min"], spec["max"])]


# ---------------------------------------------------------------- the data the source timed


def _texts(workload: Workload, options: Options) -> tuple[list[tuple[str, ...]] | None, str]:
    """The workload's texts (one tuple of ``text_fields`` per example) and where they came from, or None
    and why not (``harness.data`` finds them: local GLUE-layout files or the datasets cache)."""
    from harness import data

    if not workload.dataset or not workload.text_fields:
        return None, "the workload names no dataset and text fields"
    t = data.task(workload.dataset)
    if workload.split not in ("train", t.eval_split):
        raise MeasurementError(
            f"workload {workload.name!r}: split {workload.split!r} of {t.name} has no reader; "
            f"use 'train' or {t.eval_split!r}"
        )
    try:
        found = data.load(t, "train" if workload.split == "train" else "eval", options)
    except NotRunError as exc:
        return None, f"{exc.reason} (to time the real data: {exc.remedy})"
    except ImportError as exc:  # the datasets package is an optional extra on some machines
        return None, f"the data cannot be read here ({exc})"
    missing = [f for f in workload.text_fields if f not in found.dataset.column_names]
    if missing:
        raise MeasurementError(
            f"workload {workload.name!r}: {found.origin} has no column(s) {missing}; "
            f"its columns are {found.dataset.column_names}"
        )
    return list(zip(*(found.dataset[f] for f in workload.text_fields), strict=True)), found.origin


def _tokenizer(context: Context, model_name: str) -> tuple[Any | None, str]:
    """The named model's tokenizer from its local checkpoint (never downloaded), or why there is none."""
    spec = context.file.models[model_name]
    found = checkpoint_dir(spec.hub_id, spec.name, context.options.models_dir)
    if found is None:
        return None, f"no checkpoint of {spec.hub_id} (for its tokenizer) in --claims-models-dir or the HF cache"
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(found)), f"tokenizer of {spec.hub_id} at {found}"
    except (OSError, ValueError) as exc:
        return None, f"the tokenizer of {spec.hub_id} at {found} cannot be loaded ({exc})"


@attrs.frozen(eq=False)
class Inputs:
    """A workload made concrete: one entry per timed call (a batch), and each example's token count."""

    kind: str  # "real" | "synthetic"
    origin: str
    batches: list[Any]  # each: model inputs (dict of tensors) or, with tokenization timed, the texts
    lengths: list[int]  # per example
    padded: list[int]  # per batch: the sequence length the models compute on
    tokenize: Callable[[Any], dict[str, Any]] | None = None


def _encode(ids_rows: Sequence[Sequence[int]], device: str) -> dict[str, Any]:
    import torch

    width = max(len(r) for r in ids_rows)
    ids = torch.zeros((len(ids_rows), width), dtype=torch.long)
    mask = torch.zeros((len(ids_rows), width), dtype=torch.long)
    for j, row in enumerate(ids_rows):
        ids[j, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[j, : len(row)] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device)}


def make_inputs(workload: Workload, context: Context, models: Sequence[str], device: str) -> Inputs:
    """The real workload when its data and a tokenizer are here, else the declared synthetic one."""
    b = workload.batch_size
    texts, data_origin = _texts(workload, context.options)
    why_synthetic = f"data: {data_origin}"
    if texts is not None:
        tokenizer, tok_origin = _tokenizer(context, workload.tokenizer or models[0])
        if tokenizer is not None:
            encoded = [tokenizer(*t, truncation=True, max_length=workload.max_length)["input_ids"] for t in texts]
            groups = [list(range(s, min(s + b, len(texts)))) for s in range(0, len(texts), b)]
            padded = [max(len(encoded[j]) for j in g) for g in groups]

            def tokenize(batch: Any) -> dict[str, Any]:
                enc = tokenizer(
                    *zip(*batch, strict=True),
                    truncation=True,
                    max_length=workload.max_length,
                    padding="longest",
                    return_tensors="pt",
                )
                return {"input_ids": enc["input_ids"].to(device), "attention_mask": enc["attention_mask"].to(device)}

            if workload.include_tokenization:
                batches: list[Any] = [[texts[j] for j in g] for g in groups]
                return Inputs(
                    "real", f"{data_origin}; {tok_origin}", batches, [len(e) for e in encoded], padded, tokenize
                )
            batches = [_encode([encoded[j] for j in g], device) for g in groups]
            return Inputs("real", f"{data_origin}; {tok_origin}", batches, [len(e) for e in encoded], padded)
        why_synthetic = f"data found ({data_origin}) but {tok_origin}"
    lengths = synthetic_lengths(workload.synthetic_lengths, workload.examples)
    high = min(_vocab_size(context, m) for m in models)
    low = 1000 if high > 2000 else 1  # skip the special and reserved ids at the start of a large vocabulary
    gen = rng(SEEDS["token_ids"])
    groups = [lengths[s : s + b] for s in range(0, len(lengths), b)]
    batches = [_encode([gen.integers(low, high, size=n).tolist() for n in g], device) for g in groups]
    origin = (
        f"synthetic token lengths from [workloads.{workload.name}].synthetic_lengths "
        f"({workload.synthetic_lengths.get('source', 'no source given')}); {why_synthetic}"
    )
    return Inputs("synthetic", origin, batches, lengths, [max(g) for g in groups])


def _vocab_size(context: Context, model: str) -> int:
    config = resolve_config(context.file.models[model], context.options.models_dir).config
    size = config.get("vocab_size")
    if not isinstance(size, int) or size < 2:
        raise MeasurementError(f"model {model!r}: its config has no usable vocab_size ({size!r})")
    return size


# ---------------------------------------------------------------- FLOPs and the machine's peak


def flop_polynomial(model: Any, device: str, vocab: int) -> tuple[float, float, float]:
    """(c0, c1, c2) with FLOPs(one sequence of length L) = c0 + c1*L + c2*L**2, counted by torch's
    FlopCounterMode (matrix products and attention kernels) at three lengths: an encoder's count is exactly
    quadratic in L, so three points determine it. Element-wise work (softmax, GELU, layer norm) is not
    counted, as usual for FLOP counts."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counts = []
    for length in FLOP_PROBE_LENGTHS:
        ids = torch.randint(1, vocab, (1, length), device=device)
        counter = FlopCounterMode(display=False, custom_mapping=_attention_flop_formulas())
        with counter, torch.inference_mode():
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
        counts.append(float(counter.get_total_flops()))
    lengths = np.asarray(FLOP_PROBE_LENGTHS, dtype=float)
    coeffs = np.linalg.solve(np.vander(lengths, 3, increasing=True), np.asarray(counts))
    return float(coeffs[0]), float(coeffs[1]), float(coeffs[2])


def _attention_flop_formulas() -> dict[Any, Any]:
    """FLOP formulas for attention kernels torch's counter does not know (the CPU flash kernel): the same
    count as for the GPU kernels, 4 x batch x heads x L_q x L_k x head dim."""
    import torch
    from torch.utils.flop_counter import sdpa_flop_count

    def sdpa(
        query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, out_shape: Any = None, **kwargs: Any
    ) -> int:
        return int(sdpa_flop_count(query_shape, key_shape, value_shape))

    ops = ("_scaled_dot_product_flash_attention_for_cpu",)
    return {getattr(torch.ops.aten, op): sdpa for op in ops if hasattr(torch.ops.aten, op)}


def cpu_peak_flops(threads: int) -> tuple[float | None, str]:
    """An estimate of the CPU's fp32 peak FLOP/s for ``threads`` cores, and how it was estimated.

    cores x nominal clock x FLOPs per cycle per core: 64 with AVX-512 (2 FMA units x 16 lanes x 2 assumed;
    some CPUs have one unit), 32 with AVX2+FMA, 16 with AVX, 8 otherwise. Turbo and AVX frequency offsets
    are ignored: the estimate is a sanity bound, not a specification.
    """
    name = cpu_model()
    flags: set[str] = set()
    mhz: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "flags" and not flags:
                flags = set(value.split())
            elif key.strip() == "cpu MHz" and mhz is None:
                mhz = float(value)
    except (OSError, ValueError):
        pass
    match = re.search(r"@\s*([0-9.]+)\s*GHz", name)
    ghz = float(match.group(1)) if match else (mhz / 1000.0 if mhz else None)
    if ghz is None:
        return None, "no estimate: the CPU's clock is not known (no '@ x GHz' in its name, no cpu MHz)"
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512, 2 FMA units x 16 fp32 lanes x 2 assumed"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, isa = 32, "AVX2 + FMA, 2 FMA units x 8 lanes x 2 assumed"
    elif "avx" in flags:
        per_cycle, isa = 16, "AVX, 8 lanes x (mul + add)"
    else:
        per_cycle, isa = 8, "SSE or unknown vector unit: 4 lanes x (mul + add)"
    cores = min(threads, os.cpu_count() or threads)
    peak = cores * ghz * 1e9 * per_cycle
    return peak, f"{cores} cores x {ghz:g} GHz (nominal) x {per_cycle} fp32 FLOP/cycle ({isa}); turbo ignored"


# ---------------------------------------------------------------- the paired run


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


def partner_models(claim: Claim, context: Context) -> tuple[str, ...]:
    """The models of every latency claim in this file on the claim's workload, in file order."""
    assert claim.measure is not None
    workload = claim.measure.params["workload"]
    names = [
        c.measure.params["model"]
        for c in context.file.claims
        if c.measure is not None and c.measure.kind == "latency" and c.measure.params.get("workload") == workload
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
        resolved = resolve_config(context.file.models[name], context.options.models_dir)
        configs[name] = resolved.origin
        built.append(build_model(context.file.models[name], resolved.config, device=device, dtype=dtype))
    inputs = make_inputs(workload, context, models, device)
    vocab = min(_vocab_size(context, m) for m in models)
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
        rule = StoppingRule(
            min_inputs=quick if profile == "quick" else pool,
            relative_halfwidth=workload.target_halfwidth,
            budget_seconds=workload.budget_seconds[profile],
            floor_inputs=min(quick, QUICK_FLOOR_INPUTS) if profile == "quick" else pool,
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
            ratios[f"{name}/{other}"] = {"value": value, "interval": [lo, hi]}
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
            "retimed_inputs": t.retimed_inputs,
            "retime_policy": t.retime_policy,
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


@register("latency", required=("model", "workload"), optional=("statistic",), markers=("speed",))
def latency(claim: Claim, context: Context) -> Measurement:
    """Seconds the model takes on the workload: a full pass (mean per call x calls per pass), or per example."""
    assert claim.measure is not None
    statistic = claim.measure.params.get("statistic", "full_pass_seconds")
    if statistic not in STATISTICS:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure.statistic",
            "one of " + ", ".join(STATISTICS),
            repr(statistic),
            "use one of those." + did_you_mean(str(statistic), STATISTICS),
        )
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
    evidence = {
        "path": f"paired interleaved timing of random-weight models ({run.profile} profile: {what})",
        "smoke": False,
        "workload": run.inputs.kind,
        "data": run.inputs.origin,
        "config": run.configs[model],
        "profile": run.profile,
    }
    return Measurement(
        value=value,
        unit="seconds",
        interval=percentile_interval(replicates),
        replicates=replicates,
        conditions=dict(run.conditions),
        evidence=evidence,
        details=details,
    )
