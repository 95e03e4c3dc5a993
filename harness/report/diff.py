"""Comparing two runs: what changed in the verdicts, the measured values and the claims themselves.

Each results file carries every claim's claimed value, band and tolerance and the claims file's hash, so a
tolerance loosened (or a claimed value edited) between two runs shows up here next to the verdict it changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from harness.report.ordering import tolerance_width
from harness.report.terminal import fmt_value
from harness.verdict import ClaimResult

#: kinds of change, in the order they are shown; every kind counts as a difference
KINDS = ("claims_file", "claim", "rationale", "verdict", "value", "conditions", "evidence", "added", "removed")
#: evidence keys that say how this run got there, not what it rests on (not differences)
VOLATILE_EVIDENCE = ("trained_this_run",)
_CLAIM_FIELDS = (("claimed", "claimed value"), ("unit", "unit"), ("conditions_claimed", "conditions"))
_PROVENANCE_FIELDS = ("quote", "location", "version", "formula")


@attrs.frozen
class Change:
    """One difference between the runs: its kind, the claim (or claims file) and what changed."""

    kind: str
    id: str
    text: str


@attrs.frozen
class Diff:
    """The differences between an old and a new results file."""

    old: str
    new: str
    changes: tuple[Change, ...]
    unchanged: int
    within_tolerance: tuple[str, ...] = ()
    context: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        return bool(self.changes)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _band(r: ClaimResult) -> tuple[float, float] | None:
    return None if r.band is None else (float(r.band[0]), float(r.band[1]))


def _band_text(band: tuple[float, float] | None) -> str:
    return "none" if band is None else f"[{fmt_value(band[0])}, {fmt_value(band[1])}]"


def _tolerance_text(r: ClaimResult) -> str:
    t = r.tolerance or {}
    return f"{t.get('kind')} {t.get('value')}" if t else "none"


def _direction(old: tuple[float, float] | None, new: tuple[float, float] | None) -> str:
    if old is None or new is None:
        return "changed"
    if new[0] <= old[0] and new[1] >= old[1]:
        return "LOOSENED"
    if new[0] >= old[0] and new[1] <= old[1]:
        return "tightened"
    return "moved"


def _claim_changes(cid: str, old: ClaimResult, new: ClaimResult, file_note: str) -> list[Change]:
    out: list[Change] = []
    if old.verdict == "ERROR" or new.verdict == "ERROR":
        return out  # an ERROR result records no claim definition to compare
    for field, label in _CLAIM_FIELDS:
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            out.append(Change("claim", cid, f"{label} {a!r} -> {b!r}{file_note}"))
    rationale_old, rationale_new = (old.tolerance or {}).get("rationale"), (new.tolerance or {}).get("rationale")
    same_width = {k: v for k, v in (old.tolerance or {}).items() if k != "rationale"} == {
        k: v for k, v in (new.tolerance or {}).items() if k != "rationale"
    }
    if same_width and _band(old) == _band(new):
        if rationale_old != rationale_new:
            out.append(
                Change(
                    "rationale",
                    cid,
                    f"tolerance rationale {rationale_old!r} -> {rationale_new!r} (band unchanged){file_note}",
                )
            )
    else:
        direction = _direction(_band(old), _band(new))
        text = (
            f"tolerance {_tolerance_text(old)} -> {_tolerance_text(new)}, band {_band_text(_band(old))} -> "
            f"{_band_text(_band(new))}: {direction}"
        )
        if rationale_old != rationale_new:
            text += f"; rationale {rationale_old!r} -> {rationale_new!r}"
        out.append(Change("claim", cid, text + file_note))
    for key in _PROVENANCE_FIELDS:
        a, b = (old.provenance or {}).get(key), (new.provenance or {}).get(key)
        if a != b:
            out.append(Change("claim", cid, f"{key} {a!r} -> {b!r}{file_note}"))
    return out


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested table as {"a.b": leaf}, so that a change deep in the evidence is named by its path."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _measured_changes(cid: str, old: ClaimResult, new: ClaimResult) -> list[Change]:
    """What the measurement rests on: the conditions it ran under (cpu -> cuda, synthetic -> real data)
    and its evidence (checkpoint, data, config, cache entries, hashes and paths)."""
    out: list[Change] = []
    ca, cb = dict(old.conditions_measured or {}), dict(new.conditions_measured or {})
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            out.append(Change("conditions", cid, f"measured under {key} {ca.get(key)!r} -> {cb.get(key)!r}"))
    ea, eb = _flat(old.evidence or {}), _flat(new.evidence or {})
    for key in sorted(set(ea) | set(eb)):
        if key == "smoke" or key.split(".")[-1] in VOLATILE_EVIDENCE or (key == "path" and old.smoke != new.smoke):
            continue  # smoke -> real is its own change (with the new path), below
        if ea.get(key) != eb.get(key):
            out.append(Change("evidence", cid, f"evidence {key}: {ea.get(key)!r} -> {eb.get(key)!r}"))
    return out


def _value_change(cid: str, old: ClaimResult, new: ClaimResult) -> Change | None | str:
    """A Change for a value that moved beyond the tolerance; the id (a str) for one that moved within it."""
    a, b = _num(old.measured), _num(new.measured)
    if a is None and b is None:
        return None
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        if (a is None) != (b is None):
            return Change("value", cid, f"measured {fmt_value(a, old.unit)} -> {fmt_value(b, new.unit)}")
        return None
    if a == b:
        return None
    width = tolerance_width(new) or tolerance_width(old)
    delta = b - a
    if width is None:
        return Change(
            "value",
            cid,
            f"measured {fmt_value(a, old.unit)} -> {fmt_value(b, new.unit)} (no band to judge the change by)",
        )
    if abs(delta) <= width:
        return cid
    return Change(
        "value",
        cid,
        f"measured {fmt_value(a, old.unit)} -> {fmt_value(b, new.unit)} "
        f"({delta:+.4g} {new.unit}, {delta / width:+.2f} tolerance widths)",
    )


def _file_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[Change], dict[str, str]]:
    """Claims files whose content changed, and a note per path to append to each claim change."""
    changes: list[Change] = []
    notes: dict[str, str] = {}
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a is None or b is None:
            changes.append(Change("claims_file", path, "only in the new run" if a is None else "only in the old run"))
            continue
        if a.get("sha256") != b.get("sha256"):
            commits = f"commit {str(a.get('commit'))[:12]} -> {str(b.get('commit'))[:12]}"
            dirty = " (the new one has uncommitted changes)" if b.get("dirty") else ""
            changes.append(
                Change(
                    "claims_file",
                    path,
                    f"content changed between the runs: sha256 "
                    f"{str(a.get('sha256'))[:12]} -> {str(b.get('sha256'))[:12]}, "
                    f"{commits}{dirty}",
                )
            )
            notes[path] = f" [{path} changed between the runs]"
    return changes, notes


def _context(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Differences of environment and command: shown for context, not counted as differences."""
    out = []
    if old.get("command") != new.get("command"):
        out.append(f"command: {old.get('command')!r} -> {new.get('command')!r}")
    env_a, env_b = old.get("environment") or {}, new.get("environment") or {}
    for key in ("cpu_model", "cpu_count", "torch_threads", "gpu", "python", "platform"):
        if env_a.get(key) != env_b.get(key):
            out.append(f"{key}: {env_a.get(key)!r} -> {env_b.get(key)!r}")
    va, vb = env_a.get("versions") or {}, env_b.get("versions") or {}
    for key in sorted(set(va) | set(vb)):
        if va.get(key) != vb.get(key):
            out.append(f"{key}: {va.get(key)} -> {vb.get(key)}")
    return out


