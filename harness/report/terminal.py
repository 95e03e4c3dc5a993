"""Text a person reads in the terminal: one verdict per claim, with its provenance and rerun command."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from harness.verdict import ClaimResult, summary


def fmt_value(value: float | None, unit: str = "") -> str:
    """A number as a person reads it: 6 significant digits, with the unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):  # "inf" from JSON
        return value
    text = f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def fmt_interval(interval: Sequence[float] | None) -> str:
    if not interval:
        return ""
    return f" [{fmt_value(interval[0])}, {fmt_value(interval[1])}]"


def outcome_text(result: ClaimResult) -> str:
    """The message a claim's test outcome carries: verdict, numbers, reason, remedy, provenance, rerun."""
    p = result.provenance
    lines = [
        f"{result.verdict}: {result.id}" + (" [REDUCED SCALE]" if result.reduced_scale else ""),
        f"  claimed  {fmt_value(result.claimed, result.unit)} (tolerance {result.tolerance.get('kind')}"
        f" {result.tolerance.get('value', '')}: {result.tolerance.get('rationale', '')})",
        f"  measured {fmt_value(result.measured, result.unit)}{fmt_interval(result.interval)}",
        f"  why: {result.reason}",
    ]
    if result.remedy:
        lines.append(f"  to run it: {result.remedy}")
    if p:
        lines.append(f'  source: {p.get("source")} {p.get("version")}, {p.get("location")}: "{p.get("quote")}"')
    lines.append(f"  rerun: {result.reproduce}")
    return "\n".join(lines)


def terminal_lines(results: Iterable[ClaimResult], verbose: bool = True) -> list[str]:
    """The session summary: a line per claim (plus provenance and rerun command), then the counts."""
    ordered = sorted(results, key=lambda r: r.nodeid)
    out: list[str] = []
    for r in ordered:
        measured = fmt_value(r.measured, r.unit) + fmt_interval(r.interval)
        tag = " [REDUCED SCALE]" if r.reduced_scale else ""
        out.append(f"{r.verdict:<15} {r.id}{tag}: claimed {fmt_value(r.claimed, r.unit)}, measured {measured}")
        if verbose:
            p = r.provenance
            if p:
                quote = str(p.get("quote", ""))
                quote = quote if len(quote) <= 100 else quote[:97] + "..."
                out.append(f'{"":<16}{p.get("source")} {p.get("version")}, {p.get("location")}: "{quote}"')
            out.append(f"{'':<16}why: {r.reason}")
            if r.remedy:
                out.append(f"{'':<16}to run it: {r.remedy}")
            out.append(f"{'':<16}rerun: {r.reproduce}")
    counts = summary(ordered)
    out.append(", ".join(f"{n} {v}" for v, n in counts.items() if n))
    return out
