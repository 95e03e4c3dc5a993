"""Counting a model's parameters under a stated convention: which modules count, tied weights once.

Papers count differently: with or without the pooler, the task head, the embeddings or a distillation
projection. ``count_parameters`` takes the convention as module-name glob patterns and returns the total
with a breakdown per top-level module (``harness.ml.modules``), what each pattern matched, and which
weights are tied, so that a verdict never hinges on a silent choice.

A pattern is an ``fnmatch`` glob matched against each parameter's name and the names of the modules that
contain it, both as written (``bert.pooler.dense.weight``) and relative to the base model
(``pooler.dense.weight``): ``"pooler*"``, ``"pooler"`` and ``"*classifier*"`` mean what they say in a base
model and in a task model alike. A tensor shared under several names (tied weights) is counted once and
is matched when any of its names is. A pattern that matches nothing is an error: it is a misspelling or a
module this architecture does not have.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from harness.core.errors import did_you_mean
from harness.ml.errors import FieldError
from harness.ml.modules import base_prefix, group_of, relative_name


@attrs.frozen
class ParameterCount:
    """Unique parameters counted under a convention.

    ``by_module``: counted parameters per top-level module (modules with none counted are absent);
    ``excluded``: parameters left out per top-level module; ``matches``: the parameters (elements) each
    pattern matched, ``{"include": {pattern: n}, "exclude": {pattern: n}}``; ``tied``: the names of each
    tensor held under several names, the first being the one it is counted under.
    """

    total: int
    by_module: Mapping[str, int]
    excluded: Mapping[str, int]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    matches: Mapping[str, Mapping[str, int]]
    tied: tuple[tuple[str, ...], ...]

    def convention(self) -> str:
        """The counting convention in words, for a report."""
        parts = ["tied weights counted once"]
        if self.include:
            parts.append("only " + ", ".join(self.include))
        if self.exclude:
            parts.append("without " + ", ".join(self.exclude))
        return "; ".join(parts)


def _names_to_match(name: str, prefix: str) -> set[str]:
    """A parameter's name and the names of its enclosing modules, as written and relative to the base model."""
    parts = name.split(".")
    names = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return names | {relative_name(n, prefix) for n in names}


def _unique_tensors(model: Any) -> list[tuple[tuple[str, ...], Any]]:
    """Each parameter tensor once, with all the names it is held under (the first is the canonical one)."""
    by_id: dict[int, tuple[list[str], Any]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        entry = by_id.setdefault(id(param), ([], param))
        entry[0].append(name)
    return [(tuple(names), param) for names, param in by_id.values()]


def _matches(pattern: str, names: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(n, pattern) for n in names)


def _unmatched_error(model: Any, field: str, pattern: str, prefix: str) -> FieldError:
    modules = [n for n, _ in model.named_modules() if n]
    candidates = set(modules) | {relative_name(n, prefix) for n in modules}
    groups = sorted(dict.fromkeys(group_of(n, prefix) for n in modules))
    hint = did_you_mean(pattern.replace("*", "").replace("?", ""), candidates)
    return FieldError(
        field,
        f"a glob pattern matching modules or parameters of {type(model).__name__} "
        f"(its top-level modules: {', '.join(groups)})",
        f"{pattern!r}, which matches nothing",
        "correct the pattern or remove it." + hint,
    )


def count_parameters(model: Any, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> ParameterCount:
    """Unique parameters of ``model`` matched by ``include`` (all when empty) and by no ``exclude`` pattern."""
    for field, patterns in (("include", include), ("exclude", exclude)):
        if isinstance(patterns, str):
            raise FieldError(field, "a list of glob patterns", repr(patterns), f"write {field} = [{patterns!r}]")
    prefix = base_prefix(model)
    matches: dict[str, dict[str, int]] = {"include": dict.fromkeys(include, 0), "exclude": dict.fromkeys(exclude, 0)}
    by_module: dict[str, int] = {}
    excluded: dict[str, int] = {}
    tied: list[tuple[str, ...]] = []
    for names, param in _unique_tensors(model):
        if len(names) > 1:
            tied.append(names)
        candidates = set().union(*(_names_to_match(n, prefix) for n in names))
        numel = int(param.numel())
        hit = {kind: [p for p in patterns if _matches(p, candidates)] for kind, patterns in matches.items()}
        for kind, patterns in hit.items():
            for pattern in patterns:
                matches[kind][pattern] += numel
        counted = (not include or bool(hit["include"])) and not hit["exclude"]
        into = by_module if counted else excluded
        group = group_of(names[0], prefix)
        into[group] = into.get(group, 0) + numel
    for kind, counts in matches.items():
        for pattern, matched in counts.items():
            if matched == 0:
                raise _unmatched_error(model, kind, pattern, prefix)
    return ParameterCount(
        total=sum(by_module.values()),
        by_module=by_module,
        excluded=excluded,
        include=tuple(include),
        exclude=tuple(exclude),
        matches=matches,
        tied=tuple(tied),
    )
