"""Dimensional analysis of formulas: ``params.a + bytes.b`` is not a number anyone claimed.

Each unit has a dimension (``harness.spec.units``). ``+``, ``-``, ``min``, ``max`` and ``mean`` need operands of
one dimension; ``*`` and ``/`` combine dimensions; a ratio (a percent, points) is dimensionless, so a count over a
count is a ratio and ``(a - b) / a`` of two parameter counts may be claimed in percent. A number written in a
formula may carry a unit the formula does not spell (``params.base_model * 4`` is 4 bytes per parameter): it takes
whatever dimension its use needs, and a result that involves one is not compared with the claim's unit. Every
other result must have the dimension of the claim's unit.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import attrs

from harness.spec.formula import Formula, dotted_name
from harness.spec.units import UNITS

#: unit dimensions that are pure numbers
DIMENSIONLESS = ("ratio", "dimensionless")

Exponents = tuple[tuple[str, int], ...]


class DimensionError(ValueError):
    """Operands of incompatible dimensions; the message names them."""


@attrs.frozen
class Dimension:
    """A product of base dimensions with integer exponents (empty: a pure number); ``None``: free (a number
    written in the formula, whose unit is implied), and the text of the operand it belongs to."""

    exponents: Exponents | None
    what: str

    @property
    def shown(self) -> str:
        if self.exponents is None:
            return "a number of implied unit"
        if not self.exponents:
            return "a pure number (ratio)"
        return " ".join(name if power == 1 else f"{name}^{power}" for name, power in self.exponents)


def unit_dimension(unit: str, what: str) -> Dimension:
    dimension = UNITS[unit].dimension
    return Dimension((), what) if dimension in DIMENSIONLESS else Dimension(((dimension, 1),), what)


def _same(op: str, operands: list[Dimension], what: str) -> Dimension:
    fixed = [d for d in operands if d.exponents is not None]
    for d in fixed[1:]:
        if d.exponents != fixed[0].exponents:
            raise DimensionError(
                f"{op} over {fixed[0].what} ({fixed[0].shown}) and {d.what} ({d.shown}): "
                "operands of different dimensions"
            )
    return Dimension(fixed[0].exponents if fixed else None, what)


def _product(a: Dimension, b: Dimension, sign: int, what: str) -> Dimension:
    if a.exponents is None or b.exponents is None:
        return Dimension(None, what)
    powers = dict(a.exponents)
    for name, power in b.exponents:
        powers[name] = powers.get(name, 0) + sign * power
    return Dimension(tuple(sorted((n, p) for n, p in powers.items() if p)), what)


def _walk(node: ast.expr, dims: Mapping[str, Dimension]) -> Dimension:
    what = ast.unparse(node)
    name = dotted_name(node)
    if name is not None:
        return dims[name]
    if isinstance(node, ast.Constant):
        return Dimension(None, what)
    if isinstance(node, ast.UnaryOp):
        return _walk(node.operand, dims)
    if isinstance(node, ast.BinOp):
        left, right = _walk(node.left, dims), _walk(node.right, dims)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return _same("+" if isinstance(node.op, ast.Add) else "-", [left, right], what)
        return _product(left, right, 1 if isinstance(node.op, ast.Mult) else -1, what)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # checked by Formula.parse
    return _same(f"{node.func.id}()", [_walk(a, dims) for a in node.args], what)


def formula_dimension(formula: Formula, units: Mapping[str, str]) -> Dimension:
    """The dimension of the formula's result, given each claim id's unit; ``DimensionError`` otherwise."""
    return _walk(formula.expression, {name: unit_dimension(unit, name) for name, unit in units.items()})


def check_claim_dimension(formula: Formula, units: Mapping[str, str], unit: str) -> None:
    """The formula is dimensionally sound and (unless a written number implies a unit) gives ``unit``'s."""
    result = formula_dimension(formula, units)
    wanted = unit_dimension(unit, f"the claim's unit {unit!r}")
    if result.exponents is not None and result.exponents != wanted.exponents:
        raise DimensionError(f"the formula gives {result.shown}, but the claim's unit {unit!r} is {wanted.shown}")