def diff(old: Mapping[str, Any], new: Mapping[str, Any], old_path: str = "OLD", new_path: str = "NEW") -> Diff:
    """The differences between two results files' data (``harness.report.results.read_results``)."""

    def index(data: Mapping[str, Any]) -> dict[str, ClaimResult]:
        out = {}
        for raw in data["results"]:
            r = ClaimResult.from_dict(raw)
            out[f"{r.claims_file}::{r.id}" if r.claims_file else r.id] = r
        return out

    a, b = index(old), index(new)
    changes, notes = _file_changes(old.get("claims_files") or {}, new.get("claims_files") or {})
    within: list[str] = []
    unchanged = 0
    for key in sorted(set(a) | set(b)):
        if key not in a:
            changes.append(Change("added", b[key].id, f"new claim: {b[key].verdict}"))
            continue
        if key not in b:
            changes.append(Change("removed", a[key].id, f"no longer in the run (was {a[key].verdict})"))
            continue
        ro, rn = a[key], b[key]
        found = _claim_changes(rn.id, ro, rn, notes.get(rn.claims_file, ""))
        if ro.verdict != rn.verdict:
            found.append(Change("verdict", rn.id, f"{ro.verdict} -> {rn.verdict}: {rn.reason}"))
        value = _value_change(rn.id, ro, rn)
        if isinstance(value, Change):
            found.append(value)
        elif isinstance(value, str):
            within.append(value)
        found += _measured_changes(rn.id, ro, rn)
        if ro.smoke != rn.smoke:
            found.append(
                Change(
                    "evidence",
                    rn.id,
                    f"{'smoke' if ro.smoke else 'real'} -> "
                    f"{'smoke' if rn.smoke else 'real'} evidence "
                    f"({(rn.evidence or {}).get('path', '-')})",
                )
            )
        changes += found
        unchanged += not found
    changes.sort(key=lambda c: KINDS.index(c.kind))
    return Diff(old_path, new_path, tuple(changes), unchanged, tuple(within), tuple(_context(old, new)))


def text_lines(d: Diff) -> list[str]:
    """The diff as a person reads it in the terminal."""
    titles = {
        "claims_file": "Claims files",
        "claim": "Claims edited between the runs (claimed value, tolerance, quote ...)",
        "rationale": "Tolerance rationales edited (the band is unchanged)",
        "conditions": "Measured under other conditions (device, data, workload ...)",
        "verdict": "Verdict changes",
        "value": "Measured values that moved by more than the tolerance",
        "evidence": "Evidence changes",
        "added": "Claims only in the new run",
        "removed": "Claims only in the old run",
    }
    out = [f"harness diff {d.old} -> {d.new}"]
    for kind in KINDS:
        rows = [c for c in d.changes if c.kind == kind]
        if rows:
            out += ["", f"{titles[kind]}:"]
            out += [f"  {c.id}: {c.text}" for c in rows]
    if d.within_tolerance:
        out += [
            "",
            f"{len(d.within_tolerance)} measured values moved within their tolerance (not differences): "
            + ", ".join(d.within_tolerance),
        ]
    if d.context:
        out += ["", "Context (not counted as differences):"] + [f"  {line}" for line in d.context]
    out += ["", f"{len(d.changes)} difference{'s' if len(d.changes) != 1 else ''}; {d.unchanged} claims unchanged."]
    return out
