"""Formulas of derived claims: parsed once, evaluated over floats, bootstrap replicates or intervals.

A derived claim (a reduction, a retention, a macro average, a gap) is written as arithmetic over other
claim ids. The same formula is evaluated on the source's stated numbers (to check the source's own
consistency, with interval arithmetic) and on measured numbers (numpy replicates carry the uncertainty).
Only a small, safe subset of Python expressions is accepted; nothing is ``eval``-ed.

A name may refer to a claim of another claims file in the same directory: ``other_file::claim.id`` (the file's
stem, then the claim's id). The loader resolves such references (``harness.spec.references``); here they are
names like any other, spelt with ``::``.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

FUNCTIONS = ("mean", "min", "max", "abs")
#: the deepest expression accepted (parsing and evaluation recurse; a sum of 100 terms is 100 deep)
MAX_DEPTH = 100

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


#: ``stem::`` before a claim id: a reference to a claim of another file (the stem is a lower-case name)
CROSS_FILE = re.compile(r"\b([a-z][a-z0-9_]*)::(?=[a-z])")
#: how a file stem is spelt inside the parsed expression (``::`` is not Python syntax); never written by a user
_MANGLED = "__claims_file__"


class FormulaError(ValueError):
    """The formula text is not a valid formula; the message says what is wrong."""


@attrs.frozen
class Interval:
    """A closed interval ``[lo, hi]`` with the arithmetic needed to bound a formula's result."""

    lo: float
    hi: float

    @classmethod
    def around(cls, value: float, half_width: float) -> Interval:
        return cls(value - half_width, value + half_width)

    def _combine(self, other: Any, op: Callable[[float, float], float]) -> Interval:
        o = other if isinstance(other, Interval) else Interval(float(other), float(other))
        corners = [op(a, b) for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        if any(math.isnan(c) for c in corners):  # inf - inf, 0 * inf: unbounded (min/max of NaN are arbitrary)
            return Interval(-math.inf, math.inf)
        return Interval(min(corners), max(corners))

    def __add__(self, other: Any) -> Interval:
        return self._combine(other, operator.add)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Interval:
        return self._combine(other, operator.sub)

    def __rsub__(self, other: Any) -> Interval:
        return Interval(float(other), float(other))._combine(self, operator.sub)

    def __mul__(self, other: Any) -> Interval:
        return self._combine(other, operator.mul)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Interval:
        o = other if isinstance(other, Interval) else Interval(float(other), float(other))
        if o.lo <= 0.0 <= o.hi:
            return Interval(-math.inf, math.inf)
        return self._combine(o, operator.truediv)

    def __rtruediv__(self, other: Any) -> Interval:
        return Interval(float(other), float(other)) / self

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __pos__(self) -> Interval:
        return self

    def __abs__(self) -> Interval:
        if self.lo >= 0:
            return self
        if self.hi <= 0:
            return -self
        return Interval(0.0, max(-self.lo, self.hi))

    def intersects(self, other: Interval) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi


def _reduce(name: str, args: list[Any]) -> Any:
    if not args:
        raise FormulaError(f"{name}() needs at least one argument")
    if name == "mean":
        total = args[0]
        for a in args[1:]:
            total = total + a
        return total / len(args)
    if any(isinstance(a, Interval) for a in args):
        ivs = [a if isinstance(a, Interval) else Interval(float(a), float(a)) for a in args]
        pick = min if name == "min" else max
        return Interval(pick(i.lo for i in ivs), pick(i.hi for i in ivs))
    if any(hasattr(a, "shape") for a in args):
        import numpy as np

        fn = np.minimum if name == "min" else np.maximum
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out
    return (min if name == "min" else max)(args)


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` as one claim id, or None when the node is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        name = ".".join(reversed(parts))
        stem, mangled, rest = name.partition(_MANGLED + ".")
        return f"{stem}::{rest}" if mangled else name
    return None


@attrs.frozen
class Formula:
    """A parsed formula; ``names`` are the claim ids it refers to, in order of first use."""

    text: str
    names: tuple[str, ...]
    _tree: ast.Expression = attrs.field(eq=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> Formula:
        if _MANGLED in text:
            raise FormulaError(f"{_MANGLED!r} is not a claim id")
        try:
            tree = ast.parse(CROSS_FILE.sub(rf"\1{_MANGLED}.", text.strip()), mode="eval")
        except SyntaxError as exc:
            raise FormulaError(f"not a valid expression ({exc.msg} at column {exc.offset})") from None
        except (RecursionError, MemoryError, ValueError):
            raise FormulaError(f"too long or too deeply nested (at most {MAX_DEPTH} levels)") from None
        names: list[str] = []
        cls._check(tree.body, names)
        return cls(text=text, names=tuple(dict.fromkeys(names)), tree=tree)

    @classmethod
    def _check(cls, node: ast.expr, names: list[str], depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise FormulaError(
                f"nested more than {MAX_DEPTH} levels deep: use mean(...) or split it into intermediate claims"
            )
        dotted = dotted_name(node)
        if dotted is not None:
            names.append(dotted)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        ):
            if not math.isfinite(node.value):
                raise FormulaError(f"the number {node.value!r} is not finite")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            cls._check(node.left, names, depth + 1)
            cls._check(node.right, names, depth + 1)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            cls._check(node.operand, names, depth + 1)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id not in FUNCTIONS:
                raise FormulaError(f"unknown function {node.func.id!r}; the functions are {', '.join(FUNCTIONS)}")
            if node.func.id == "abs" and len(node.args) != 1:
                raise FormulaError("abs() takes exactly one argument")
            if not node.args:
                raise FormulaError(f"{node.func.id}() needs at least one argument")
            for arg in node.args:
                cls._check(arg, names, depth + 1)
        else:
            shown = ast.unparse(node)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise FormulaError(
                f"{shown!r} is not allowed: use numbers, claim ids, + - * /, parentheses and {', '.join(FUNCTIONS)}"
            )

    @property
    def expression(self) -> ast.expr:
        """The checked syntax tree (for analyses such as ``harness.spec.dimensions``)."""
        return self._tree.body

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Evaluate with ``values[name]`` for each claim id (floats, numpy arrays or ``Interval``)."""
        return self._eval(self._tree.body, values)

    def _eval(self, node: ast.expr, values: Mapping[str, Any]) -> Any:
        dotted = dotted_name(node)
        if dotted is not None:
            return values[dotted]
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # checked by parse()
            return float(node.value)
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, values), self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, values)
            return -operand if isinstance(node.op, ast.USub) else operand
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self._eval(a, values) for a in node.args]
        if node.func.id == "abs":
            return abs(args[0])
        return _reduce(node.func.id, args)
