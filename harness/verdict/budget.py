"""Uncertainty budgets in the spirit of the GUM (JCGM 100:2008): the components of a measurement's uncertainty,
their combination and the expanded interval a verdict uses.

A ``Component`` is one source of uncertainty, already in the measurand's unit (sensitivity coefficient 1):
Type A when estimated from the data here (a dev-set bootstrap, the spread of the seeds actually run), Type B
when declared with a source (the seed SD of one fine-tuning run from a published seed-variance study, the
noise of the paper's own median of 5). ``Budget`` combines them in quadrature (GUM 5.1.2), takes the
Welch-Satterthwaite effective degrees of freedom (GUM G.4.1) and a Student t coverage factor for the expanded
interval (GUM G.3). ``one_seed_budget`` is the rule for single-checkpoint evidence: a one-seed score carries a
declared seed component, and without one the budget says ``seed_component_missing``: it can be at best
INCONCLUSIVE, never REPRODUCED.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from harness.core.distributions import normal_ppf, t_ppf
from harness.core.stats import LEVEL
from harness.core.stats_input import finite_array, level_value, non_negative, require

KINDS = ("A", "B")
SEED_COMPONENT = "seed"


@attrs.frozen
class Component:
    """One source of uncertainty: ``sd`` is its standard uncertainty in the measurand's unit.

    ``dof`` are its degrees of freedom (None: known well enough to count as infinite, GUM G.4.2).
    Build from an interval half-width with ``from_half_width`` (normal) or ``rectangular`` (GUM 4.3.7).
    """

    name: str
    kind: str
    sd: float
    source: str
    dof: float | None = None

    def __attrs_post_init__(self) -> None:
        where = f"Component {self.name!r}"
        require(bool(self.name), "Component(name)", "a non-empty name", self.name, "name the source, e.g. 'seed'")
        require(
            self.kind in KINDS,
            f"{where}: kind",
            "'A' (from data) or 'B' (declared)",
            self.kind,
            "say A for a bootstrap or seeds run here, B for a cited value",
        )
        non_negative(self.sd, f"{where}: sd")
        require(bool(self.source.strip()), f"{where}: source", "where the value comes from", "''", "cite it")
        if self.dof is not None:
            require(
                self.dof > 0,
                f"{where}: dof",
                "degrees of freedom > 0, or None",
                self.dof,
                "pass the count minus 1 (e.g. seeds - 1), or None if well known",
            )

    @classmethod
    def from_half_width(
        cls, name: str, kind: str, half_width: float, source: str, level: float = LEVEL, dof: float | None = None
    ) -> Component:
        """From the half-width of a symmetric ``level`` interval of a normal (t with ``dof``) distribution."""
        non_negative(half_width, f"Component {name!r}: half_width")
        level = level_value(level, f"Component {name!r}: level")
        q = 0.5 + level / 2.0
        factor = normal_ppf(q) if dof is None else t_ppf(q, dof)
        return cls(name, kind, half_width / factor, source, dof)

    @classmethod
    def rectangular(cls, name: str, half_width: float, source: str) -> Component:
        """Type B: the value lies anywhere within +-half_width (a rounding, a stated bound): sd = a / sqrt(3)."""
        non_negative(half_width, f"Component {name!r}: half_width")
        return cls(name, "B", half_width / math.sqrt(3.0), source)


@attrs.frozen
class Budget:
    """The components of one measurement's uncertainty and their combination.

    ``seed_component_missing``: the measurement is one fine-tuning seed and no seed spread was declared; its
    interval then leaves out the largest source of run-to-run variation, and a verdict may be at best
    INCONCLUSIVE (``can_reproduce`` is False).
    """

    components: tuple[Component, ...]
    seed_component_missing: bool = False

    @classmethod
    def propagated(cls, replicates: Any, source: str, seed_component_missing: bool = False) -> Budget:
        """A formula's budget: one Type A component, the SD of the formula over its components' replicates."""
        import numpy as np

        sd = float(np.std(np.asarray(replicates, dtype=float), ddof=1))
        return cls((Component("propagated", "A", sd, source),), seed_component_missing=seed_component_missing)

    @property
    def can_reproduce(self) -> bool:
        return not self.seed_component_missing

    def combined_standard_uncertainty(self) -> float:
        """u_c = sqrt(sum of u_i^2) (GUM eq. 10 with unit sensitivity coefficients, uncorrelated components)."""
        return math.sqrt(sum(c.sd**2 for c in self.components))

    def effective_dof(self) -> float:
        """Welch-Satterthwaite: u_c^4 / sum(u_i^4 / nu_i); components without dof count as infinite."""
        u4 = self.combined_standard_uncertainty() ** 4
        finite = sum(c.sd**4 / c.dof for c in self.components if c.dof is not None)
        if finite == 0.0:
            return math.inf
        return u4 / finite

    def coverage_factor(self, level: float = LEVEL) -> float:
        """k: the Student t quantile at the effective dof (the normal one when they are infinite)."""
        q = 0.5 + level_value(level, "Budget.coverage_factor(level)") / 2.0
        dof = self.effective_dof()
        return normal_ppf(q) if math.isinf(dof) else t_ppf(q, dof)

    def expanded_half_width(self, level: float = LEVEL) -> float:
        """U = k u_c."""
        return self.coverage_factor(level) * self.combined_standard_uncertainty()

    def expanded_interval(self, value: float, level: float = LEVEL) -> tuple[float, float]:
        """value +- U: the interval a verdict compares with the band."""
        require(
            math.isfinite(value),
            "Budget.expanded_interval(value)",
            "a finite measured value",
            value,
            "a NaN or infinite measurement has no interval: re-measure",
        )
        half = self.expanded_half_width(level)
        return value - half, value + half

    def with_component(self, component: Component) -> Budget:
        """This budget and one more component (a declared seed component clears ``seed_component_missing``)."""
        missing = self.seed_component_missing and component.name != SEED_COMPONENT
        return Budget((*self.components, component), missing)

    def scaled(self, factor: float) -> Budget:
        """The same budget in another unit: every component's sd times ``factor`` (a linear unit change)."""
        return Budget(
            tuple(attrs.evolve(c, sd=c.sd * abs(factor)) for c in self.components), self.seed_component_missing
        )

    def rows(self) -> list[dict[str, Any]]:
        """One dict per component, for results files: component, kind, value (its sd), source, dof."""
        return [
            {"component": c.name, "kind": c.kind, "value": c.sd, "source": c.source, "dof": c.dof}
            for c in self.components
        ]

    def summary(self, level: float = LEVEL) -> dict[str, Any]:
        """The combination: combined u, effective dof, coverage factor, expanded half-width, the missing flag."""
        dof = self.effective_dof()
        return {
            "combined_standard_uncertainty": self.combined_standard_uncertainty(),
            "effective_dof": None if math.isinf(dof) else dof,
            "coverage_factor": self.coverage_factor(level),
            "expanded_half_width": self.expanded_half_width(level),
            "level": level,
            "seed_component_missing": self.seed_component_missing,
        }


