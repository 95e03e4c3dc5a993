"""How a file says it is a claims file: the header that opts a TOML file in to collection.

Installing the package must change nothing in another project until it opts in, so the pytest plug-in
collects a ``*.toml`` file of a claims directory only when the file identifies itself: a top-level
``schema_version = ...`` key, or both a ``[source]`` table and ``[[claims]]`` records. The check reads the
text, not the TOML, so that a claims file with a syntax error is still collected (and fails with the
loader's message) while an unrelated ``settings.toml`` is left alone. A file that identifies itself but
lacks part of the header (no ``schema_version``, no ``[source]``) is a near miss: the loader names the
missing key.
"""

from __future__ import annotations

import re
from pathlib import Path

SCHEMA_KEY = re.compile(rb"^[ \t]*schema_version[ \t]*=", re.MULTILINE)
SOURCE_TABLE = re.compile(rb"^[ \t]*\[[ \t]*source[ \t]*\]", re.MULTILINE)
CLAIMS_ARRAY = re.compile(rb"^[ \t]*\[\[[ \t]*claims[ \t]*\]\]", re.MULTILINE)
#: what the header of a claims file is, in the words of an error message
HEADER = "a top-level `schema_version = 1` and a [source] table"


def identifies_as_claims_file(path: Path) -> bool:
    """True when the file's text carries a claims header (see the module docstring); unreadable files are not."""
    try:
        text = path.read_bytes()
    except OSError:
        return False
    if SCHEMA_KEY.search(text):
        return True
    return bool(SOURCE_TABLE.search(text) and CLAIMS_ARRAY.search(text))
