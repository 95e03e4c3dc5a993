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

from harness.core.errors import NotRunError
from harness.spec import Claim, ClaimsFile, Scalar
from harness.spec.units import convert, from_base, to_base

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")


@attrs.frozen(eq=False)
class Measurement:
    """A measured value in ``unit``; ``replicates`` are bootstrap replicates in the same unit."""

    value: float
    unit: str
    interval: tuple[float, float] | None = None
    replicates: np.ndarray | None = None
    conditions: Mapping[str, Scalar] = attrs.field(factory=dict)
    evidence: Mapping[str, Any] = attrs.field(factory=dict)
    details: Mapping[str, Any] = attrs.field(factory=dict)

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
        )

    @property
    def smoke(self) -> bool:
        """True when the evidence is a tiny stand-in model: proof of the machinery, not of the paper."""
        return bool(self.evidence.get("smoke", False))


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
    extra: Mapping[str, Any] = attrs.field(factory=dict)


class Context:
    """Measures claims of one file for one session, each at most once."""

    def __init__(self, claims_file: ClaimsFile, options: Options, shared: dict[Any, Any] | None = None) -> None:
        self.file = claims_file
        self.options = options
        self._shared = shared if shared is not None else {}
        self._done: dict[str, Measurement | NotRunError] = {}

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
        """The claim's measurement, in the claim's unit; raises ``NotRunError`` when it cannot run here."""
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
            if len(remedies) <= 2:
                reasons = "; ".join(dict.fromkeys(e.reason for e in missing.values()))
                raise NotRunError(f"its components cannot be measured here ({reasons})", "; ".join(remedies))
            # many components, each with its own remedy: name them rather than repeat every remedy
            raise NotRunError(
                f"{len(missing)} of its {len(claim.formula.names)} components cannot be measured here "
                f"({', '.join(missing)})",
                "supply what each component's own NOT_RUN remedy asks for (shown with each of them in this run), "
                f"then rerun this claim; the first one: {remedies[0]}",
            )
        base = {n: to_base(m.value, m.unit) for n, m in parts.items()}
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                value = float(claim.formula.evaluate(base))
            except ZeroDivisionError:
                value = math.nan
            interval = None
            replicates = None
            if any(m.replicates is not None for m in parts.values()):
                reps = {
                    n: to_base(m.replicates, m.unit) if m.replicates is not None else base[n] for n, m in parts.items()
                }
                replicates = np.asarray(claim.formula.evaluate(reps), dtype=float)
                replicates = from_base(replicates, claim.unit)
                from harness.core.stats import percentile_interval

                interval = percentile_interval(replicates)
        conditions: dict[str, Scalar] = {}
        for m in parts.values():
            for key, val in m.conditions.items():
                if key in conditions and conditions[key] != val:
                    conditions[key] = f"{conditions[key]} | {val}"
                else:
                    conditions[key] = val
        return Measurement(
            value=from_base(value, claim.unit),
            unit=claim.unit,
            interval=interval,
            replicates=replicates,
            conditions=conditions,
            evidence={
                "path": "formula over measured components",
                "smoke": any(m.smoke for m in parts.values()),
                "components": {n: dict(m.evidence) for n, m in parts.items()},
            },
            details={"components": {n: m.value for n, m in parts.items()}},
        )


def env_path(name: str) -> Path | None:
    """A path from an environment variable, or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None
