"""Claims this harness cannot measure: always NOT_RUN, saying what would be needed."""

from __future__ import annotations

from harness.claims import Claim
from harness.errors import NotRunError
from harness.measurement import Context, Measurement
from harness.measures import register


@register("not_measurable", required=("requires", "remedy"))
def not_measurable(claim: Claim, context: Context) -> Measurement:
    """The claim needs something outside any test machine (a phone, a pre-training run)."""
    assert claim.measure is not None
    raise NotRunError(f"needs {claim.measure.params['requires']}", str(claim.measure.params["remedy"]))
