"""What a measurement produces, and the context measurements run in.

A ``Measurement`` is a value with its unit, an optional 95% interval and bootstrap replicates, the
conditions it was measured under and the evidence it rests on (which checkpoint, which data, tiny or
real). The ``Context`` memoizes measurements for one session, so that a paired timing run or a
fine-tuned model serves every claim that needs it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from harness.core.errors import MeasurementError, NotRunError
from harness.spec import Claim, ClaimsFile, Scalar
from harness.spec.units import convert, from_base, to_base

if TYPE_CHECKING:
    import numpy as np

    from harness.verdict.budget import Budget

T = TypeVar("T")


@attrs.frozen(eq=False)
class Measurement:
    """A measured value in ``unit``; ``replicates`` are bootstrap replicates in the same unit.

    ``budget`` lists the uncertainty components behind ``interval`` (harness.verdict.budget.Budget).
    ``at_best_inconclusive``: why this evidence cannot show REPRODUCED (e.g. one seed, no declared seed SD);
    ``inconclusive``: why it can show nothing (e.g. the machine drifted during a timing run).
    """

    value: float
    unit: str
    interval: tuple[float, float] | None = None
    replicates: np.ndarray | None = None
    conditions: Mapping[str, Scalar] = attrs.field(factory=dict)
    evidence: Mapping[str, Any] = attrs.field(factory=dict)
    details: Mapping[str, Any] = attrs.field(factory=dict)
    budget: Budget | None = None
    at_best_inconclusive: str | None = None
    inconclusive: str | None = None

    def __attrs_post_init__(self) -> None:
        """``lo <= value <= hi``: an inverted interval, or a point outside its own interval, is no measurement."""
        from harness.core.errors import MeasurementError
        from harness.verdict.bands import InvalidInterval, check_interval

        try:
            check_interval(self.value, self.interval)
        except InvalidInterval as exc:
            raise MeasurementError(
                f"{exc}: a measurement's interval must contain its value (lo <= value <= hi); "
                "the measurement kind that produced it is wrong"
            ) from None

    def in_unit(self, unit: str) -> Measurement:
        """The same measurement expressed in another unit of the same dimension."""
        if unit == self.unit:
            return self
        factor = convert(1.0, self.unit, unit)
        return attrs.evolve(
            self,
            value=self.value * factor,
            unit=unit,
            interval=None if self.interval is None else (self.interval[0] * factor, self.interval[1] * factor),
            replicates=None if self.replicates is None else self.replicates * factor,
            budget=None if self.budget is None else self.budget.scaled(factor),
        )

    @property
    def smoke(self) -> bool:
        """True when the evidence is a tiny stand-in model: proof of the machinery, not of the paper."""
        return bool(self.evidence.get("smoke", False))

    @property
    def synthetic(self) -> bool:
        """True when the inputs were synthetic (e.g. token lengths drawn from a declared distribution)."""
        return bool(self.evidence.get("synthetic", False)) or self.conditions.get("workload") == "synthetic"


@attrs.frozen
class Options:
    """The session's measurement options (from pytest options and environment variables)."""

    models_dir: Path | None = None
    data_dir: Path | None = None
    cache_dir: Path = Path(".claims-cache")
    device: str = "cpu"
    speed_profile: str = "quick"
    xdist_workers: int = 0
    data_source: str = "auto"  # task data: auto | local | hub (harness.ml.data)
    task_evidence: str = "auto"  # task scores: auto | published | finetune (harness.measure.kinds.task_score)
    #: the lock file (``--claims-lock``); None: ``claims.lock.json`` next to each claims file
    #: (harness.measure.provenance)
    lock_path: Path | None = None
    #: the directory relative claims file paths are relative to (pytest's rootdir)
    root: Path | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


