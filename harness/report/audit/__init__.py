"""Auditing a third party's reported numbers (``replications/*.toml``) against a paper's claims file.

Three checks, each a question a reviewer would ask of a replication report:

1. Verdicts (``numbers``): the paper's claims run through the same engine as a harness run
   (``harness.measure.engine.evaluate``), with the report's numbers as the measurements. On top of the engine's
   condition check, a number derived from other claims than the paper's formula uses is a different quantity
   (NOT_COMPARABLE).
2. Arithmetic (``numbers``): the report's derived numbers (retentions, reductions, ratios) recomputed from its
   own components, within their reported precision; a mismatch that another unit explains is a unit error.
3. Quotes (``quotes``): what the report says the paper says (values, derived values, conditions) against the
   claims file.
4. Evidence (``evidence``): is each reported score reachable as k/n on its split (GRIM), is it a single run
   set against the paper's median of N seeds, is a "%" a difference in percentage points.

Each reported task score carries the budget the harness gives its own one-seed evidence (``budget``): the
interval from the split size and the metric, plus the declared seed SD (without one: at best INCONCLUSIVE).

``run`` does all four; ``render`` writes the terminal table, audit.json and audit.html.
"""

from harness.report.audit.model import (
    AUDIT_SCHEMA,
    DERIVED,
    DIFFERENT_STATISTIC,
    DISAGREES,
    ERROR,
    IMPOSSIBLE,
    NOT_APPLICABLE,
    OK,
    POINTS_AS_PERCENT,
    PROBLEMS,
    SINGLE_RUN,
    STATUS_ORDER,
    UNIT_ERROR,
    UNSUPPORTED,
    WITHIN_ROUNDING,
    WRONG_CONDITIONS,
    Audit,
    AuditRow,
    Check,
)
from harness.report.audit.render import render_audit, text_lines, write
from harness.report.audit.run import run

__all__ = [
    "AUDIT_SCHEMA",
    "DERIVED",
    "DIFFERENT_STATISTIC",
    "DISAGREES",
    "ERROR",
    "IMPOSSIBLE",
    "NOT_APPLICABLE",
    "OK",
    "POINTS_AS_PERCENT",
    "PROBLEMS",
    "SINGLE_RUN",
    "STATUS_ORDER",
    "UNIT_ERROR",
    "UNSUPPORTED",
    "WITHIN_ROUNDING",
    "WRONG_CONDITIONS",
    "Audit",
    "AuditRow",
    "Check",
    "render_audit",
    "run",
    "text_lines",
    "write",
]
