"""What a claims file declares about a published checkpoint's task head: its label order and its output scale.

Written next to the checkpoint's pin in ``[models.<m>.finetuned]``::

    "glue/mnli" = { hub_id = "org/model-MNLI", label_order = [1, 2, 0],
                    label_order_source = "TextAttack's model registry: ... label map [1, 2, 0]" }
    "glue/stsb" = { hub_id = "org/model-STS-B", output_scale = 0.2,
                    output_scale_source = "TextAttack's model registry: output_scale_factor 5.0" }

- ``label_order[i]`` is the checkpoint's output index for the task's label ``i`` (the task's label order is the
  data set's: GLUE MNLI entailment, neutral, contradiction). This is how TextAttack's registry writes its label
  maps (``label_map[dataset label] = model label``), so ``[1, 2, 0]`` for its MNLI models is copied as is.
- ``output_scale``: a regression checkpoint outputs the task's score times this factor (TextAttack's STS-B models
  were trained on the score divided by 5: ``output_scale = 0.2``); the harness divides the outputs by it.

Each needs its ``*_source`` (where the convention is documented). This module checks the types; whether the
order has the task's label count is checked where the tasks are known (``harness.measure.model_checks``).
"""

from __future__ import annotations

import attrs

from harness.spec.fields import Fields, describe

HEAD_FIELDS = ("label_order", "label_order_source", "output_scale", "output_scale_source")


@attrs.frozen
class HeadConvention:
    """A published checkpoint's declared head conventions (None: not declared)."""

    label_order: tuple[int, ...] | None = None
    label_order_source: str | None = None
    output_scale: float | None = None
    output_scale_source: str | None = None

    @property
    def declared(self) -> bool:
        return self.label_order is not None or self.output_scale is not None


def _label_order(f: Fields) -> tuple[int, ...] | None:
    if "label_order" not in f.table:
        return None
    value = f.table["label_order"]
    expected = "a permutation of 0..N-1 (N = the task's label count): the output index of each of the task's labels"
    fix = "write the checkpoint's output index for each of the task's labels in order, e.g. label_order = [1, 2, 0]"
    if not isinstance(value, list) or not value:
        raise f.error("label_order", expected, describe(value), fix)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise f.error("label_order", expected, f"{describe(value)} (not all integers)", fix)
    if sorted(value) != list(range(len(value))):
        raise f.error("label_order", expected, f"{describe(value)} (not a permutation of 0..{len(value) - 1})", fix)
    return tuple(value)


def _source(f: Fields, field: str, of: str) -> str | None:
    if of not in f.table:
        if field in f.table:
            raise f.error(field, f"a source only next to {of}", f"{field} without {of}", f"add {of} or remove {field}")
        return None
    if field not in f.table:
        raise f.error(
            field,
            f"where the checkpoint's {of.replace('_', ' ')} is documented (a string)",
            "nothing",
            f'add {field} = "<model card, registry or file that states it>"',
        )
    return f.string(field)


def parse_head(f: Fields) -> HeadConvention:
    """The head conventions of one ``[models.<m>.finetuned]`` entry table (``f``), checked as described above."""
    order = _label_order(f)
    scale = f.number("output_scale", required=False, positive=True)
    return HeadConvention(
        label_order=order,
        label_order_source=_source(f, "label_order_source", "label_order"),
        output_scale=scale,
        output_scale_source=_source(f, "output_scale_source", "output_scale"),
    )
