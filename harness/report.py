"""The HTML report of a run (and of an audit): one self-contained file a reviewer opens offline.

Everything is inline (CSS, SVG charts; no scripts, no fonts, no network). Templates are jinja2 with
autoescaping on, so every string from a claims file, a replication file or a results file is escaped.
Chart geometry is computed here, so that the templates only draw.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from harness.reporting import fmt_value
from harness.results import ClaimResult, atomic_write_text, read_results, summary
from harness.verdict import SEVERITY

if TYPE_CHECKING:
    from harness.audit import Audit

#: the report's order of verdicts, most severe first (an ERROR means the harness could not judge at all)
ORDER = ("ERROR", *(v.value for v in SEVERITY))
#: a group with more claims than this is split by the second part of its ids (task -> task.model_a, task.model_b)
GROUP_SPLIT = 10
REPORT_NAME = "report.html"


def _num(x: Any) -> float | None:
    """A JSON number (or "inf"/"-inf" string) as a float; None stays None."""
    if x is None:
        return None
    return float(x)


def _pair(x: Sequence[Any] | None) -> tuple[float, float] | None:
    if x is None:
        return None
    lo, hi = (_num(v) for v in x)
    assert lo is not None and hi is not None
    return lo, hi


def tolerance_width(result: ClaimResult) -> float | None:
    """The width a deviation is expressed in: half the band, or for a one-sided bound its margin (else the
    claim's precision); None when the claim has no band."""
    band = _pair(result.band)
    claimed = _num(result.claimed)
    if band is None or claimed is None or math.isnan(claimed):
        return None
    lo, hi = band
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        return (hi - lo) / 2.0
    for candidate in (result.tolerance.get("value"), (result.provenance or {}).get("precision")):
        if isinstance(candidate, (int, float)) and candidate > 0:
            return float(candidate)
    return abs(claimed) * 0.05 or 1.0


def deviation_widths(result: ClaimResult) -> float | None:
    measured, claimed, width = _num(result.measured), _num(result.claimed), tolerance_width(result)
    if measured is None or claimed is None or width is None or math.isnan(measured):
        return None
    return (measured - claimed) / width


def severity_key(result: ClaimResult) -> tuple[int, float, str]:
    """Most severe verdict first; within a verdict, the largest deviation (in widths) first."""
    rank = ORDER.index(result.verdict) if result.verdict in ORDER else len(ORDER)
    dev = deviation_widths(result)
    return rank, -abs(dev) if dev is not None else math.inf, result.id


def group_of(claim_id: str, split: bool) -> str:
    parts = claim_id.split(".")
    return ".".join(parts[:2]) if split and len(parts) > 2 else parts[0]


def groups(ids: Iterable[str]) -> dict[str, str]:
    """claim id -> chart group: the id's first word, or its first two words for a large group."""
    ids = list(ids)
    sizes: dict[str, int] = {}
    for cid in ids:
        sizes[cid.split(".")[0]] = sizes.get(cid.split(".")[0], 0) + 1
    return {cid: group_of(cid, sizes[cid.split(".")[0]] > GROUP_SPLIT) for cid in ids}


# ---------------------------------------------------------------- charts

CHART_WIDTH = 1180
LABEL_X = 8
PLOT_X = 300
PLOT_W = 400
TEXT_X = PLOT_X + PLOT_W + 16
ROW_H = 28
TOP = 34


@attrs.frozen
class ChartRow:
    """One claim drawn on a chart: positions in pixels, normalised to the claim's own tolerance band."""

    label: str
    anchor: str
    verdict: str
    y: float
    band: tuple[float, float]
    claimed_x: float
    measured_x: float | None
    interval: tuple[float, float] | None
    clipped: str  # "", "left" or "right": the measured value is off the chart
    text: str
    smoke: bool


@attrs.frozen
class Chart:
    """A group's chart: its rows and the axis in tolerance widths (-span .. +span)."""

    group: str
    span: int
    rows: tuple[ChartRow, ...]
    ticks: tuple[tuple[float, str], ...]
    height: float
    unmeasured: tuple[str, ...]


def _x(widths: float, span: int) -> float:
    clipped = max(-span, min(span, widths))
    return PLOT_X + (clipped + span) / (2 * span) * PLOT_W


def _span(values: Iterable[float]) -> int:
    need = max((abs(v) for v in values if math.isfinite(v)), default=1.0)
    for span in (2, 4, 8):
        if need <= span:
            return span
    return 8


def chart(group: str, entries: Sequence[tuple[str, ClaimResult]]) -> Chart:
    """The chart of one group; ``entries`` are (label, result). Results without a measured value are listed
    as unmeasured rather than drawn."""
    drawn: list[tuple[str, ClaimResult, float, float]] = []
    unmeasured: list[str] = []
    for label, r in entries:
        width, claimed, measured = tolerance_width(r), _num(r.claimed), _num(r.measured)
        if width is None or claimed is None or measured is None or math.isnan(measured):
            unmeasured.append(label)
            continue
        drawn.append((label, r, width, claimed))
    positions = []
    for _, r, width, claimed in drawn:
        positions.append((_num(r.measured) - claimed) / width)  # type: ignore[operator]
        interval = _pair(r.interval)
        if interval is not None:
            positions += [(interval[0] - claimed) / width, (interval[1] - claimed) / width]
    span = _span(positions)
    rows = []
    for i, (label, r, width, claimed) in enumerate(drawn):
        lo, hi = _pair(r.band)  # type: ignore[misc]
        measured = _num(r.measured)
        assert measured is not None
        pos = (measured - claimed) / width
        interval = _pair(r.interval)
        clipped = "left" if pos < -span else "right" if pos > span else ""
        text = f"{fmt_value(measured, r.unit)} vs {fmt_value(claimed)} ({pos:+.2f} w)"
        rows.append(
            ChartRow(
                label=label,
                anchor=anchor(r.nodeid),
                verdict=r.verdict,
                y=TOP + i * ROW_H + ROW_H / 2,
                band=(_x((lo - claimed) / width, span), _x((hi - claimed) / width, span)),
                claimed_x=_x(0.0, span),
                measured_x=_x(pos, span),
                interval=None
                if interval is None
                else (_x((interval[0] - claimed) / width, span), _x((interval[1] - claimed) / width, span)),
                clipped=clipped,
                text=text,
                smoke=r.smoke,
            )
        )
    ticks = tuple(
        (_x(float(t), span), "claimed" if t == 0 else f"{t:+d} w")
        for t in range(-span, span + 1)
        if span <= 4 or t % 2 == 0
    )
    return Chart(group, span, tuple(rows), ticks, TOP + len(rows) * ROW_H + 10, tuple(unmeasured))


def charts(entries: Sequence[tuple[str, ClaimResult]]) -> list[Chart]:
    by_group: dict[str, list[tuple[str, ClaimResult]]] = {}
    grouping = groups(r.id for _, r in entries)
    for label, r in entries:
        by_group.setdefault(grouping[r.id], []).append((label, r))
    return [chart(g, rows) for g, rows in sorted(by_group.items())]


# ---------------------------------------------------------------- rendering


def anchor(nodeid: str) -> str:
    """An HTML id for a claim (ids and node ids are plain, but anything else becomes '-')."""
    return "claim-" + "".join(c if c.isalnum() or c in "._-" else "-" for c in nodeid)


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


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = lambda value, unit="": fmt_value(_num(value) if isinstance(value, str) else value, unit)
    env.filters["interval"] = lambda x: "" if x is None else f"[{fmt_value(_num(x[0]))}, {fmt_value(_num(x[1]))}]"
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


def render_results(data: Mapping[str, Any], results_path: str = "") -> str:
    """The HTML report of a results file's data (as returned by ``harness.results.read_results``)."""
    results = [ClaimResult.from_dict(r) for r in data["results"]]
    counts = {k: n for k, n in summary(results).items()}
    deviations = sorted((r for r in results if r.verdict != "REPRODUCED"), key=severity_key)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            title="Claims report",
            results_path=results_path,
            command=data.get("command", ""),
            environment=data.get("environment") or {},
            environment_line=_environment(data.get("environment")),
            claims_files=data.get("claims_files") or {},
            counts=counts,
            total=len(results),
            deviations=deviations,
            charts=charts([(r.id, r) for r in results]),
            results=sorted(results, key=lambda r: r.nodeid),
            smoke=sum(1 for r in results if r.smoke),
        )
    )


def write_report(results_path: Path, out: Path | None = None) -> Path:
    """Render the report of a results file (no re-measuring) next to it, or to ``out``."""
    data = read_results(results_path)
    out = out if out is not None else results_path.parent / REPORT_NAME
    atomic_write_text(out, render_results(data, str(results_path)))
    return out


def render_audit(audit: Audit) -> str:
    """The HTML page of an audit: the report's numbers, the paper's and this harness's side by side."""
    from harness.audit import STATUS_ORDER

    rows = sorted(audit.rows, key=lambda row: severity_key(row.result))
    status_counts = {s: sum(1 for c in audit.checks if c.status == s) for s in STATUS_ORDER}
    return (
        _env()
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
