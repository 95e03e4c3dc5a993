"""Where a record starts in its claims file: the line of the ``[[claims]]`` header above its ``id``.

pytest reports every item at a (file, line); a claim item's line is found by scanning the file's text for
the record's ``id = "..."`` and going back to the ``[[claims]]`` header that opens it.
"""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^\s*\[\[\s*claims\s*\]\]")


def _id_line(claim_id: str) -> re.Pattern[str]:
    quoted = re.escape(claim_id)
    return re.compile(rf"""^\s*id\s*=\s*(?:"{quoted}"|'{quoted}')\s*(?:#.*)?$""")


def record_line(text: str, claim_id: str) -> int | None:
    """The 0-based line of the ``[[claims]]`` header of the record whose id is ``claim_id`` (its ``id``
    line when no header precedes it), or None when the id is not written on a line of its own."""
    lines = text.splitlines()
    pattern = _id_line(claim_id)
    for number, line in enumerate(lines):
        if pattern.match(line):
            for back in range(number, -1, -1):
                if _HEADER.match(lines[back]):
                    return back
            return number
    return None


def file_record_line(path: Path, claim_id: str) -> int:
    """``record_line`` for a file on disk; 0 (the file's first line) when it cannot be read or found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    found = record_line(text, claim_id)
    return 0 if found is None else found
