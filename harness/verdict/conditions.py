"""Comparability: whether a measurement was taken under the conditions a claim states.

Matching is exact after normalisation (case, surrounding and repeated white space, the ``(R)``/``(TM)``
marks), plus the synonyms a claims file declares (``[synonyms.<condition>]``: a claimed value and the measured
values accepted for it). Words are never matched as subsets: "synthetic lengths (stand-in for glue/stsb)" is
not "glue/stsb", and a formula's components are never merged into one string ("cpu | cuda" is not "cpu").

``statistic`` (what a number is: "median of 5 seeds", "one published checkpoint", "one seed") is compared
apart from ``comparable_on``: a mismatch does not make a claim NOT_COMPARABLE but caps its verdict
(``statistic_mismatch``), because a one-seed number is still evidence, only with a seed-variance component
that the dev-set interval leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from harness.spec import Claim, Scalar

_MARKS = re.compile(r"\((r|tm)\)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

#: condition -> claimed value -> measured values accepted for it (a claims file's ``[synonyms]``)
Synonyms = Mapping[str, Mapping[str, Sequence[str]]]


def normalise(text: str) -> str:
    """Lower case, without (R)/(TM) marks, white space collapsed: the form conditions are compared in."""
    return _SPACE.sub(" ", _MARKS.sub("", text)).strip().lower()


def condition_matches(claimed: Scalar, measured: Scalar | None, accepted: Sequence[str] = ()) -> bool:
    """Whether a measured condition is the claimed one: booleans by identity, numbers exactly, strings
    exactly after ``normalise`` or as one of the ``accepted`` synonyms of the claimed value."""
    if measured is None:
        return False
    if isinstance(claimed, bool) or isinstance(measured, bool):
        return claimed is measured
    if isinstance(claimed, (int, float)) and isinstance(measured, (int, float)):
        return float(claimed) == float(measured)
    got = normalise(str(measured))
    return got == normalise(str(claimed)) or got in {normalise(a) for a in accepted}


def accepted_values(synonyms: Synonyms, key: str, claimed: Scalar) -> tuple[str, ...]:
    """The measured values a claims file accepts for ``claimed`` under condition ``key``."""
    table = synonyms.get(key, {})
    want = normalise(str(claimed))
    for name, values in table.items():
        if normalise(name) == want:
            return tuple(values)
    return ()


def differing_conditions(
    claim: Claim, measured: Mapping[str, Scalar], synonyms: Synonyms | None = None
) -> dict[str, tuple[Scalar, Scalar | None]]:
    """The ``comparable_on`` conditions where the measurement differs from the claim (or did not record them)."""
    out: dict[str, tuple[Scalar, Scalar | None]] = {}
    for key in claim.comparable_on:
        claimed = claim.conditions[key]
        if not condition_matches(claimed, measured.get(key), accepted_values(synonyms or {}, key, claimed)):
            out[key] = (claimed, measured.get(key))
    return out


def statistic_mismatch(claim: Claim, measured: Mapping[str, Scalar]) -> tuple[Scalar, Scalar] | None:
    """``(claimed, measured)`` when the claim states a ``statistic`` the measurement recorded differently."""
    claimed = claim.conditions.get("statistic")
    got = measured.get("statistic")
    if claimed is None or got is None or condition_matches(claimed, got):
        return None
    return claimed, got
