"""Load-time checks of a kind's ``[claims.measure]`` parameters that several kinds share.

``statistic`` picks one of a kind's statistics (the latency kind's ``full_pass_seconds``, a ratio's
``times_smaller``); ``baseline`` names the model a ratio is relative to, which must not be the measured one.
Each problem is a ``ClaimError`` naming the claim and the ``measure.<field>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.core.errors import ClaimError, did_you_mean
from harness.spec import Claim


def statistic(claim: Claim, default: str, allowed: Sequence[str], fix: str = "use one of those.") -> str:
    """The claim's ``measure.statistic`` (``default`` when absent), one of ``allowed``."""
    assert claim.measure is not None
    value = claim.measure.params.get("statistic", default)
    if value not in allowed:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure.statistic",
            "one of " + ", ".join(allowed),
            repr(value),
            fix + did_you_mean(str(value), allowed),
        )
    return str(value)


def other_baseline(claim: Claim, what: str) -> None:
    """``measure.baseline`` names another model than ``measure.model`` (``what``: "the ratio", "the speedup")."""
    assert claim.measure is not None
    params = claim.measure.params
    if params["baseline"] == params["model"]:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure.baseline",
            "another [models.<name>] table than measure.model",
            repr(params["baseline"]),
            f"name the model {what} is relative to",
        )
