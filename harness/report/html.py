"""The HTML report of a run: one self-contained file a reviewer opens offline.

Everything is inline (CSS, SVG charts, one small script that sorts and filters the deviations table; no
fonts, no network; without scripts the page is the same, static). Templates are jinja2 with autoescaping
on, so every string from a claims file, a replication file or a results file is escaped. The page opens
with the headline claims (``harness.report.overview``), then what holds and what does not, then what was
not run grouped by what is missing (``harness.report.missing``). Chart geometry is computed in
harness.report.charts, so that the templates only draw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.core.files import atomic_write_text
from harness.report.charts import CHART_WIDTH, LABEL_X, PLOT_W, PLOT_X, ROW_H, TEXT_X, TOP, charts
from harness.report.missing import missing
from harness.report.ordering import ORDER, anchor, as_number, deviation_widths, severity_key, tolerance_width
from harness.report.overview import headline, overview
from harness.report.results import read_results
from harness.report.runs import DIFF_NAME, describe_partial
from harness.report.terminal import fmt_value
from harness.verdict import ClaimResult, summary

REPORT_NAME = "report.html"


def _environment(env: Mapping[str, Any] | None) -> str:
    if not env:
        return "not recorded"
    versions = env.get("versions") or {}
    parts = [
        env.get("cpu_model"),
        f"{env.get('cpu_count')} CPUs" if env.get("cpu_count") else None,
        f"torch threads {env['torch_threads']}" if env.get("torch_threads") else None,
        f"GPU {env['gpu']}" if env.get("gpu") else None,
        f"Python {env.get('python')}",
        ", ".join(f"{k} {v}" for k, v in versions.items() if v),
    ]
    return "; ".join(str(p) for p in parts if p)


def template_env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = lambda value, unit="": fmt_value(as_number(value) if isinstance(value, str) else value, unit)
    env.filters["interval"] = lambda x: (
        "" if x is None else f"[{fmt_value(as_number(x[0]))}, {fmt_value(as_number(x[1]))}]"
    )
    env.filters["widths"] = lambda x: "-" if x is None else f"{x:+.2f}"
    env.filters["pretty"] = lambda x: json.dumps(x, indent=1, ensure_ascii=False, default=str)
    env.globals.update(
        ORDER=ORDER,
        anchor=anchor,
        width=tolerance_width,
        deviation_widths=deviation_widths,
        CHART_WIDTH=CHART_WIDTH,
        PLOT_X=PLOT_X,
        PLOT_W=PLOT_W,
        TEXT_X=TEXT_X,
        LABEL_X=LABEL_X,
        ROW_H=ROW_H,
        TOP=TOP,
        isinstance=isinstance,
        Mapping=Mapping,
        list=list,
        tuple=tuple,
    )
    return env


def render_results(data: Mapping[str, Any], results_path: str = "", previous_diff: str = "") -> str:
    """The HTML report of a results file's data (as returned by ``harness.report.results.read_results``);
    ``previous_diff``: the relative link to the diff against the previous run, if there is one."""
    results = [ClaimResult.from_dict(r) for r in data["results"]]
    counts = {k: n for k, n in summary(results).items()}
    harness_counts = {k: n for k, n in summary(results, derived_by="harness").items() if n}
    deviations = sorted((r for r in results if r.verdict != "REPRODUCED"), key=severity_key)
    run = data.get("run") or {}
    partial = describe_partial(run)
    return (
        template_env()
        .get_template("report.html.j2")
        .render(
            title=f"Claims report: {partial}" if partial else "Claims report",
            partial=partial,
            run_id=run.get("id", ""),
            run_started=run.get("started", ""),
            run_finished=run.get("finished", ""),
            source_title=_source_title(results),
            results_path=results_path,
            run=data.get("run") or {},
            previous_diff=previous_diff,
            headline=headline(results),
            overview=overview(results),
            missing=missing(results),
            command=data.get("command", ""),
            environment=data.get("environment") or {},
            environment_line=_environment(data.get("environment")),
            claims_files=data.get("claims_files") or {},
            counts=counts,
            harness_counts=harness_counts,
            harness_total=sum(harness_counts.values()),
            total=len(results),
            deviations=deviations,
            charts=charts([(r.id, r) for r in results]),
            results=sorted(results, key=lambda r: r.nodeid),
            smoke=sum(1 for r in results if r.smoke),
        )
    )


def _source_title(results: list[ClaimResult]) -> str:
    titles = {str((r.provenance or {}).get("title") or "") for r in results} - {""}
    return titles.pop() if len(titles) == 1 else ""


def write_report(results_path: Path, out: Path | None = None) -> Path:
    """Render the report of a results file (no re-measuring) next to it, or to ``out``; it links the diff
    against the previous run when ``diff-vs-previous.txt`` lies next to the results file."""
    data = read_results(results_path)
    out = out if out is not None else results_path.parent / REPORT_NAME
    diff = results_path.parent / DIFF_NAME
    link = ""
    if diff.is_file():
        link = DIFF_NAME if diff.parent.resolve() == out.parent.resolve() else str(diff.resolve())
    atomic_write_text(out, render_results(data, str(results_path), link))
    return out
