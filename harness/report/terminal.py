"""Text a person reads in the terminal: one line per claim, grouped by verdict; details under ``-v``..

Every string here may come from a claims or results file, so every line is passed through
``harness.core.text.printable``: a quote cannot carry escape sequences that repaint a verdict line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from harness.core.text import printable
from harness.report.missing import Missing, missing
from harness.report.ordering import ORDER
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
        f"{result.verdict}: {result.id}{verdict_tags(result)}",
        f"  claimed  {fmt_value(result.claimed, result.unit)} (tolerance {result.tolerance.get('kind')}"
        f" {result.tolerance.get('value', '')}: {result.tolerance.get('rationale', '')})",
        f"  measured {fmt_value(result.measured, result.unit)}{fmt_interval(result.interval)}",
        f"  why: {result.reason}",
        *(f"  {line}" for line in budget_lines(result)),
    ]
    if result.remedy:
        lines.append(f"  to run it: {result.remedy}")
    if p:
        lines.append(f'  source: {p.get("source")} {p.get("version")}, {p.get("location")}: "{p.get("quote")}"')
    lines.append(f"  rerun: {result.reproduce}")
    return "\n".join(printable(line) for line in lines)


def budget_lines(result: ClaimResult) -> list[str]:
    """The result's uncertainty budget (one line per component) and its power line, when it has them."""
    budget = result.details.get("budget")
    out: list[str] = []
    if isinstance(budget, dict):
        dof = budget.get("effective_dof")
        out.append(
            f"budget: u_c {fmt_value(budget.get('combined_standard_uncertainty'), result.unit)}, "
            f"k {budget.get('coverage_factor', math.nan):.3g}"
            + (f" (dof {dof:.3g})" if isinstance(dof, (int, float)) else "")
            + f", interval +-{fmt_value(budget.get('expanded_half_width'))}"
        )
        for c in budget.get("components", []):
            out.append(f"  {c['component']} (type {c['kind']}): {fmt_value(c['value'], result.unit)} - {c['source']}")
    power = result.details.get("power")
    if isinstance(power, dict) and power.get("line"):
        out.append(f"power: {power['line']}")
    familywise = result.details.get("familywise")
    if isinstance(familywise, dict):
        out.append(f"family-wise {familywise['method']}: interval level {familywise['level']:.4%}")
    return out


def _order(result: ClaimResult) -> tuple[int, str]:
    return (ORDER.index(result.verdict) if result.verdict in ORDER else len(ORDER)), result.nodeid


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def terminal_lines(results: Iterable[ClaimResult], verbose: bool = False, width: int = 120) -> list[str]:
    """The session summary, grouped by verdict (most severe first): one line per claim (verdict, id, claimed,
    measured [interval], its reason cut to ``width``), or under ``verbose`` also its provenance, remedy and
    rerun command; then the counts."""
    ordered = sorted(results, key=_order)
    out: list[str] = []
    needed = missing(ordered)
    folded = set() if verbose else _folded(needed)
    shown_folded = False
    for r in ordered:
        if r.id in folded:
            if not shown_folded:  # the shared lines stand where the first of their claims would
                out.extend(not_run_lines(needed, ordered, width))
                shown_folded = True
            continue
        measured = fmt_value(r.measured, r.unit) + fmt_interval(r.interval)
        head = f"{r.verdict:<15} {r.id}: claimed {fmt_value(r.claimed, r.unit)}"
        if r.measured is not None or verbose:
            head += f", measured {measured}"
        head += verdict_tags(r)
        if not verbose:
            out.append(_fit(f"{head}; {r.reason}", max(width, len(head) + 20)))
            continue
        out.append(head)
        p = r.provenance
        if p:
            quote = str(p.get("quote", ""))
            quote = quote if len(quote) <= 100 else quote[:97] + "..."
            out.append(f'{"":<16}{p.get("source")} {p.get("version")}, {p.get("location")}: "{quote}"')
        out.append(f"{'':<16}why: {r.reason}")
        out.extend(f"{'':<16}{line}" for line in budget_lines(r))
        if r.remedy:
            out.append(f"{'':<16}to run it: {r.remedy}")
        out.append(f"{'':<16}rerun: {r.reproduce}")
    if folded:
        out.append("not run: claims that need the same thing share a line (-v: every claim, with its remedy)")
    counts = summary(ordered)
    out.append("claims: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n))
    harness = summary(ordered, derived_by="harness")
    if any(harness.values()):
        shown = ", ".join(f"{n} {v}" for v, n in harness.items() if n)
        out.append(
            "harness-derived claims (numbers the paper does not print: the harness's own arithmetic or an "
            f"outside fact; not in the tally above): {shown}"
        )
    return [printable(line) for line in out]


def compact_ids(ids: Iterable[str]) -> str:
    """``a.x.one, a.x.two, b.y`` -> ``a.x.{one,two}, b.y``: ids that share all but their last part, once."""
    groups: dict[str, list[str]] = {}
    for cid in ids:
        prefix, _, last = cid.rpartition(".")
        groups.setdefault(prefix, []).append(last)
    return ", ".join(
        (f"{p}." if p else "") + (tails[0] if len(tails) == 1 else "{" + ",".join(tails) + "}")
        for p, tails in groups.items()
    )


def _folded(needed: Missing) -> set[str]:
    """The NOT_RUN claims shown on a shared line: those a resource list covers, and groups of 2+ by remedy."""
    ids = set(needed.resource_claims)
    for group in needed.groups:
        if len(group.claims) > 1:
            ids.update(group.claims)
    return ids


def not_run_lines(needed: Missing, ordered: Sequence[ClaimResult], width: int) -> list[str]:
    """The NOT_RUN claims by what is missing: the checkpoints and data sets with the fetch command, then each
    remedy shared by 2+ claims once; the ids under it compacted (``glue.elmo.{cola,mnli}``)."""
    lead = f"{'NOT_RUN':<15} "
    out: list[str] = []
    if needed.resource_claims:
        by_id = {r.id: r for r in ordered}
        files = sorted({by_id[c].nodeid.split("::", 1)[0] for c in needed.resource_claims})
        what = needed.headline().removeprefix("supply these ").rsplit(" to run ", 1)[0]
        k = len(needed.resource_claims)
        out.append(_fit(f"{lead}{k} claims: python -m harness fetch {' '.join(files)} (needs {what})", width))
        out.append(_fit(f"{'':<16}{compact_ids(needed.resource_claims)}", width))
    for group in needed.groups:
        if len(group.claims) < 2:
            continue
        more = f" (and {len(group.reasons) - 1} other reasons)" if len(group.reasons) > 1 else ""
        out.append(_fit(f"{lead}{len(group.claims)} claims: {group.reasons[0]}{more}", width))
        out.append(_fit(f"{'':<16}{compact_ids(group.claims)}", width))
    return out


def verdict_tags(result: ClaimResult) -> str:
    """The tags a verdict line carries: what kind of evidence it rests on, and whose claim it is."""
    tags = [
        tag
        for tag, on in (
            ("[SMOKE]", result.smoke),
            ("[SYNTHETIC]", result.synthetic),
            ("[REDUCED SCALE]", result.reduced_scale),
            ("[HARNESS-DERIVED]", result.derived_by == "harness"),
        )
        if on
    ]
    return (" " + " ".join(tags)) if tags else ""
