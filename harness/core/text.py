"""Text shown in a terminal: strings from claims and results files are escaped before they are printed.

A claims file, a results file or a replication file is data anyone may have written. A quote holding
``\\x1b[2K\\r`` followed by a green ``REPRODUCED`` would erase and repaint the verdict line it is printed on;
``printable`` writes every control character (C0 except newline and tab, DEL, C1) and every bidirectional
override as a visible escape instead, so the terminal shows what the file says, not what it commands.
"""

from __future__ import annotations

import re

#: C0 controls except \t and \n, DEL, C1 controls, and the Unicode bidi embeddings/overrides/isolates
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: the same, and newline and tab too: for text that must stay on one line (a test item's name)
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, one_line: bool = False) -> str:
    """``text`` (made a string) with control characters shown as ``\\xNN`` / ``\\uNNNN`` escapes; newlines and
    tabs are kept unless ``one_line``."""
    return (_NOT_ONE_LINE if one_line else _UNPRINTABLE).sub(_escape, str(text))
