"""What was not run, grouped by what is missing: each resource and each remedy said once.

A NOT_RUN result carries its missing resources one by one (``ClaimResult.needs``: "checkpoint <hub id>",
"data <task>", or "other <component>" -> how to supply it). Claims whose needs are all checkpoints and data
sets are summed up as "supply these N checkpoints and M data sets to run K claims", with each resource once;
every other NOT_RUN claim is grouped with the claims that share its remedy, and that remedy is printed once.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from harness.verdict import ClaimResult

#: the kinds of itemised resource, in the order a summary names them, with their singular and plural
RESOURCE_KINDS = {"checkpoint": ("checkpoint", "checkpoints"), "data": ("data set", "data sets")}


@attrs.frozen
class Resource:
    """One missing checkpoint or data set, how to supply it, and the claims that need it."""

    kind: str
    name: str
    how: str
    claims: tuple[str, ...]


@attrs.frozen
class RemedyGroup:
    """NOT_RUN claims that share one remedy (and reason, when they share that too)."""

    remedy: str
    reasons: tuple[str, ...]
    claims: tuple[str, ...]


@attrs.frozen
class Missing:
    """Every NOT_RUN claim of a run, by what it needs."""

    resources: tuple[Resource, ...]
    #: the claims that the resources alone would let run
    resource_claims: tuple[str, ...]
    groups: tuple[RemedyGroup, ...]

    @property
    def total(self) -> int:
        return len(self.resource_claims) + sum(len(g.claims) for g in self.groups)

    def headline(self) -> str:
        """ "supply these 3 checkpoints and 9 data sets to run 40 claims" (empty when nothing is itemised)."""
        if not self.resource_claims:
            return ""
        parts = []
        for kind, (one, many) in RESOURCE_KINDS.items():
            n = sum(1 for r in self.resources if r.kind == kind)
            if n:
                parts.append(f"{n} {one if n == 1 else many}")
        k = len(self.resource_claims)
        return f"supply these {' and '.join(parts)} to run {k} claim{'s' if k != 1 else ''}"


def _itemised(result: ClaimResult) -> bool:
    return bool(result.needs) and all(key.split(" ", 1)[0] in RESOURCE_KINDS for key in result.needs)


def missing(results: Iterable[ClaimResult]) -> Missing:
    """Group the NOT_RUN results (others are ignored)."""
    not_run = sorted((r for r in results if r.verdict == "NOT_RUN"), key=lambda r: r.id)
    by_resource: dict[str, tuple[str, list[str]]] = {}
    resource_claims: list[str] = []
    by_remedy: dict[str, tuple[list[str], list[str]]] = {}
    for r in not_run:
        if _itemised(r):
            resource_claims.append(r.id)
            for key, how in r.needs.items():
                by_resource.setdefault(key, (how, []))[1].append(r.id)
            continue
        reasons, claims = by_remedy.setdefault(r.remedy or "", ([], []))
        if r.reason not in reasons:
            reasons.append(r.reason)
        claims.append(r.id)
    order = list(RESOURCE_KINDS)
    resources = sorted(
        (
            Resource(key.split(" ", 1)[0], key.split(" ", 1)[1], how, tuple(ids))
            for key, (how, ids) in by_resource.items()
        ),
        key=lambda x: (order.index(x.kind), x.name),
    )
    groups = sorted(
        (RemedyGroup(remedy, tuple(reasons), tuple(ids)) for remedy, (reasons, ids) in by_remedy.items()),
        key=lambda g: (-len(g.claims), g.claims[0]),
    )
    return Missing(tuple(resources), tuple(resource_claims), tuple(groups))
