"""Cross-file references: a formula naming ``other_file::claim.id``, a claim of another claims file.

A paper often quotes another paper's numbers ("60% of BERT's parameters", BERT's GLUE scores). Rather than copy
those claims, a formula refers to them where they are encoded: ``other_file`` is the stem of a claims file in
the same directory as the referring one (``claims/bert.toml`` is ``bert``), ``claim.id`` one of its valid
claims. The referenced claim keeps its own provenance (its file, ``[source]``, quote, location and version) and
is measured as its own file measures it (its models, workloads and recipes); in the referring file it is a
component with a stated value and a unit, never one of its own claims (it gets no test item there).

Checked when the referring file loads, each problem a ``ClaimError`` on the referring claim's ``formula``: the
file must exist and load, the id must be one of its valid claims (a did-you-mean otherwise), and references
must not form a cycle of files.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import ClaimError, did_you_mean
from harness.spec.records import Claim, ClaimsFile

SEPARATOR = "::"
#: the files being loaded in this chain of references (a file that refers back to one of them is a cycle)
_LOADING: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("claims_references", default=())


def guard_cycles(load: Callable[[Any], ClaimsFile]) -> Callable[[Any], ClaimsFile]:
    """Wrap the loader: the file is marked as being loaded while it loads (a reference back to it is a cycle)."""

    @functools.wraps(load)
    def guarded(path: Any) -> ClaimsFile:
        token = _LOADING.set((*_LOADING.get(), Path(path).resolve()))
        try:
            return load(path)
        finally:
            _LOADING.reset(token)

    return guarded


def cross_file_names(claims: dict[str, Claim]) -> dict[str, list[str]]:
    """Each ``stem::id`` a formula of ``claims`` names, with the ids of the claims naming it."""
    out: dict[str, list[str]] = {}
    for cid, claim in claims.items():
        for name in claim.formula.names if claim.formula else ():
            if SEPARATOR in name:
                out.setdefault(name, []).append(cid)
    return out


def resolve(
    path: str,
    claims: dict[str, Claim],
    errors: dict[str, ClaimError],
    load: Callable[[Path], ClaimsFile],
) -> tuple[dict[str, Claim], dict[str, ClaimsFile]]:
    """The referenced claims (``stem::id`` -> the claim, as a stated component: no formula or measure of its own
    here) and the files they come from (stem -> file); each claim whose reference fails gets its error."""
    directory = Path(path).parent
    files: dict[str, ClaimsFile | ClaimError] = {}
    found: dict[str, Claim] = {}

    def fail(cid: str, expected: str, got: str, fix: str) -> None:
        errors.setdefault(cid, ClaimError(path, cid, "formula", expected, got, fix))

    for name, users in cross_file_names(claims).items():
        stem, _, claim_id = name.partition(SEPARATOR)
        target = directory / f"{stem}.toml"
        if stem not in files:
            files[stem] = _load_referenced(path, target, stem, load)
        other = files[stem]
        if isinstance(other, ClaimError):
            for cid in users:
                errors.setdefault(cid, ClaimError(path, cid, other.field, other.expected, other.found, other.fix))
            continue
        ids = [c.id for c in other.claims]
        if claim_id not in ids:
            broken = next((r for r in other.invalid if r.name == claim_id), None)
            for cid in users:
                if broken is not None:
                    fail(
                        cid,
                        f"a valid claim of {target}",
                        f"{name}, which is invalid there: {broken.error.found}",
                        f"fix {claim_id} in {target} (see its own error)",
                    )
                else:
                    fail(
                        cid,
                        f"the id of a claim of {target}",
                        f"{name}: {target} has no claim {claim_id!r}",
                        "correct the id." + did_you_mean(claim_id, ids),
                    )
            continue
        found[name] = attrs.evolve(other.claim(claim_id), formula=None, measure=None)
    return found, {stem: f for stem, f in files.items() if isinstance(f, ClaimsFile)}


def _load_referenced(path: str, target: Path, stem: str, load: Callable[[Path], ClaimsFile]) -> Any:
    """The referenced file, loaded, or the ``ClaimError`` that says why it cannot be used."""

    def error(expected: str, got: str, fix: str) -> ClaimError:
        return ClaimError(path, None, "formula", expected, got, fix)

    if not target.is_file():
        siblings = sorted(p.stem for p in target.parent.glob("*.toml"))
        return error(
            f"a claims file {target} (a reference `{stem}::<claim id>` names a file of this directory by its stem)",
            "no such file",
            "put the referenced claims file next to this one, or correct the stem." + did_you_mean(stem, siblings),
        )
    if target.resolve() in _LOADING.get() or target.resolve() == Path(path).resolve():
        return error(
            "references that do not lead back to this file",
            f"a cycle through {target}",
            "refer in one direction only: copy the stated value into one of the files instead",
        )
    other = load(target)
    broken = [r for r in other.invalid if r.name == "<file>"]
    if broken:
        return error(f"a loadable claims file {target}", str(broken[0].error), f"fix {target}")
    return other
