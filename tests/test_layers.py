"""The package's shape: layers import downwards only, no module imports itself back, no file is too long.

The walk reads every ``import`` in ``harness/`` with ``ast`` (module level and inside functions alike, since a
lazy import is still a dependency), so no third-party tool is needed. Layers, bottom to top:

    core  ->  spec, ml  ->  verdict  ->  measure  ->  report  ->  pytest_plugin, plugin, cli

``spec`` (the claims language) and ``ml`` (the ML machinery) are side by side: neither imports the other.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "harness"

#: what each layer may import (besides itself and the standard library / third-party packages)
ALLOWED = {
    "core": set(),
    "spec": {"core"},
    "ml": {"core"},
    "verdict": {"core", "spec"},
    "measure": {"core", "spec", "verdict", "ml"},
    "report": {"core", "spec", "verdict", "ml", "measure"},
    "pytest_plugin": {"core", "spec", "verdict", "ml", "measure", "report"},
    "top": {"core", "spec", "verdict", "ml", "measure", "report", "pytest_plugin"},
}
MAX_LINES = 420


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("plugin", "cli", "__main__"):
        return "top"
    return parts[1] if parts[1] in ALLOWED else "top"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The harness modules ``path`` imports (``from harness.x import y`` counts as harness.x.y if that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name.startswith("harness") and name != me:
                out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in edges.items():
        here = layer(module)
        for target in targets:
            there = layer(target)
            if there != here and there not in ALLOWED[here] and target != "harness":
                bad.append(f"{module} ({here}) imports {target} ({there})")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_upward_imports() -> None:
    assert upward_imports(graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_checks_can_fail() -> None:
    """The two checks above on a planted graph: an upward import and a cycle are both found."""
    planted = {
        "harness.spec.loader": {"harness.measure.registry"},
        "harness.measure.registry": {"harness.spec.loader"},
        "harness.core.files": set(),
    }
    assert upward_imports(planted) == ["harness.spec.loader (spec) imports harness.measure.registry (measure)"]
    assert cycles(planted) == [["harness.measure.registry", "harness.spec.loader"]]
    assert upward_imports({"harness.ml.data": {"harness.spec.records"}}) == [
        "harness.ml.data (ml) imports harness.spec.records (spec)"
    ]


def test_every_layer_says_what_it_owns() -> None:
    for name in ALLOWED:
        if name == "top":
            continue
        init = PACKAGE / name / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{init} needs a docstring saying what it owns and may import"


def test_no_file_is_too_long() -> None:
    long = {
        str(f.relative_to(ROOT)): n
        for f in PACKAGE.rglob("*.py")
        if (n := len(f.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_plugin_import_stays_light() -> None:
    heavy = ("torch", "transformers", "datasets", "numpy")
    code = f"import harness.plugin, sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
