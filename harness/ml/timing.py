"""Timing calls in pairs: a synchronizing timer, the interleaved loop, its stopping rule, and the bridge
that files the timings with pytest-benchmark.

Why paired and interleaved: on a shared machine the load drifts over seconds. Timing model A for a
minute and then model B for a minute turns that drift into a bias of their ratio; alternating
A B A B ... on the same inputs exposes both to the same drift, and resampling the inputs with the same
bootstrap indices for both keeps that pairing in the ratio's interval.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import attrs

from harness.core import progress
from harness.core.stats import rng

if TYPE_CHECKING:
    import numpy as np

    from harness.core.resample import DriftCheck

#: seed of the studentized replicates drawn jointly for every model of a paired run
BOOTSTRAP_SEED = 2


class Timer:
    """Seconds of wall-clock time one call takes.

    On a CUDA device it synchronizes before starting the clock (nothing queued earlier is counted) and
    before stopping it (the kernels the call queued are counted, not only their launches).
    """

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.synchronizes = device.startswith("cuda")
        self._sync: Callable[[], None] = _no_sync
        if self.synchronizes:
            import torch

            target = torch.device(device)
            self._sync = lambda: torch.cuda.synchronize(target)

    def __call__(self, call: Callable[[], Any]) -> float:
        sync = self._sync
        sync()
        start = time.perf_counter()
        call()
        sync()
        return time.perf_counter() - start

    def overhead(self, calls: int = 2000) -> float:
        """Mean seconds the timer adds to a call: the time it reports for an empty call."""
        return sum(self(_no_sync) for _ in range(calls)) / calls


def _no_sync() -> None:
    return None


@attrs.frozen
class StoppingRule:
    """When a paired run has measured enough.

    ``min_inputs`` is the profile's sample (150 inputs for everyday runs, the whole pass for the paper's):
    once it is measured the run stops as soon as every ratio's 95% interval half-width is at most
    ``relative_halfwidth`` of the ratio, and goes on with more inputs (then more passes) while it is not.
    ``budget_seconds`` of wall-clock time in the timing loop stop it whatever the precision, but never
    before ``floor_inputs`` inputs: on a machine that other processes load, the budget keeps an everyday
    run short (with a smaller sample, which the result shows), while the paper's profile sets the floor to
    the whole pass. The result says which rule ended the run.
    """

    min_inputs: int
    relative_halfwidth: float = 0.01
    budget_seconds: float = 20.0
    floor_inputs: int = 0
    check_every: int = 10

    def reason(self, inputs: int, elapsed: float, halfwidth: float | None) -> str | None:
        """Why the run should stop now, or None to go on. ``halfwidth`` None: one model, no ratio."""
        if inputs < self.floor_inputs:
            return None
        if inputs >= self.min_inputs:
            if halfwidth is None:
                return "sample complete (one model: no ratio to make precise)"
            if halfwidth <= self.relative_halfwidth:
                return "precision"
        if elapsed >= self.budget_seconds:
            return "budget"
        return None


#: how every input is timed and how the ratio's interval is made (shown in each result)
ESTIMATOR = (
    "every input timed once per pass, each model alternately, no input re-timed or selected on its time "
    "(several passes: the per-input mean over passes); ratio of mean times with the studentized "
    "(delta-method, log-scale, t with n-1 dof) interval; latency replicates drawn jointly from that "
    "studentized distribution, so formulas over them (speed.a / speed.b) reproduce it"
)


@attrs.frozen(eq=False)
class PairedTimings:
    """What a paired run measured.

    ``per_input[k, j]`` is model k's mean seconds on the j-th distinct input timed (``inputs[j]``, an index
    into the caller's pool, in the order they were first timed); ``call_model``/``call_input``/``call_seconds``
    list every call in the order they ran. No call is dropped or re-timed.
    """

    models: tuple[str, ...]
    inputs: np.ndarray
    per_input: np.ndarray
    call_model: np.ndarray
    call_input: np.ndarray
    call_seconds: np.ndarray
    stopped: str
    measuring_seconds: float
    wall_seconds: float
    warmup_seconds: float
    timer_overhead_seconds: float
    load_average: tuple[float, float]
    rule: StoppingRule
    estimator: str = ESTIMATOR

    def seconds(self, k: int) -> np.ndarray:
        """Every timed call of model k, in seconds, in the order they ran."""
        return self.call_seconds[self.call_model == k]

    def mean_replicates(self, k: int) -> np.ndarray:
        """Replicates of model k's mean seconds per input, drawn jointly for all models from the studentized
        sampling distribution (``resample.studentized_replicates``; one model: a t around its mean)."""
        from harness.core.resample import studentized_replicates

        return studentized_replicates(self.per_input, rng=rng(BOOTSTRAP_SEED))[k]

    def ratio(self, a: int, b: int) -> tuple[float, tuple[float, float]]:
        """Mean time of model a over mean time of model b, with its studentized 95% interval."""
        from harness.core.resample import studentized_ratio_interval

        value, _, interval = studentized_ratio_interval(self.per_input[a], self.per_input[b])
        return value, interval

    def drift(self, a: int, b: int) -> DriftCheck:
        """Whether the ratio a/b changed while the inputs were timed (in the order they ran)."""
        from harness.core.resample import drift_check

        return drift_check(self.per_input[a], self.per_input[b])


def ratio_halfwidth(per_input: np.ndarray) -> float:
    """The largest studentized 95%-interval half-width, relative to the ratio, of every model over model 0."""
    from harness.core.resample import studentized_ratio_interval

    worst = 0.0
    for k in range(1, per_input.shape[0]):
        ratio, _, (lo, hi) = studentized_ratio_interval(per_input[k], per_input[0])
        worst = max(worst, (hi - lo) / 2.0 / ratio if ratio > 0 and math.isfinite(ratio) else math.inf)
    return worst


def paired_run(
    models: Sequence[str],
    call: Callable[[int, int], Any],
    order: Sequence[int],
    rule: StoppingRule,
    timer: Timer,
    warmup_calls: int = 3,
) -> PairedTimings:
    """Time ``call(k, i)`` (model k on pool input i) for every model, alternating models on each input.

    Inputs are taken in ``order`` (a permutation of the pool); once it is used up the run starts another
    pass over it and the per-input times become means over passes. Warm-up calls (interleaved too) run
    first and are not kept. The garbage collector is paused while timing, so that its pauses do not land
    on one model's calls.

    Every input is timed the same way: once per pass, every model, whatever its time. The old re-timing of
    outlying inputs (keeping each model's fastest attempt) selected on the value and biased the ratio and
    its interval (issue 11: coverage 0.71-0.81); interference is left in the data, where the studentized
    interval counts it, and a machine whose speed changes during the run is caught by the drift check.
    """
    import numpy as np

    if not models:
        raise ValueError("a paired run needs at least one model")
    if not order:
        raise ValueError("a paired run needs at least one input")
    k_models = len(models)
    rule = attrs.evolve(
        rule,
        min_inputs=min(rule.min_inputs, len(order)),
        floor_inputs=min(rule.floor_inputs, len(order)),
    )
    pool = int(max(order)) + 1
    sums = np.zeros((k_models, pool))
    counts = np.zeros(pool, dtype=int)
    first_seen: list[int] = []
    calls_k: list[int] = []
    calls_i: list[int] = []
    calls_s: list[float] = []
    overhead = timer.overhead()
    load_before = _load_average()

    start = time.perf_counter()
    for w in range(warmup_calls):
        for k in range(k_models):
            call(k, order[w % len(order)])
    if timer.synchronizes:
        timer(_no_sync)
    warmup_seconds = time.perf_counter() - start

    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    elapsed = 0.0
    stopped = ""
    loop_start = time.perf_counter()
    shown = contextlib.ExitStack()
    bar = shown.enter_context(progress.bar(rule.min_inputs, "timing " + " vs ".join(models), unit="input"))
    try:
        position = 0
        while not stopped:
            i = int(order[position % len(order)])
            times = [timer(functools.partial(call, k, i)) for k in range(k_models)]
            elapsed += sum(times)
            for k, seconds in enumerate(times):
                sums[k, i] += seconds
                calls_k.append(k)
                calls_i.append(i)
                calls_s.append(seconds)
            if counts[i] == 0:
                first_seen.append(i)
            counts[i] += 1
            position += 1
            measured = len(first_seen)
            due = measured >= max(rule.min_inputs, rule.floor_inputs, 3) and (
                position % rule.check_every == 0 or position == rule.min_inputs
            )
            halfwidth = None  # one model: no ratio
            if k_models > 1:
                halfwidth = math.inf  # not computed at this input: only the budget can stop the run
                if due:
                    seen = np.asarray(first_seen)
                    halfwidth = ratio_halfwidth(sums[:, seen] / counts[seen])
            stopped = rule.reason(measured, time.perf_counter() - loop_start, halfwidth) or ""
            bar.update(1)
            if due and halfwidth is not None and math.isfinite(halfwidth):
                bar.set_postfix_str(f"ratio +-{halfwidth:.1%}")
    finally:
        shown.close()
        if gc_was_enabled:
            gc.enable()

    seen = np.asarray(first_seen)
    return PairedTimings(
        models=tuple(models),
        inputs=seen,
        per_input=sums[:, seen] / counts[seen],
        call_model=np.asarray(calls_k),
        call_input=np.asarray(calls_i),
        call_seconds=np.asarray(calls_s),
        stopped=stopped,
        measuring_seconds=elapsed,
        wall_seconds=time.perf_counter() - loop_start,
        warmup_seconds=warmup_seconds,
        timer_overhead_seconds=overhead,
        load_average=(load_before, _load_average()),
        rule=rule,
    )


def _load_average() -> float:
    """The 1-minute load average (NaN where the OS has none): other processes' demand for the cores."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


class BenchmarkRecorder:
    """Files per-call timings with pytest-benchmark, as if a ``benchmark`` fixture had taken them.

    Claim items are not test functions and cannot use the fixture, so the recorder builds the same
    ``BenchmarkFixture`` the fixture would (from the session's options) and adds one stats record to the
    session's list: pytest-benchmark then prints, saves (``--benchmark-autosave``, ``--benchmark-save``)
    and writes (``--benchmark-json``) it with its own code, and ``pytest-benchmark compare`` reads it.
    """

    def __init__(self, config: Any) -> None:
        self._config = config
        self._recorded: set[str] = set()

    def record(
        self, fullname: str, name: str, group: str, seconds: Sequence[float], extra_info: Mapping[str, Any]
    ) -> str:
        """Add one record; returns a line saying where it went, or why it was not recorded."""
        bs = getattr(self._config, "_benchmarksession", None)
        if bs is None:
            return "not recorded: pytest-benchmark is not active (was it disabled with -p no:benchmark?)"
        if bs.disabled:
            return (
                "not recorded: pytest-benchmark is disabled in this run (--benchmark-disable, or pytest-xdist "
                "workers, under which it turns itself off)"
            )
        if fullname in self._recorded:
            return f"recorded in pytest-benchmark as {fullname}"
        try:
            from pytest_benchmark.fixture import BenchmarkFixture

            fixture = BenchmarkFixture(
                SimpleNamespace(name=name, nodeid=fullname, _nodeid=fullname),  # 5.2 reads _nodeid, 5.3 nodeid
                add_stats=bs.benchmarks.append,
                logger=bs.logger,
                warner=lambda *args, **kwargs: None,
                disabled=False,
                group=group,
                **bs.options,
            )
            fixture.extra_info.update(extra_info)
            stats = fixture._make_stats(1)
            for value in seconds:
                stats.update(float(value))
        except (ImportError, TypeError, AttributeError) as exc:
            return f"not recorded: this pytest-benchmark's internals differ from what the harness expects ({exc!r})"
        self._recorded.add(fullname)
        return f"recorded in pytest-benchmark as {fullname}"
