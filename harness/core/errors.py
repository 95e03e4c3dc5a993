"""The harness's own errors: each says what, where, why, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def did_you_mean(found: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' hint for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(found, sorted(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


class HarnessError(Exception):
    """Base class: an error the harness explains itself (never shown as an internal traceback)."""


class ClaimError(HarnessError):
    """A claims file or record is malformed.

    The message names the file, the claim id, the field, what was expected, what was found and the fix.
    """

    #: what a record of this kind of file is called in the message
    noun = "claim"

    def __init__(
        self,
        path: str,
        claim_id: str | None,
        field: str | None,
        expected: str,
        found: str,
        fix: str,
    ) -> None:
        self.path = path
        self.claim_id = claim_id
        self.field = field
        self.expected = expected
        self.found = found
        self.fix = fix
        where = path
        if claim_id is not None:
            where += f": {self.noun} {claim_id!r}"
        if field is not None:
            where += f": field {field!r}"
        super().__init__(f"{where}: expected {expected}; found {found}. Fix: {fix}")


class NotRunError(HarnessError):
    """A measurement cannot run here: a resource (weights, data, a device) is missing.

    ``remedy`` says exactly what to supply and how (an option, a path, a command). ``needs`` names the missing
    resources one by one ("checkpoint <hub id>", "data <task>" -> how to supply that one), so that a report
    can say "supply these 3 checkpoints and 9 data sets" once instead of repeating every remedy.
    """

    def __init__(self, reason: str, remedy: str, needs: Mapping[str, str] | None = None) -> None:
        self.reason = reason
        self.remedy = remedy
        self.needs = dict(needs or {})
        super().__init__(f"{reason}. To run it: {remedy}")


class MeasurementError(HarnessError):
    """A measurement ran and failed for a reason the user can act on (corrupt cache, full disk ...)."""
