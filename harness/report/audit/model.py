"""What an audit finds: the statuses, one check, one row per claim, and the whole audit as a value object."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from harness.report.replications import Replication
from harness.report.terminal import fmt_value
from harness.spec import Source
from harness.spec.units import UNITS
from harness.verdict import ClaimResult, summary

AUDIT_SCHEMA = 1

OK = "OK"
DERIVED = "DERIVED"
WITHIN_ROUNDING = "WITHIN_ROUNDING"
UNIT_ERROR = "UNIT_ERROR"
DISAGREES = "DISAGREES"
WRONG_CONDITIONS = "WRONG_CONDITIONS"
UNSUPPORTED = "UNSUPPORTED"
ERROR = "ERROR"
#: a reported accuracy that no k/n of its split rounds to (GRIM)
IMPOSSIBLE = "IMPOSSIBLE"
#: "X%" for a difference of two percentages that is X percentage points
POINTS_AS_PERCENT = "POINTS_AS_PERCENT"
#: a single run set against the paper's median of N seeds (or another statistic than the paper's)
SINGLE_RUN = "SINGLE_RUN"
DIFFERENT_STATISTIC = "DIFFERENT_STATISTIC"
#: a check that does not apply to this number (GRIM on a Matthews correlation)
NOT_APPLICABLE = "NOT_APPLICABLE"
#: most severe first
STATUS_ORDER = (
    ERROR,
    UNIT_ERROR,
    IMPOSSIBLE,
    DISAGREES,
    WRONG_CONDITIONS,
    POINTS_AS_PERCENT,
    SINGLE_RUN,
    DIFFERENT_STATISTIC,
    UNSUPPORTED,
    WITHIN_ROUNDING,
    DERIVED,
    NOT_APPLICABLE,
    OK,
)
#: check statuses that are findings (a mistake in the report, a limit of its evidence, or a check that could not
#: run): every status but the ones that pass
PROBLEMS = tuple(s for s in STATUS_ORDER if s not in (WITHIN_ROUNDING, DERIVED, NOT_APPLICABLE, OK))
_SLACK = 1e-9


@attrs.frozen
class Check:
    """One check of the report's arithmetic, or of one of its quotes of the paper."""

    id: str
    status: str
    quote: str
    location: str
    stated: str
    expected: str
    reason: str
    claim: str | None = None
    formula: str | None = None
    #: which check of a number it is: "granularity", "statistic" or "percent" (``evidence``); "" otherwise
    aspect: str = ""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class AuditRow:
    """A paper claim judged with one of the report's numbers (``number``), or derived by the audit from
    several of them (``number`` None); ``harness`` is this harness's own result for the claim, if given."""

    result: ClaimResult
    number: str | None = None
    reported: str = ""
    harness: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "reported": self.reported, "harness": self.harness, **self.result.to_dict()}


@attrs.frozen
class Audit:
    """The audit of one replication file against one claims file."""

    replication: Replication
    replication_sha256: str
    claims_path: str
    claims_sha256: str
    source: Source | None
    rows: tuple[AuditRow, ...]
    arithmetic: tuple[Check, ...]
    quotes: tuple[Check, ...]
    harness_results: str | None = None
    #: the report's numbers as evidence: granularity, statistic, percent vs points (``evidence``)
    evidence: tuple[Check, ...] = ()

    @property
    def findings(self) -> list[Check]:
        return [c for c in self.checks if c.status in PROBLEMS]

    @property
    def borderline(self) -> list[Check]:
        """Checks that pass only at the edge of the reported rounding: not mistakes, but worth a look."""
        return [c for c in self.checks if c.status == WITHIN_ROUNDING]

    @property
    def checks(self) -> tuple[Check, ...]:
        return (*self.arithmetic, *self.quotes, *self.evidence)

    def verdict_counts(self) -> dict[str, int]:
        return {k: n for k, n in summary([r.result for r in self.rows]).items() if n}

    def to_dict(self) -> dict[str, Any]:
        report = self.replication.report
        return {
            "schema": AUDIT_SCHEMA,
            "replication": {
                "path": self.replication.path,
                "sha256": self.replication_sha256,
                **attrs.asdict(report),
                "dated": report.dated,
            },
            "claims_file": {
                "path": self.claims_path,
                "sha256": self.claims_sha256,
                "source": None if self.source is None else attrs.asdict(self.source),
            },
            "harness_results": self.harness_results,
            "summary": {
                "verdicts": self.verdict_counts(),
                "findings": len(self.findings),
                "statuses": status_counts(self.checks),
            },
            "verdicts": [r.to_dict() for r in self.rows],
            "arithmetic": [c.to_dict() for c in self.arithmetic],
            "quotes": [c.to_dict() for c in self.quotes],
            "evidence": [c.to_dict() for c in self.evidence],
            "unchecked": [attrs.asdict(u) for u in self.replication.unchecked],
        }


def status_counts(checks: Sequence[Check]) -> dict[str, int]:
    counts = {s: sum(1 for c in checks if c.status == s) for s in STATUS_ORDER}
    return {s: n for s, n in counts.items() if n}


# ---------------------------------------------------------------- number formatting


def decimals_of(precision: float) -> int:
    """The decimals a number stated to ``precision`` is printed with (0.01 -> 2; 0 -> 6)."""
    return max(0, -math.floor(math.log10(precision) + 1e-9)) if precision > 0 else 6


def stated_text(value: float, unit: str | None, precision: float | None) -> str:
    """A number as the report states it (to its precision), with its unit."""
    text = f"{value:,.{decimals_of(precision)}f}" if precision else fmt_value(value)
    return f"{text} {unit or ''}".strip()


def near(a: float, b: float, half: float) -> bool:
    return abs(a - b) <= half * (1 + _SLACK) + _SLACK * max(1.0, abs(a), abs(b))


def same_dimension(unit: str) -> list[str]:
    return [u for u, spec in UNITS.items() if spec.dimension == UNITS[unit].dimension and u != unit]


# ---------------------------------------------------------------- 1. verdicts
