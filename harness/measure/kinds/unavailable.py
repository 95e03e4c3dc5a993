"""Claims this harness cannot measure: always NOT_RUN, saying what would be needed."""

from __future__ import annotations

from harness.core.errors import NotRunError
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.spec import Claim


@register("not_measurable", required=("requires", "remedy"))
def not_measurable(claim: Claim, context: Context) -> Measurement:
    """The claim needs something outside any test machine (a phone, a pre-training run)."""
    assert claim.measure is not None
    raise NotRunError(f"needs {claim.measure.params['requires']}", str(claim.measure.params["remedy"]))
