"""Whether a measurement is comparable with its claim, through formulas: components are never merged.

A measured claim is compared condition by condition (``harness.verdict.conditions``). A formula claim is
comparable when every component is comparable with its own claim, and when, for each of its own
``comparable_on`` keys, the components either agree on one value that matches the claim's, or differ but each
pins that key in its own claim (a GLUE macro over nine datasets). Components measured under different values
of a key that no component pins ("cpu" and "cuda") make the formula NOT_COMPARABLE, with both values named.

The ``statistic`` condition is collected apart: a mismatch caps the verdict rather than refusing it.
"""

from __future__ import annotations

import attrs

from harness.measure.measurement import Context, Measurement
from harness.spec import Claim, Scalar
from harness.verdict.conditions import accepted_values, condition_matches, statistic_mismatch


@attrs.frozen
class Comparability:
    """The conditions that differ (key -> (claimed, measured)), said in words, and statistic mismatches."""

    differing: dict[str, tuple[Scalar, Scalar | None]]
    reasons: tuple[str, ...]
    statistics: tuple[str, ...]

    @property
    def comparable(self) -> bool:
        return not self.differing


def comparability(claim: Claim, measurement: Measurement, context: Context) -> Comparability:
    """How the measurement compares with the claim's conditions (recursively through formula components)."""
    synonyms = context.file.synonyms
    differing: dict[str, tuple[Scalar, Scalar | None]] = {}
    reasons: list[str] = []
    statistics: list[str] = []
    varying = set(measurement.details.get("varying_conditions", ())) if claim.formula is not None else set()
    parts: dict[str, tuple[Claim, Measurement]] = {}
    if claim.formula is not None:
        for name in claim.formula.names:
            component = context.file.claim(name)
            parts[name] = (component, context.measure(component))
        for name, (component, m) in parts.items():
            sub = comparability(component, m, context)
            for key, pair in sub.differing.items():
                differing[f"{key} (of {name})"] = pair
            reasons.extend(f"component {name}: {r}" for r in sub.reasons)
            statistics.extend(s if s.startswith("component ") else f"component {name}: {s}" for s in sub.statistics)
    for key in claim.comparable_on:
        claimed = claim.conditions[key]
        if key in varying:
            unpinned = [n for n, (c, _) in parts.items() if key not in c.comparable_on]
            if unpinned:
                values = ", ".join(f"{n} {m.conditions.get(key)!r}" for n, (_, m) in parts.items())
                differing[key] = (claimed, f"different per component ({values})")
                reasons.append(
                    f"{key}: its components were measured under different values ({values}) and "
                    f"{', '.join(unpinned)} {'does' if len(unpinned) == 1 else 'do'} not pin {key} in its own claim"
                )
            continue
        got = measurement.conditions.get(key)
        if not condition_matches(claimed, got, accepted_values(synonyms, key, claimed)):
            differing[key] = (claimed, got)
            reasons.append(f"{key}: claimed {claimed!r}, measured {got!r}")
    if "statistic" not in varying:
        mismatch = statistic_mismatch(claim, measurement.conditions)
        if mismatch is not None:
            statistics.append(f"the claim is a {mismatch[0]!r}, the measurement {mismatch[1]!r}")
    return Comparability(differing, tuple(reasons), tuple(dict.fromkeys(statistics)))