class Context:
    """Measures claims of one file for one session, each at most once."""

    def __init__(self, claims_file: ClaimsFile, options: Options, shared: dict[Any, Any] | None = None) -> None:
        self.file = claims_file
        self.options = options
        use_hub_aliases(claims_file)
        self._shared = shared if shared is not None else {}
        self._done: dict[str, Measurement | NotRunError] = {}
        self._others: dict[str, Context] = {}  # the contexts of referenced files (harness.spec.references)

    @property
    def scope(self) -> str:
        """The claims file's stem: model look-ups in ``--claims-models-dir`` try ``<dir>/<scope>/<model>/`` first."""
        return Path(self.file.path).stem

    def cached(self, key: Any, compute: Callable[[], T]) -> T:
        """Compute once per session (shared across files): paired timing runs, loaded models."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]  # type: ignore[no-any-return]

    def measure(self, claim: Claim) -> Measurement:
        """The claim's measurement, in the claim's unit; raises ``NotRunError`` when it cannot run here. A claim
        of another file (a cross-file reference, ``stem::id``) is measured by that file's own context."""
        foreign = next((n for n, c in self.file.references.items() if c is claim), None)
        if foreign is not None:
            stem, _, claim_id = foreign.partition("::")
            if stem not in self._others:
                self._others[stem] = Context(self.file.referenced_files[stem], self.options, self._shared)
            other = self._others[stem]
            return other.measure(other.file.claim(claim_id)).in_unit(claim.unit)
        if claim.id not in self._done:
            try:
                self._done[claim.id] = self._measure(claim).in_unit(claim.unit)
            except NotRunError as exc:
                self._done[claim.id] = exc
        done = self._done[claim.id]
        if isinstance(done, NotRunError):
            raise done
        return done

    def _measure(self, claim: Claim) -> Measurement:
        from harness.spec.kinds import KINDS

        if claim.measure is not None:
            return KINDS[claim.measure.kind].function(claim, self)
        assert claim.formula is not None
        return self._measure_formula(claim)

    def _measure_formula(self, claim: Claim) -> Measurement:
        """Evaluate the claim's formula on measured components, replicate by replicate."""
        import numpy as np

        assert claim.formula is not None
        parts: dict[str, Measurement] = {}
        missing: dict[str, NotRunError] = {}
        for name in claim.formula.names:
            try:
                parts[name] = self.measure(self.file.claim(name))
            except NotRunError as exc:
                missing[name] = exc
        if missing:
            remedies = list(dict.fromkeys(e.remedy for e in missing.values()))
            needs = {k: v for e in missing.values() for k, v in e.needs.items()}
            # a component without itemised needs still blocks the claim: keep it, so no list of resources
            # promises that checkpoints and data alone would run this claim
            needs.update({f"other {n}": e.remedy for n, e in missing.items() if not e.needs})
            if len(remedies) <= 2:
                reasons = "; ".join(dict.fromkeys(e.reason for e in missing.values()))
                raise NotRunError(f"its components cannot be measured here ({reasons})", "; ".join(remedies), needs)
            # many components, each with its own remedy: name them rather than repeat every remedy
            raise NotRunError(
                f"{len(missing)} of its {len(claim.formula.names)} components cannot be measured here "
                f"({', '.join(missing)})",
                "supply what each component's own NOT_RUN remedy asks for (shown with each of them in this run), "
                f"then rerun this claim; the first one: {remedies[0]}",
                needs,
            )
        base = {n: to_base(m.value, m.unit) for n, m in parts.items()}
        formula_error = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            try:
                value = float(claim.formula.evaluate(base))
            except ZeroDivisionError:
                value = math.nan
            if not math.isfinite(value):
                zeros = [n for n, v in base.items() if v == 0]
                formula_error = f"{claim.formula.text} gives {value}" + (
                    f": a division by {', '.join(zeros)}, measured as 0" if zeros else ""
                )
            interval, replicates, method = _propagate(claim, parts, base)
        value = from_base(value, claim.unit)
        if interval is not None and math.isfinite(value) and not interval[0] <= value <= interval[1]:
            raise MeasurementError(
                f"{claim.id}: {claim.formula.text} over the measured components gives {value:.6g}, outside the "
                f"interval [{interval[0]:.6g}, {interval[1]:.6g}] its components' uncertainty gives ({method}); "
                "the formula is too non-linear for this propagation: measure the claim directly"
            )
        conditions, varying = _common_conditions(parts)
        budget = None
        if replicates is not None and np.isfinite(replicates).all():
            from harness.verdict.budget import Budget

            budget = Budget.propagated(
                replicates,
                f"the formula over its components' replicates ({', '.join(parts)})",
                seed_component_missing=any(m.budget is not None and not m.budget.can_reproduce for m in parts.values()),
            )
        return Measurement(
            value=value,
            unit=claim.unit,
            interval=interval,
            replicates=replicates,
            conditions=conditions,
            evidence={
                "path": "formula over measured components",
                "smoke": any(m.smoke for m in parts.values()),
                "synthetic": any(m.synthetic for m in parts.values()),
                "components": {n: dict(m.evidence) for n, m in parts.items()},
            },
            details={
                "components": {n: m.value for n, m in parts.items()},
                **({"formula_error": formula_error} if formula_error else {}),
                "component_conditions": {n: dict(m.conditions) for n, m in parts.items()},
                "varying_conditions": varying,
                "interval_method": method,
            },
            budget=budget,
            at_best_inconclusive=_joined(parts, "at_best_inconclusive"),
            inconclusive=_joined(parts, "inconclusive"),
        )


