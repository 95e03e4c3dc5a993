"""Power before spending (issue 11, item 4): each claim's expected uncertainty budget before anything is
measured, and what its band can then show.

The expected budget of a task score comes from the evaluation split's size n and the claimed value, with a
declared approximation per metric (``harness.verdict.sampling``, stated in each budget row: binomial for
accuracy, exact match and F1, the correlation form for MCC, Pearson and Spearman), plus the seed component:
declared (``[uncertainty.seed_sd]``, Type B) for one-seed evidence, or that SD over the recipe's seeds (sd x
sqrt(f_S / S) for a median of S); one-seed evidence with no declared SD is at best INCONCLUSIVE. A formula's
expected budget propagates its components' (first order, numerically). Timing and other claims have no
expected budget before a run (their u depends on the machine).
"""

from __future__ import annotations

import math

import attrs

from harness.spec import Claim, ClaimsFile
from harness.spec.units import convert, to_base
from harness.verdict import claim_band
from harness.verdict.budget import SEED_COMPONENT, Budget, Component, median_variance_factor
from harness.verdict.power import BandPower, band_power
from harness.verdict.sampling import metric_standard_uncertainty

MAX_DEPTH = 20


@attrs.frozen
class Plan:
    """A claim's expected budget (None: no prior before a run) and its power, with the line to print."""

    claim_id: str
    budget: Budget | None
    power: BandPower | None
    line: str


def expected_budget(
    claim: Claim, claims_file: ClaimsFile, task_evidence: str = "auto", depth: int = 0
) -> Budget | None:
    """The claim's budget before measuring, in the claim's unit; None when none can be known before a run."""
    if depth > MAX_DEPTH or claim.value is None or not math.isfinite(claim.value):
        return None
    if claim.formula is not None:
        return _formula_budget(claim, claims_file, task_evidence, depth)
    if claim.measure is None or claim.measure.kind != "task_score" or claim.metric is None:
        return None
    from harness.ml.tasks import EVAL_EXAMPLES

    task = str(claim.measure.params.get("task"))
    n = EVAL_EXAMPLES.get(task)
    metric = claim.metric.name
    sampling = None if n is None else metric_standard_uncertainty(metric, float(to_base(claim.value, claim.unit)), n)
    if sampling is None:
        return None
    sd, how = sampling
    factor = convert(1.0, "ratio", claim.unit)
    components = [
        Component("examples", "B", sd * factor, f"expected before measuring: {how} at the claimed value ({metric})")
    ]
    seeds = _seeds(claim, claims_file, task, task_evidence)
    declared = claims_file.seed_sd.get(task)
    missing = False
    if declared is None:
        missing = seeds == 1
        if seeds > 1:  # a zero-width marker row: the seeds' spread joins the budget once they are run
            components.append(
                Component(SEED_COMPONENT, "A", 0.0, f"not yet known: the spread of the {seeds} seeds run here")
            )
    else:
        seed_sd = declared.in_base() * factor
        f = 1.0 if seeds == 1 else median_variance_factor(seeds) / seeds
        components.append(Component(SEED_COMPONENT, "B", seed_sd * math.sqrt(f), f"declared: {declared.source}"))
    return Budget(tuple(components), seed_component_missing=missing)


def _seeds(claim: Claim, claims_file: ClaimsFile, task: str, task_evidence: str) -> int:
    """Seeds the evidence will have: 1 for a published checkpoint, else the recipe's count."""
    assert claim.measure is not None
    model = claims_file.models.get(str(claim.measure.params.get("model")))
    recipe_name = claim.measure.params.get("recipe")
    published = model is not None and task in model.finetuned
    if task_evidence == "published" or (published and task_evidence == "auto") or not recipe_name:
        return 1
    seeds = claims_file.recipes.get(str(recipe_name), {}).get("seeds", [42])
    return len(seeds) if isinstance(seeds, list) and seeds else 1


def _formula_budget(claim: Claim, claims_file: ClaimsFile, task_evidence: str, depth: int) -> Budget | None:
    """First-order propagation: u^2 = sum over components of (f(x + u_i) - f(x))^2."""
    assert claim.formula is not None
    parts: dict[str, tuple[float, float, bool]] = {}
    for name in claim.formula.names:
        try:
            part = claims_file.claim(name)
        except KeyError:
            return None
        budget = expected_budget(part, claims_file, task_evidence, depth + 1)
        if budget is None or part.value is None:
            return None
        u = float(to_base(budget.combined_standard_uncertainty(), part.unit))
        parts[name] = (float(to_base(part.value, part.unit)), u, budget.can_reproduce)
    base = {n: v for n, (v, _, _) in parts.items()}
    try:
        centre = float(claim.formula.evaluate(base))
        squares = sum(
            (float(claim.formula.evaluate({**base, n: v + u})) - centre) ** 2 for n, (v, u, _) in parts.items()
        )
    except (ZeroDivisionError, ValueError, OverflowError):
        return None
    from harness.spec.units import from_base

    sd = float(from_base(math.sqrt(squares), claim.unit))
    component = Component(
        "propagated", "B", sd, f"expected before measuring: first-order propagation over {', '.join(parts)}"
    )
    return Budget((component,), seed_component_missing=not all(ok for _, _, ok in parts.values()))


def plan(claim: Claim, claims_file: ClaimsFile, task_evidence: str = "auto") -> Plan:
    """The claim's power statement before measuring."""
    budget = expected_budget(claim, claims_file, task_evidence)
    if budget is None or claim.value is None:
        return Plan(claim.id, None, None, "no expected budget before a run (known once measured)")
    u = budget.combined_standard_uncertainty()
    if u <= 0:
        return Plan(claim.id, budget, None, "expected uncertainty 0")
    b = claim_band(claim)
    power = band_power(claim.value, b.lo, b.hi, u, budget.coverage_factor(), budget.can_reproduce)
    line = f"{claim.unit}: {power.line}"
    unknown = [c.source for c in budget.components if c.source.startswith("not yet known")]
    if unknown:
        line += "; " + unknown[0]
    return Plan(claim.id, budget, power, line)
