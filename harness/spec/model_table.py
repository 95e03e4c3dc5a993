"""One ``[models.<name>]`` table of a claims file: its hub ids, Auto class, builder and configuration.

``hub_id`` is optional: a model whose weights were never published has none (or says ``released = false``);
its architecture claims still run from its config, anything that needs its weights is NOT_RUN.

The claims language checks what it knows itself (names, hub ids, types of the table's fields); what a builder
knows (does transformers accept this config, this Auto class?) is checked by the builder's entry in
``MODEL_CHECKS``, run when the file loads. The built-in ``transformers`` check is
``harness.measure.model_checks``; a plug-in builder may register its own
(``MODEL_CHECKS.add(name, check)``, docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.registry import Registry
from harness.spec.fields import Fields, describe
from harness.spec.hub_ids import EXPECTED as HUB_ID_EXPECTED
from harness.spec.hub_ids import hub_id_problem
from harness.spec.pins import parse_finetuned, parse_finetuned_head, parse_model_pin
from harness.spec.records import MODEL_FIELDS, NAME_PATTERN, ModelSpec

#: ``(model, path) -> None``: raises ``ClaimError`` (field ``models.<name>.<key>``) for a table its builder refuses
ModelCheck = Callable[[ModelSpec, str], None]
MODEL_CHECKS: Registry[ModelCheck] = Registry(
    "model check", "claims_harness.model_checks", ("harness.measure.model_checks",)
)
#: the check of a table whose builder has no check of its own: that the builder exists (registered or a
#: ``package.module:function`` that imports)
ANY_BUILDER = "*"


def _hub_id(f: Fields, field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise f.error(field, "a checkpoint id (a string)", describe(value), "quote it")
    problem = hub_id_problem(value)
    if problem is not None:
        raise f.error(
            field,
            HUB_ID_EXPECTED,
            f"{describe(value)}: {problem}",
            "write the id as the Hub shows it; a local checkpoint goes in --claims-models-dir/<org>/<name>",
        )
    return value


def parse_model(path: str, name: str, raw: Any) -> ModelSpec:
    """The model table, checked; a ``ClaimError`` naming the field otherwise."""
    where = Fields(path, None, {name: raw}, "models.")
    if not NAME_PATTERN.fullmatch(name):
        raise where.error(name, "a model name of [a-z0-9_] starting with a letter", repr(name), "rename it")
    if not isinstance(raw, dict):
        raise where.error(name, "a table", describe(raw), f"write it as [models.{name}]")
    f = Fields(path, None, raw, f"models.{name}.")
    f.check_keys(MODEL_FIELDS)
    config = f.table_of("config", required=True)
    if not isinstance(config.get("model_type"), str):
        raise f.error(
            "config.model_type",
            "the transformers model_type of the architecture (a string)",
            describe(config.get("model_type")) if "model_type" in config else "nothing",
            'add `model_type = "..."` to the config table, as in the checkpoint\'s config.json',
        )
    released = raw.get("released", "hub_id" in raw)
    if not isinstance(released, bool):
        raise f.error("released", "true or false", describe(released), "write released = false (or remove it)")
    if released and "hub_id" not in raw:
        raise f.error(
            "hub_id",
            "the checkpoint's hub id of a released model",
            "released = true without a hub_id",
            'add `hub_id = "..."`, or write released = false for a model whose weights were never published',
        )
    hub_id = _hub_id(f, "hub_id", f.string("hub_id")) if "hub_id" in raw else None
    if hub_id is None and any(key in raw for key in ("revision", "size_bytes")):
        raise f.error(
            "revision" if "revision" in raw else "size_bytes",
            "a pin of a released checkpoint (it needs a hub_id)",
            "a pin of a model without a hub_id",
            "remove the pin, or add the hub_id of the checkpoint it pins",
        )
    finetuned = f.table_of("finetuned")
    pins = {task: parse_finetuned(f, task, raw) for task, raw in finetuned.items()}
    heads = {task: parse_finetuned_head(f, task, raw) for task, raw in finetuned.items()}
    for task, pin in pins.items():
        _hub_id(f, f"finetuned.{task}", pin.hub_id)
    spec = ModelSpec(
        name=name,
        hub_id=hub_id,
        auto_class=f.string("auto_class", required=False, default="AutoModel"),
        config_source=f.string("config_source"),
        config=dict(config),
        finetuned={task: pin.hub_id for task, pin in pins.items()},
        builder=f.string("builder", required=False, default="transformers"),
        pin=None if hub_id is None else parse_model_pin(f, hub_id),
        finetuned_pins=pins,
        finetuned_heads={task: head for task, head in heads.items() if head.declared},
        released=released,
    )
    # another builder may take other classes and configs; one without its own check must at least exist
    check = MODEL_CHECKS.get(spec.builder) or MODEL_CHECKS.get(ANY_BUILDER)
    if check is not None:
        check(spec, path)
    return spec
