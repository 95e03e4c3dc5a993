"""The top of a report: the source's headline claims, and what holds, what does not, what is undecided or not run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from harness.verdict import ClaimResult

#: the overview's columns: a title and the verdicts it gathers
OVERVIEW = (
    ("Holds", ("REPRODUCED",)),
    ("Does not hold", ("NOT_REPRODUCED", "INCONSISTENT")),
    ("Undecided", ("INCONCLUSIVE", "NOT_COMPARABLE", "ERROR")),
    ("Not run", ("NOT_RUN",)),
)


@attrs.frozen
class Column:
    """One column of the overview: its title, the verdicts it gathers, and their results."""

    title: str
    verdicts: tuple[str, ...]
    results: tuple[ClaimResult, ...]


def headline(results: Iterable[ClaimResult]) -> list[ClaimResult]:
    """The claims the claims file marks ``headline = true`` (abstract-level), in the order given (by id)."""
    return [r for r in results if (r.provenance or {}).get("headline")]


def overview(results: Sequence[ClaimResult]) -> list[Column]:
    """The results in the overview's columns (every verdict lands in exactly one)."""
    return [
        Column(title, verdicts, tuple(sorted((r for r in results if r.verdict in verdicts), key=lambda r: r.id)))
        for title, verdicts in OVERVIEW
    ]
