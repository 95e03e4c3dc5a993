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


def budget_line(row: AuditRow) -> str | None:
    """The reported number's interval and the budget behind it (None for numbers without one)."""
    r = row.result
    budget = r.details.get("budget")
    if not budget or r.interval is None:
        return None
    parts = [f"{c['component']} {fmt_value(c['value'])} ({c['source']})" for c in budget.get("components", [])]
    if budget.get("seed_component_missing"):
        parts.append("seed: none declared, so at best INCONCLUSIVE")
    lo, hi = r.interval
    return (
        f"interval [{fmt_value(lo)}, {fmt_value(hi)}]; u = {fmt_value(budget['combined_standard_uncertainty'])} "
        f"{r.unit} (+-{fmt_value(budget['expanded_half_width'])} at 95%): " + "; ".join(parts)
    )


def _findings_line(audit: Audit) -> str:
    """The findings, grouped by status, most severe first."""
    findings = audit.findings
    if not findings:
        return "Findings: 0"
    groups = [
        f"{status} " + ", ".join(c.id for c in findings if c.status == status)
        for status in STATUS_ORDER
        if any(c.status == status for c in findings)
    ]
    return f"Findings: {len(findings)} (" + "; ".join(groups) + ")"


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
        budget = budget_line(row)
        if budget:
            out.append(f"  {'':<16}budget: {budget}")
    sections = (
        ("2. The report's own arithmetic, recomputed from its components", audit.arithmetic),
        ("3. The report's quotes of the paper, against the claims file", audit.quotes),
        ("4. The report's numbers as evidence: granularity (GRIM), statistic, percent vs points", audit.evidence),
    )
    for title, checks in sections:
        out += ["", title]
        for check in checks:
            aspect = f" [{check.aspect}]" if check.aspect else ""
            out.append(f"  {check.status:<20}{check.id}{aspect}: stated {check.stated}")
            out.append(f"  {'':<20}{check.reason}")
    if audit.replication.unchecked:
        out += ["", "5. Not checked"]
        for u in audit.replication.unchecked:
            out.append(f'  "{u.quote}": {u.reason}')
    statuses = status_counts(audit.checks)
    out += [
        "",
        "Verdicts: " + ", ".join(f"{n} {v}" for v, n in audit.verdict_counts().items()),
        "Checks: " + ", ".join(f"{n} {s}" for s, n in statuses.items()),
        _findings_line(audit),
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
            evidence=sorted(audit.evidence, key=lambda c: STATUS_ORDER.index(c.status)),
            budget_line=budget_line,
        )
    )
