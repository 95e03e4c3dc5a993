"""The ML layer's one error: a value it was given (a config field, a counting pattern, a convention) is wrong.

The ML layer knows nothing of claims files, so it cannot say which file and claim a value came from. A
``FieldError`` carries the rest of a good message (field, expected, found, fix); a caller that knows the
file and claim re-raises it with ``to_claim_error`` so that the user sees where to fix it.
"""

from __future__ import annotations

from harness.core.errors import ClaimError, HarnessError


class FieldError(HarnessError):
    """``field`` was given ``found`` where ``expected`` was required; ``fix`` says what to write instead."""

    def __init__(self, field: str, expected: str, found: str, fix: str) -> None:
        self.field = field
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(f"field {field!r}: expected {expected}; found {found}. Fix: {fix}")

    def to_claim_error(self, path: str, claim_id: str | None, prefix: str = "") -> ClaimError:
        """The same error located in a claims file: ``prefix`` is the field's table, e.g. ``models.bert.config.``."""
        return ClaimError(path, claim_id, prefix + self.field, self.expected, self.found, self.fix)


def require_positive_int(field: str, value: object) -> int:
    """``value`` when it is a whole number >= 1 (``true`` is not); a ``FieldError`` naming ``field`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FieldError(field, "a positive integer", repr(value), f"write {field} as a whole number >= 1")
    return value
