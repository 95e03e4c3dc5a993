"""The workload a speed claim is timed on: its declared table, the real or synthetic inputs, and their encoding."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from harness.core.errors import ClaimError, MeasurementError, NotRunError, did_you_mean
from harness.core.resample import MIN_INPUTS
from harness.core.stats import rng
from harness.measure.kinds import params as measure_params
from harness.measure.measurement import Context, Options
from harness.measure.model_checks import max_positions
from harness.ml.models import checkpoint_dir, resolve_config
from harness.spec import Claim, ClaimsFile

STATISTICS = ("full_pass_seconds", "per_example_seconds")
PROFILES = {"quick", "full"}
DTYPES = ("float32", "float16", "bfloat16")
#: lognormal: median, p95, min, max; fixed: length (every input the same, "128-token inputs");
#: empirical: lengths (a list of token counts, cycled in order: a length histogram the source printed)
SYNTHETIC_DISTRIBUTIONS = ("lognormal", "fixed", "empirical")
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
#: a quick run stopped by its budget or its precision still times at least this many inputs: below
#: resample.MIN_INPUTS the heavy-tailed coverage simulations under-cover (docs/statistics.md)
QUICK_FLOOR_INPUTS = MIN_INPUTS
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
            + " with its token counts (lognormal: median, p95, min, max; fixed: length; empirical: lengths)",
            lengths,
            'declare the token-length distribution of the source\'s data, e.g. {distribution = "lognormal", '
            'median = 27, p95 = 57, min = 12, max = 128, source = "..."}',
        )

    def token_count(key: str, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise error(f"synthetic_lengths.{key}", "a whole token count >= 1", value, f"write `{key} = <tokens>`")

    if lengths["distribution"] == "fixed":
        token_count("length", lengths.get("length"))
    elif lengths["distribution"] == "empirical":
        values = lengths.get("lengths")
        if not isinstance(values, list) or not values:
            raise error("synthetic_lengths.lengths", "a non-empty array of token counts", values, "list them")
        for value in values:
            token_count("lengths", value)
    else:
        for key in ("median", "p95", "min", "max"):
            value = lengths.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 1:
                raise error(f"synthetic_lengths.{key}", "a token count >= 1", value, f"add `{key} = <tokens>`")
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


def check_latency_claim(claim: Claim, declared: ClaimsFile) -> None:
    """At load: the statistic, the workload table, and its lengths against each timed model's positions."""
    measure_params.statistic(claim, "full_pass_seconds", STATISTICS)
    check_workload(claim, declared, ("model",))


def longest_synthetic(lengths: Mapping[str, Any]) -> tuple[str, int]:
    """The key of a (checked) ``synthetic_lengths`` table that bounds its inputs, and the longest token count."""
    if lengths["distribution"] == "fixed":
        return "synthetic_lengths.length", int(lengths["length"])
    if lengths["distribution"] == "empirical":
        return "synthetic_lengths.lengths", max(int(v) for v in lengths["lengths"])
    return "synthetic_lengths.max", int(lengths["max"])


def check_workload(claim: Claim, declared: ClaimsFile, model_keys: Sequence[str]) -> None:
    """At load: the claim's workload table, and its lengths against the positions of each model it times
    (``measure.<key>`` for each of ``model_keys``)."""
    assert claim.measure is not None
    params = claim.measure.params
    name = params["workload"]
    workload = parse_workload(claim, name, declared.workloads[name])
    for model_key in model_keys:
        spec = declared.models[params[model_key]]
        positions = max_positions(spec)
        if positions is None:
            continue
        for key, tokens in (longest_synthetic(workload.synthetic_lengths), ("max_length", workload.max_length)):
            if tokens > positions:
                raise ClaimError(
                    claim.path,
                    claim.id,
                    f"workloads.{name}.{key}",
                    f"at most the {positions} positions of [models.{spec.name}] (max_position_embeddings)",
                    repr(tokens),
                    f"lower {key} to {positions} or time a model with more positions",
                )


def synthetic_lengths(spec: Mapping[str, Any], n: int, seed: int = SEEDS["lengths"]) -> list[int]:
    """``n`` token lengths drawn from the declared distribution (seeded: the same lengths every run).

    Lognormal through its median and 95th percentile: mu = ln(median), sigma = ln(p95 / median) / 1.6449;
    rounded to whole tokens and clipped to [min, max]. Fixed: ``length`` every time. Empirical: the declared
    ``lengths`` in order, repeated until there are ``n``.
    """
    import numpy as np

    if spec["distribution"] == "fixed":
        return [int(spec["length"])] * n
    if spec["distribution"] == "empirical":
        values = [int(v) for v in spec["lengths"]]
        return [values[i % len(values)] for i in range(n)]

    mu = math.log(spec["median"])
    sigma = math.log(spec["p95"] / spec["median"]) / 1.6448536269514722
    draws = rng(seed).lognormal(mu, sigma, size=n)
    return [int(x) for x in np.clip(np.rint(draws), spec["min"], spec["max"])]


# ---------------------------------------------------------------- the data the source timed


def _texts(workload: Workload, options: Options) -> tuple[list[tuple[str, ...]] | None, str]:
    """The workload's texts (one tuple of ``text_fields`` per example) and where they came from, or None
    and why not (``harness.ml.data`` finds them: local GLUE-layout files or the datasets cache)."""
    from harness.ml import data

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
    found = checkpoint_dir(spec.hub_id, spec.name, context.options.models_dir, spec.revision, scope=context.scope)
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
    high = min(vocab_size(context, m) for m in models)
    low = 1000 if high > 2000 else 1  # skip the special and reserved ids at the start of a large vocabulary
    gen = rng(SEEDS["token_ids"])
    groups = [lengths[s : s + b] for s in range(0, len(lengths), b)]
    batches = [_encode([gen.integers(low, high, size=n).tolist() for n in g], device) for g in groups]
    origin = (
        f"synthetic token lengths from [workloads.{workload.name}].synthetic_lengths "
        f"({workload.synthetic_lengths.get('source', 'no source given')}); {why_synthetic}"
    )
    return Inputs("synthetic", origin, batches, lengths, [max(g) for g in groups])


def vocab_size(context: Context, model: str) -> int:
    config = resolve_config(context.file.models[model], context.options.models_dir, context.scope).config
    size = config.get("vocab_size")
    if not isinstance(size, int) or size < 2:
        raise MeasurementError(f"model {model!r}: its config has no usable vocab_size ({size!r})")
    return size


# ---------------------------------------------------------------- FLOPs and the machine's peak
