"""Inequalities of ordering claims: ``left <op> right``, each side a formula over claim ids.

An ordering claim ("L_ce matters more than L_cos", "always on par or improving over ELMo") is a list of
inequalities such as ``"abs(ablation.a) > abs(ablation.b)"`` or
``"glue.student.cola >= glue.baseline.cola"``. Each side is parsed by ``harness.spec.formula``; nothing is
``eval``-ed. The verdict over measured intervals is in ``harness.verdict.ordering``.
"""

from __future__ import annotations

import re

import attrs

from harness.spec.formula import Formula, FormulaError

#: the relations an inequality may state, longest first (so that ">=" is not read as ">")
RELATIONS = (">=", "<=", ">", "<")
_SPLIT = re.compile(r"(>=|<=|>|<)")


@attrs.frozen
class Inequality:
    """``left relation right``; ``names`` are the claim ids of both sides, in order of first use."""

    text: str
    left: Formula
    relation: str
    right: Formula

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.left.names, *self.right.names)))

    @property
    def greater_is_left(self) -> bool:
        """True for ``>`` and ``>=``: the left side is claimed to be the larger."""
        return self.relation in (">", ">=")

    @property
    def strict(self) -> bool:
        return self.relation in (">", "<")

    @classmethod
    def parse(cls, text: str) -> Inequality:
        parts = _SPLIT.split(text)
        if len(parts) != 3:
            raise FormulaError(
                f"{text!r} is not one inequality: write `<formula> <relation> <formula>` with exactly one of "
                + ", ".join(RELATIONS)
            )
        left, relation, right = (p.strip() for p in parts)
        if not left or not right:
            raise FormulaError(f"{text!r}: both sides of {relation!r} need a formula")
        lf, rf = Formula.parse(left), Formula.parse(right)
        if not lf.names and not rf.names:
            raise FormulaError(f"{text!r} compares constants: name the claims it orders")
        return cls(text=text, left=lf, relation=relation, right=rf)
