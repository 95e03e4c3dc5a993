"""The claims language: records, loading and validation, formulas, units and the vocabulary of kinds.

A claims file (``claims/*.toml``) is data: each record quotes the paper, gives the value, its unit and
precision, the conditions it was measured under and a tolerance fixed before any run. This package turns
such a file into frozen value objects (``records``), reporting every problem as a ``ClaimError`` that names
the file, the claim, the field, what was expected, what was found and the fix. What can be known wrong before
anything is measured is refused here: hub ids (``hub_ids``), model tables (``model_table``, and the check its
builder registers in ``model_table.MODEL_CHECKS``), formula dimensions (``dimensions``), and whatever a kind's
own ``check`` refuses.

May import: ``harness.core`` only. The measurement kinds a claim may name are looked up in
``harness.spec.kinds.KINDS``, a registry that plug-ins fill (the built-in kinds among them).
"""

from harness.spec.loader import load
from harness.spec.pins import DatasetSpec, HubPin
from harness.spec.records import (
    CLAIM_FIELDS,
    ID_PATTERN,
    NAME_PATTERN,
    Claim,
    ClaimsFile,
    InvalidRecord,
    MeasureSpec,
    Metric,
    ModelSpec,
    Scalar,
    Source,
    Tolerance,
)

__all__ = [
    "CLAIM_FIELDS",
    "ID_PATTERN",
    "NAME_PATTERN",
    "Claim",
    "ClaimsFile",
    "DatasetSpec",
    "HubPin",
    "InvalidRecord",
    "MeasureSpec",
    "Metric",
    "ModelSpec",
    "Scalar",
    "Source",
    "Tolerance",
    "load",
]