def _joined(parts: Mapping[str, Measurement], field: str) -> str | None:
    """The components' reasons of one kind, each named once (None when no component has one)."""
    reasons = {getattr(m, field) for m in parts.values()} - {None}
    return "; ".join(f"{n}: {getattr(m, field)}" for n, m in parts.items() if getattr(m, field)) if reasons else None


def _propagate(
    claim: Claim, parts: Mapping[str, Measurement], base: Mapping[str, float]
) -> tuple[tuple[float, float] | None, np.ndarray | None, str]:
    """The formula's interval from its components' uncertainty: replicate by replicate when every component
    with an interval has replicates (paired bootstrap), else interval arithmetic over the components'
    intervals (a conservative bound, wider than a 95% interval); never silently without it."""
    import numpy as np

    from harness.core.stats import percentile_interval
    from harness.spec.formula import Interval

    assert claim.formula is not None
    uncertain = [n for n, m in parts.items() if m.interval is not None or m.replicates is not None]
    if not uncertain:
        return None, None, "none: no component has an interval"
    if all(parts[n].replicates is not None for n in uncertain):
        reps = {n: to_base(m.replicates, m.unit) if m.replicates is not None else base[n] for n, m in parts.items()}
        replicates = from_base(np.asarray(claim.formula.evaluate(reps), dtype=float), claim.unit)
        return percentile_interval(replicates), replicates, "bootstrap replicates through the formula (paired)"
    spans = {
        n: Interval(to_base(m.interval[0], m.unit), to_base(m.interval[1], m.unit)) if m.interval else base[n]
        for n, m in parts.items()
    }
    reach = claim.formula.evaluate(spans)
    if not isinstance(reach, Interval):
        reach = Interval(float(reach), float(reach))
    without = [n for n in uncertain if parts[n].replicates is None]
    method = (
        "interval arithmetic over the components' intervals (conservative: wider than a 95% interval), "
        f"because {', '.join(without)} carry an interval without replicates"
    )
    return (from_base(reach.lo, claim.unit), from_base(reach.hi, claim.unit)), None, method


def _common_conditions(parts: Mapping[str, Measurement]) -> tuple[dict[str, Scalar], list[str]]:
    """The conditions every component shares, and the keys on which they differ (never merged into one
    string: "cpu | cuda" would read as "cpu"); each component's own are in ``details``."""
    keys = dict.fromkeys(k for m in parts.values() for k in m.conditions)
    common: dict[str, Scalar] = {}
    varying: list[str] = []
    for key in keys:
        values = [m.conditions.get(key) for m in parts.values()]
        if all(v is not None and v == values[0] for v in values):
            common[key] = values[0]  # type: ignore[assignment]
        else:
            varying.append(key)
    for m in parts.values():  # a component that is itself a formula passes its own variation up
        for key in m.details.get("varying_conditions", ()):
            if key not in varying:
                varying.append(key)
                common.pop(key, None)
    return common, varying


def env_path(name: str) -> Path | None:
    """A path from an environment variable, or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def use_hub_aliases(claims_file: ClaimsFile) -> None:
    """Make the file's ``[hub_aliases]`` known to every hub look-up (old and new ids of a moved repository)."""
    from harness.ml.hub import add_alias

    for old, new in claims_file.hub_aliases.items():
        add_alias(old, new)
