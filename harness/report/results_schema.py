"""The shape of a results file, checked before ``report``, ``diff`` or ``audit --results`` reads one.

One function, ``check``, walks the parsed JSON and raises ``ResultsFileError`` at the first field of the
wrong shape, naming the file and the field as a JSON path (``results[3].interval``), what was expected,
what was found and the fix. Nesting is bounded (``MAX_DEPTH``), so a hostile file cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.core.errors import ClaimError

MAX_DEPTH = 500
RESULTS_SCHEMA = 1
VERDICTS = ("REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE", "NOT_COMPARABLE", "NOT_RUN", "INCONSISTENT", "ERROR")
FIX = "regenerate it with `pytest -m claims` (a results file is written by the harness, not by hand)"


class ResultsFileError(ClaimError, ValueError):
    """A results file of the wrong shape: the message names the file and the field (a JSON path)."""

    noun = "result"

    def __init__(self, path: str, field: str | None, expected: str, found: str, fix: str = FIX) -> None:
        super().__init__(path, None, field, expected, found, fix)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"a number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string {shown!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"a table of {len(value)} keys"
    return type(value).__name__


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or v in ("inf", "-inf")


def _number_or_null(v: Any) -> bool:
    return v is None or _is_number(v)


def _pair(v: Any) -> bool:
    return v is None or (isinstance(v, list) and len(v) == 2 and all(_number_or_null(x) for x in v))


def _string(v: Any) -> bool:
    return isinstance(v, str)


def _string_or_null(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _table(v: Any) -> bool:
    return isinstance(v, dict)


def _table_or_null(v: Any) -> bool:
    return v is None or isinstance(v, dict)


def _strings(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


Check = tuple[Callable[[Any], bool], str]
NUMBER: Check = (_number_or_null, "a number or null")
#: every field of a result: (check, what it expects); required ones are in REQUIRED
FIELDS: Mapping[str, Check] = {
    "id": (_string, "a string"),
    "nodeid": (_string, "a string"),
    "verdict": (lambda v: v in VERDICTS, "one of " + ", ".join(VERDICTS)),
    "reason": (_string, "a string"),
    "unit": (_string, "a string"),
    "claimed": NUMBER,
    "band": (_pair, "null or a list [lo, hi] of numbers"),
    "tolerance": (_table, "a table"),
    "measured": NUMBER,
    "interval": (_pair, "null or a list [lo, hi] of numbers"),
    "deviation": NUMBER,
    "deviation_widths": NUMBER,
    "conditions_claimed": (_table, "a table"),
    "conditions_measured": (_table, "a table"),
    "conditions_differing": (_strings, "a list of strings"),
    "provenance": (_table, "a table"),
    "evidence": (_table, "a table"),
    "consistency": (_table_or_null, "a table or null"),
    "details": (_table, "a table"),
    "remedy": (_string_or_null, "a string or null"),
    "smoke": (lambda v: isinstance(v, bool), "true or false"),
    "synthetic": (lambda v: isinstance(v, bool), "true or false"),
    "needs": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()), "a table of strings"),
    "derived_by": (_string, "a string"),
    "band_decision": (_table_or_null, "a table or null"),
    "alternatives": (lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v), "a list of tables"),
    "point_comparison": (_table_or_null, "a table or null"),
    "reduced_scale": (lambda v: isinstance(v, bool), "true or false"),
    "reproduce": (_string, "a string"),
    "claims_file": (_string, "a string"),
}
REQUIRED = ("id", "nodeid", "verdict", "reason", "unit", "claimed", "band", "tolerance")
TOP: Mapping[str, Check] = {
    "run": (_table, "a table"),
    "command": (_string, "a string"),
    "environment": (_table_or_null, "a table or null"),
    "claims_files": (_table, "a table"),
    "summary": (_table, "a table"),
    "results": (lambda v: isinstance(v, list), "a list of results"),
}


def _depth_problem(data: Any) -> str | None:
    """The JSON path of the first value nested deeper than MAX_DEPTH (iteratively: no recursion)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return where or "(top level)"
        if isinstance(value, dict):
            stack += [(v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    return None


def check(data: Any, path: str) -> dict[str, Any]:
    """``data`` (parsed JSON) as a results file of this schema; ``ResultsFileError`` at the first bad field."""
    if not isinstance(data, dict):
        raise ResultsFileError(path, None, "a results file: a JSON table with schema and results", _describe(data))
    if data.get("schema") != RESULTS_SCHEMA or "results" not in data:
        raise ResultsFileError(
            path,
            "schema" if "results" in data else "results",
            f"a results file of schema {RESULTS_SCHEMA} (this is not a results file, or not one written by "
            "`pytest -m claims`)",
            _describe(data.get("schema")) if "results" in data else "no results list",
        )
    deep = _depth_problem(data)
    if deep is not None:
        raise ResultsFileError(path, deep, f"at most {MAX_DEPTH} levels of nesting", "deeper nesting")
    for key, (ok, expected) in TOP.items():
        if key in data and not ok(data[key]):
            raise ResultsFileError(path, key, expected, _describe(data[key]))
    for i, result in enumerate(data["results"]):
        where = f"results[{i}]"
        if not isinstance(result, dict):
            raise ResultsFileError(path, where, "a table (one claim's result)", _describe(result))
        for key in REQUIRED:
            if key not in result:
                raise ResultsFileError(path, f"{where}.{key}", FIELDS[key][1], "nothing")
        for key, (ok, expected) in FIELDS.items():
            if key in result and not ok(result[key]):
                raise ResultsFileError(path, f"{where}.{key}", expected, _describe(result[key]))
    for name, info in (data.get("claims_files") or {}).items():
        if not isinstance(info, dict):
            raise ResultsFileError(path, f"claims_files.{name}", "a table (sha256, commit)", _describe(info))
        for key in ("sha256", "commit"):
            if not _string_or_null(info.get(key)):
                raise ResultsFileError(path, f"claims_files.{name}.{key}", "a string or null", _describe(info[key]))
    run = data.get("run") or {}
    for key in ("git", "selection"):
        if not _table_or_null(run.get(key)):
            raise ResultsFileError(path, f"run.{key}", "a table or null", _describe(run[key]))
    if not _string_or_null((run.get("git") or {}).get("commit")):
        raise ResultsFileError(path, "run.git.commit", "a string or null", _describe(run["git"]["commit"]))
    versions = (data.get("environment") or {}).get("versions")
    if versions is not None and not isinstance(versions, dict):
        raise ResultsFileError(path, "environment.versions", "a table of package versions", _describe(versions))
    return data
