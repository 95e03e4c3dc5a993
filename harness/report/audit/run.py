"""One audit end to end: every reported number judged (with its budget) and checked as evidence, every derived
number recomputed, every quote checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from harness.report.audit.evidence import evidence_checks
from harness.report.audit.model import Audit
from harness.report.audit.numbers import recompute, verdicts
from harness.report.audit.quotes import check_quote, check_references
from harness.report.audit.render import harness_cell
from harness.report.replications import Replication, ReplicationError
from harness.spec import ClaimsFile


def run(
    replication: Replication,
    claims_file: ClaimsFile,
    *,
    replication_sha256: str = "",
    claims_sha256: str = "",
    harness: Mapping[str, Any] | None = None,
    harness_path: str | None = None,
) -> Audit:
    """Audit ``replication`` against ``claims_file``; ``harness`` is a results file's data (third column)."""
    if claims_file.source is None:
        problems = "; ".join(str(r.error) for r in claims_file.invalid)
        raise ReplicationError(
            replication.path,
            None,
            "report.claims",
            "a loadable claims file",
            f"{claims_file.path}, which cannot be loaded ({problems})",
            "fix the claims file first",
        )
    invalid: dict[str, Exception] = {r.name: r.error for r in claims_file.invalid}
    check_references(replication, claims_file, invalid)
    reproduce = f"python -m harness audit {replication.path} --claims {claims_file.path}"
    rows = verdicts(replication, claims_file, invalid, reproduce)
    if harness is not None:
        own = {r["id"]: r for r in harness.get("results", [])}
        rows = [attrs.evolve(row, harness=harness_cell(own.get(row.result.id))) for row in rows]
    arithmetic = tuple(recompute(n, replication) for n in replication.numbers if n.formula is not None)
    quotes = tuple(check_quote(q, claims_file, invalid) for q in replication.quotes)
    return Audit(
        replication,
        replication_sha256,
        claims_file.path,
        claims_sha256,
        claims_file.source,
        tuple(rows),
        arithmetic,
        quotes,
        harness_path,
        evidence_checks(replication, claims_file, invalid),
    )
