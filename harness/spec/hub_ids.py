"""The grammar of a Hugging Face repository id, which a claims file names checkpoints by.

A checkpoint is looked up as ``<--claims-models-dir>/<hub id>``, so the id is also a path: ``../x``, ``/etc``,
``a\\b`` or an id ending in a newline must never reach the file system. An id is ``name`` or ``org/name``;
each part holds letters, digits, ``-``, ``_`` and ``.``, does not start or end with ``-`` or ``.``, and the
id has no ``--`` or ``..`` and at most 96 characters (the Hub's own rule, ``huggingface_hub.validate_repo_id``).
"""

from __future__ import annotations

import re

MAX_LENGTH = 96
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
HUB_ID_PATTERN = re.compile(rf"\A{_PART}(?:/{_PART})?\Z")
EXPECTED = (
    "a Hugging Face repository id, 'name' or 'org/name' (letters, digits, '-', '_', '.'; "
    f"no '..' or '--', no leading '/', at most {MAX_LENGTH} characters)"
)


def hub_id_problem(value: str) -> str | None:
    """Why ``value`` is not a repository id, or None when it is one."""
    if len(value) > MAX_LENGTH:
        return f"{len(value)} characters"
    if ".." in value or "--" in value:
        return "'..' or '--' in it"
    if not HUB_ID_PATTERN.fullmatch(value):
        return "a character or a form outside the grammar"
    return None
