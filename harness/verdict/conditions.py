"""Comparability: whether a measurement was taken under the conditions a claim states."""

from __future__ import annotations

import re
from collections.abc import Mapping

from harness.spec import Claim, Scalar

_DROP = re.compile(r"\((r|tm)\)|[,;()]", re.IGNORECASE)


def _tokens(text: str) -> set[str]:
    return set(_DROP.sub(" ", text.lower()).split())


def condition_matches(claimed: Scalar, measured: Scalar | None) -> bool:
    """Whether a measured condition is the claimed one: numbers exactly, strings by the claimed words
    (so "Intel Xeon E5-2690 v3" matches "Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz")."""
    if measured is None:
        return False
    if isinstance(claimed, bool) or isinstance(measured, bool):
        return claimed is measured
    if isinstance(claimed, (int, float)) and isinstance(measured, (int, float)):
        return float(claimed) == float(measured)
    words = _tokens(str(claimed))
    return bool(words) and words <= _tokens(str(measured))


def differing_conditions(claim: Claim, measured: Mapping[str, Scalar]) -> dict[str, tuple[Scalar, Scalar | None]]:
    """The ``comparable_on`` conditions where the measurement differs from the claim (or did not record them)."""
    out: dict[str, tuple[Scalar, Scalar | None]] = {}
    for key in claim.comparable_on:
        if not condition_matches(claim.conditions[key], measured.get(key)):
            out[key] = (claim.conditions[key], measured.get(key))
    return out
