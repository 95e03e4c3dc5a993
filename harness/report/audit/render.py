"""The audit as text and files: the terminal table, audit.json and audit.html."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.report.audit.model import STATUS_ORDER, Audit, AuditRow, status_counts
from harness.report.charts import charts
from harness.report.html import template_env
from harness.report.ordering import severity_key
from harness.report.terminal import fmt_value


def harness_cell(result: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if result is None:
        return None
    keys = ("verdict", "measured", "interval", "unit", "smoke", "reason", "reproduce")
    return {k: result.get(k) for k in keys}


# ---------------------------------------------------------------- text


def _side_by_side(row: AuditRow) -> str:
    r = row.result
    paper = fmt_value(r.claimed, r.unit)
    report = row.reported if row.number else f"{fmt_value(r.measured, r.unit)} (derived)"
    line = f"paper {paper} | report {report}"
    if row.harness is not None:
        h = row.harness
        smoke = " SMOKE" if h.get("smoke") else ""
        line += f" | harness {fmt_value(h.get('measured'), h.get('unit') or '')} ({h.get('verdict')}{smoke})"
    return line


def text_lines(audit: Audit) -> list[str]:
    """The audit as a person reads it in the terminal."""
    rep = audit.replication.report
    source = audit.source
    out = [
        f'Audit of "{rep.title}" by {rep.byline}, {rep.dated}',
        f"  replication file: {audit.replication.path}" + (f" (document: {rep.document})" if rep.document else ""),
        "  hardware: " + (", ".join(f"{k} = {v}" for k, v in rep.hardware.items()) or "not stated"),
        f"  judged against {audit.claims_path}" + (f" ({source.reference} {source.version})" if source else ""),
        f"  third column: {audit.harness_results}"
        if audit.harness_results
        else "  third column: none (add --results claims-results/results.json for this harness's own numbers)",
        "",
        "1. The paper's claims, with the report's numbers as the measurements",
    ]
    for row in audit.rows:
        r = row.result
        out.append(f"  {r.verdict:<16}{r.id}" + (f"  [{row.number}]" if row.number else "  [derived]"))
        out.append(f"  {'':<16}{_side_by_side(row)}")
        out.append(f"  {'':<16}why: {r.reason}")
    sections = (
        ("2. The report's own arithmetic, recomputed from its components", audit.arithmetic),
        ("3. The report's quotes of the paper, against the claims file", audit.quotes),
    )
    for title, checks in sections:
        out += ["", title]
        for check in checks:
            out.append(f"  {check.status:<17}{check.id}: stated {check.stated}")
            out.append(f"  {'':<17}{check.reason}")
    if audit.replication.unchecked:
        out += ["", "4. Not checked"]
        for u in audit.replication.unchecked:
            out.append(f'  "{u.quote}": {u.reason}')
    statuses = status_counts(audit.checks)
    out += [
        "",
        "Verdicts: " + ", ".join(f"{n} {v}" for v, n in audit.verdict_counts().items()),
        "Checks: " + ", ".join(f"{n} {s}" for s, n in statuses.items()),
        f"Findings: {len(audit.findings)}"
        + (" (" + "; ".join(f"{c.status} {c.id}" for c in audit.findings) + ")" if audit.findings else ""),
    ]
    if audit.borderline:
        out.append("Borderline (within rounding, only just): " + "; ".join(c.id for c in audit.borderline))
    return out


def write(audit: Audit, out_dir: Path) -> tuple[Path, Path]:
    """Write audit.json and audit.html into ``out_dir``."""
    import json

    from harness.core.files import atomic_write_text

    json_path, html_path = out_dir / "audit.json", out_dir / "audit.html"
    atomic_write_text(json_path, json.dumps(audit.to_dict(), indent=2, allow_nan=False) + "\n")
    atomic_write_text(html_path, render_audit(audit))
    return json_path, html_path


def render_audit(audit: Audit) -> str:
    """The HTML page of an audit: the report's numbers, the paper's and this harness's side by side."""
    rows = sorted(audit.rows, key=lambda row: severity_key(row.result))
    status_counts = {s: sum(1 for c in audit.checks if c.status == s) for s in STATUS_ORDER}
    return (
        template_env()
        .get_template("audit.html.j2")
        .render(
            title=f"Audit: {audit.replication.report.title}",
            audit=audit,
            report=audit.replication.report,
            rows=rows,
            counts=audit.verdict_counts(),
            status_counts={s: n for s, n in status_counts.items() if n},
            findings=sorted(audit.findings, key=lambda c: STATUS_ORDER.index(c.status)),
            charts=charts([(f"{row.result.id} [{row.number or 'derived'}]", row.result) for row in audit.rows]),
            arithmetic=sorted(audit.arithmetic, key=lambda c: STATUS_ORDER.index(c.status)),
            quotes=sorted(audit.quotes, key=lambda c: STATUS_ORDER.index(c.status)),
        )
    )
