"""Chart geometry for the report: one row per claim, the band and the interval in units of the tolerance width."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs

from harness.report.ordering import anchor, as_number, as_pair, groups, tolerance_width
from harness.report.terminal import fmt_value
from harness.verdict import ClaimResult

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
    #: for a clipped value, the label of the arrow at the edge: the value and its distance in widths
    offscale: str
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
        width, claimed, measured = tolerance_width(r), as_number(r.claimed), as_number(r.measured)
        if r.verdict == "ERROR" or width is None or claimed is None or measured is None or not math.isfinite(measured):
            unmeasured.append(label)
            continue
        drawn.append((label, r, width, claimed))
    positions = []
    for _, r, width, claimed in drawn:
        positions.append((as_number(r.measured) - claimed) / width)  # type: ignore[operator]
        interval = as_pair(r.interval)
        if interval is not None:
            positions += [(interval[0] - claimed) / width, (interval[1] - claimed) / width]
    span = _span(positions)
    rows = []
    for i, (label, r, width, claimed) in enumerate(drawn):
        lo, hi = as_pair(r.band)  # type: ignore[misc]
        measured = as_number(r.measured)
        assert measured is not None
        pos = (measured - claimed) / width
        interval = as_pair(r.interval)
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
                offscale=f"{fmt_value(measured, r.unit)} ({pos:+.1f} w)" if clipped else "",
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
