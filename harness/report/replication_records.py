"""The records a replication file loads into (``harness.report.replications.load``): the report and who wrote
it, each number it reports (with how it derived the derived ones), each of its quotes of the paper, and what
it says that cannot be checked. Plain frozen values; the audit (``harness.report.audit``) reads them.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from harness.spec import Scalar
from harness.spec.formula import Formula


@attrs.frozen
class Report:
    """Who reported, when, on what hardware, about which claims file."""

    key: str
    title: str
    authors: tuple[str, ...]
    claims: str
    date: str = ""
    date_note: str = ""
    affiliation: str = ""
    url: str = ""
    document: str = ""
    paper_version: str = ""
    hardware: Mapping[str, Scalar] = attrs.field(factory=dict)
    note: str = ""

    @property
    def dated(self) -> str:
        """The date, or a plain statement that the report is undated (with the auditor's note)."""
        if self.date:
            return self.date
        return "undated" + (f" ({self.date_note})" if self.date_note else "")

    @property
    def byline(self) -> str:
        return ", ".join(self.authors) + (f" ({self.affiliation})" if self.affiliation else "")


@attrs.frozen
class ReportedNumber:
    """A number the report gives as its own result. ``formula`` (over ids of this file) says how the report
    derived it; ``claim`` is the paper's claim it is evidence about."""

    id: str
    value: float
    unit: str
    precision: float
    quote: str
    location: str
    claim: str | None = None
    formula: Formula | None = None
    conditions: Mapping[str, Scalar] = attrs.field(factory=dict)
    assumed: tuple[str, ...] = ()
    note: str = ""


@attrs.frozen
class PaperQuote:
    """What the report says the paper says: a value (of ``claim``, or of ``paper_formula`` over claim ids),
    and/or the conditions it attributes to ``claim``."""

    id: str
    quote: str
    location: str
    claim: str | None = None
    paper_formula: Formula | None = None
    value: float | None = None
    unit: str | None = None
    precision: float | None = None
    conditions: Mapping[str, Scalar] = attrs.field(factory=dict)
    note: str = ""


@attrs.frozen
class Unchecked:
    """A statement of the report that the audit cannot check, and why (so that it is visibly not ignored)."""

    quote: str
    reason: str
    location: str = ""


@attrs.frozen
class Replication:
    """A loaded replication file."""

    path: str
    report: Report
    numbers: tuple[ReportedNumber, ...]
    quotes: tuple[PaperQuote, ...]
    unchecked: tuple[Unchecked, ...] = ()

    def item(self, item_id: str) -> ReportedNumber | PaperQuote:
        """A number or quote by id (formulas of numbers may use both)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def items(self) -> tuple[ReportedNumber | PaperQuote, ...]:
        """The numbers and the quotes, in one namespace of ids."""
        return (*self.numbers, *self.quotes)