def bootstrap_component(interval: tuple[float, float], source: str, level: float = LEVEL) -> Component:
    """Type A: the examples' component from a (percentile) bootstrap interval, read as normal: sd = width / 2z."""
    lo, hi = interval
    require(
        math.isfinite(lo) and math.isfinite(hi) and lo <= hi,
        "bootstrap_component(interval)",
        "a finite interval with lo <= hi",
        interval,
        "pass the interval the bootstrap produced",
    )
    return Component.from_half_width("examples", "A", (hi - lo) / 2.0, source, level)


def seed_spread_component(per_seed: Sequence[float], aggregate: str, source: str) -> Component:
    """Type A: the seeds actually run. The mean of S seeds has sd s/sqrt(S); the median of S normal values has
    a larger one: its exact variance factor for S values is used (1.434 for S=5, asymptotically pi/2), with
    S-1 degrees of freedom."""
    values = finite_array(per_seed, "seed_spread_component(per_seed)", minimum_length=2)
    require(
        aggregate in ("mean", "median"),
        "seed_spread_component(aggregate)",
        "'mean' or 'median'",
        aggregate,
        "use the recipe's aggregate over seeds",
    )
    seeds = values.size
    factor = 1.0 if aggregate == "mean" else median_variance_factor(seeds)
    sd = float(values.std(ddof=1)) * math.sqrt(factor / seeds)
    return Component(SEED_COMPONENT, "A", sd, source, dof=seeds - 1)


def median_variance_factor(count: int) -> float:
    """count * Var(median of ``count`` standard normal values), by numerical integration of the order statistic."""
    import numpy as np
    from scipy import integrate
    from scipy.special import comb
    from scipy.stats import norm

    if count % 2 == 0:  # the mean of the two middle order statistics: simulate with a fixed seed
        draws = np.sort(np.random.default_rng(0).standard_normal((200_000, count)), axis=1)
        middle = (draws[:, count // 2 - 1] + draws[:, count // 2]) / 2.0
        return float(count * middle.var())
    k = (count + 1) // 2
    coefficient = count * comb(count - 1, k - 1)

    def density(x: float) -> float:
        return float(coefficient * norm.cdf(x) ** (k - 1) * norm.sf(x) ** (count - k) * norm.pdf(x))

    second, _ = integrate.quad(lambda x: x * x * density(x), -np.inf, np.inf)
    return float(count * second)


def one_seed_budget(
    bootstrap_interval: tuple[float, float],
    seed_sd: float | None,
    seed_source: str | None,
    bootstrap_source: str = "bootstrap over the evaluation examples",
    level: float = LEVEL,
) -> Budget:
    """The budget of a one-seed score: its examples' bootstrap (Type A) plus the declared seed SD (Type B).

    With ``seed_sd`` None the budget has the examples only and ``seed_component_missing`` is set.
    """
    examples = bootstrap_component(bootstrap_interval, bootstrap_source, level)
    if seed_sd is None:
        return Budget((examples,), seed_component_missing=True)
    require(
        bool(seed_source and seed_source.strip()),
        "one_seed_budget(seed_source)",
        "the source of the declared seed SD (a study, a table)",
        seed_source,
        "declare where the seed SD comes from",
    )
    assert seed_source is not None
    return Budget((examples, Component(SEED_COMPONENT, "B", non_negative(seed_sd, "one_seed_budget"), seed_source)))
