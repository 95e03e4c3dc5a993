"""The measurement kinds a claims file may name (``[claims.measure] kind = "..."``).

The claims language knows a kind by what its table declares: the keys it requires and allows, and the pytest
markers its items get. The function that measures it belongs to the measurement layer (``harness.measure``),
which registers kinds here through ``harness.measure.registry.register``. The built-in kinds are plug-ins like
any other, named here by module path and imported on first use; third-party kinds come from the
``claims_harness.kinds`` entry point group or from a ``conftest.py`` (see docs/extending.md). The loader
validates ``kind`` against whatever this registry holds, so it imports no kind itself. A kind may declare a
``check``: called by the loader for each claim of that kind, with the file's models, workloads and recipes, it
raises a ``ClaimError`` for what can be known wrong before anything is measured (a workload longer than the
model's positions, a recipe with ``learning_rate = "fast"``), so that the claim fails at load, not mid-run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from harness.core.registry import Registry

#: ``(claim, context) -> Measurement``; typed loosely here: the claims language never calls it
MeasureFunction = Callable[[Any, Any], Any]
#: ``(claim, declared) -> None``: ``declared`` is the ``ClaimsFile`` with its models, workloads and recipes
#: (no claims yet); raises ``ClaimError`` for a claim that cannot be measured as written
CheckFunction = Callable[[Any, Any], None]


@attrs.frozen
class Kind:
    """A registered measurement kind."""

    name: str
    function: MeasureFunction
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    check: CheckFunction | None = None


BUILTIN_KIND_MODULES = (
    "harness.measure.kinds.architecture",
    "harness.measure.kinds.flops",
    "harness.measure.kinds.latency",
    "harness.measure.kinds.task_score",
    "harness.measure.kinds.reduced_scale_delta",
    "harness.measure.kinds.unavailable",
)

KINDS: Registry[Kind] = Registry("measurement kind", "claims_harness.kinds", BUILTIN_KIND_MODULES)
