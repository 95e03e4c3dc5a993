"""Whether a measurement is comparable with its claim, through formulas: components are never merged.

A measured claim is compared condition by condition (``harness.verdict.conditions``). A formula claim is
comparable when, for each of its own ``comparable_on`` keys, the components either agree on one value that
matches the claim's, or differ but each pins that key in its own claim and matches it there (a GLUE macro over
nine datasets). On keys the formula does not list it is portable: a time ratio across CPUs, even though each
absolute time pins its CPU. Components measured under different values
of a key that no component pins ("cpu" and "cuda") make the formula NOT_COMPARABLE, with both values named.

A measurement whose evidence has ``config_differences`` (a local checkpoint's config.json that resolves
differently from the claims file's ``[models.<name>.config]``) is NOT_COMPARABLE too: it measured another model.

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
    differing: dict[str, tuple[Scalar, Scalar | None]] = {}
    reasons: list[str] = []
    _differences(claim, measurement, context, claim.comparable_on, "", differing, reasons)
    config_diff = measurement.evidence.get("config_differences")
    if config_diff:  # a checkpoint's config.json that is not the model the claims file declares
        found = ", ".join(f"{k} {v['claims_file']} -> {v['checkpoint']}" for k, v in config_diff.items())
        differing["config"] = ("the claims file's [models] config", f"a checkpoint config differing in {found}")
        reasons.append(f"config: the checkpoint's config.json differs from the claims file's in {found}")
    return Comparability(differing, tuple(reasons), tuple(dict.fromkeys(_statistics(claim, measurement, context))))


def _components(claim: Claim, measurement: Measurement, context: Context) -> dict[str, tuple[Claim, Measurement]]:
    """A formula measurement's components (none when the formula claim was measured directly, e.g. a
    replication report's own ratio)."""
    out: dict[str, tuple[Claim, Measurement]] = {}
    if "component_conditions" not in measurement.details:
        return out
    for name in claim.formula.names if claim.formula else ():
        component = context.file.claim(name)
        out[name] = (component, context.measure(component))
    return out


def _differences(
    claim: Claim,
    measurement: Measurement,
    context: Context,
    keys: tuple[str, ...],
    prefix: str,
    differing: dict[str, tuple[Scalar, Scalar | None]],
    reasons: list[str],
) -> None:
    """The ``keys`` (of ``claim.comparable_on``) on which the measurement differs. A formula's components are
    only compared on the formula's own keys: on the others the formula is portable (a time ratio across CPUs)."""
    synonyms = context.file.synonyms
    varying = set(measurement.details.get("varying_conditions", ())) if claim.formula is not None else set()
    parts = _components(claim, measurement, context) if varying & set(keys) else {}
    for key in keys:
        claimed = claim.conditions[key]
        if key in varying:
            unpinned = [n for n, (c, _) in parts.items() if key not in c.comparable_on]
            if unpinned:
                values = ", ".join(f"{n} {m.conditions.get(key)!r}" for n, (_, m) in parts.items())
                differing[f"{prefix}{key}"] = (claimed, f"different per component ({values})")
                reasons.append(
                    f"{prefix}{key}: its components were measured under different values ({values}) and "
                    f"{', '.join(unpinned)} {'does' if len(unpinned) == 1 else 'do'} not pin {key} in its own claim"
                )
                continue
            for name, (component, m) in parts.items():  # each pins it: each against its own claim
                _differences(component, m, context, (key,), f"{prefix}component {name}: ", differing, reasons)
            continue
        got = measurement.conditions.get(key)
        if not condition_matches(claimed, got, accepted_values(synonyms, key, claimed)):
            differing[f"{prefix}{key}"] = (claimed, got)
            reasons.append(f"{prefix}{key}: claimed {claimed!r}, measured {got!r}")


def _statistics(claim: Claim, measurement: Measurement, context: Context, prefix: str = "") -> list[str]:
    """Statistic mismatches of the claim and, through formulas, of every component against its own claim."""
    out = []
    for name, (component, m) in _components(claim, measurement, context).items():
        out.extend(_statistics(component, m, context, f"{prefix}component {name}: "))
    if "statistic" not in measurement.details.get("varying_conditions", ()):
        mismatch = statistic_mismatch(claim, measurement.conditions)
        if mismatch is not None:
            out.append(f"{prefix}the claim is a {mismatch[0]!r}, the measurement {mismatch[1]!r}")
    return out
