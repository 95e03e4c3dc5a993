"""The load-time check of a ``[models.<name>]`` table whose builder is ``transformers``.

Registered in ``harness.spec.model_table.MODEL_CHECKS`` (the claims loader runs it for each model table): the
``auto_class`` must be a transformers Auto *model* class (read from transformers' torch-free name table, so
AutoTokenizer and AutoConfig are refused), and the config must resolve strictly in ``harness.ml.configs``
(unknown model_type with did-you-mean, unknown fields, wrong types, sizes below 1, heads that do not divide
the hidden size); the head conventions declared for published checkpoints (``label_order``, ``output_scale``:
harness.spec.heads) must fit their task (a classification task's label count, a regression task), checked every
time (torch-free). Each problem is a ``ClaimError`` naming ``models.<name>.<field>``. transformers is imported
inside these functions; its config module imports torch (transformers 5), so a pass is remembered
(``harness.measure.check_memo``, in the claims cache) and a later collection of the same table with the same
transformers reads the memo instead. Without transformers installed the check is skipped: measuring says what
is missing. A table with another builder that registers no check of its own gets ``check_builder_exists``
(under ``ANY_BUILDER``): its builder must be registered or an importable ``package.module:function``, build a
module on ``meta``, and that module must run one forward pass there. That check imports torch and is never
remembered (the builder's own code is not part of any key); a model transformers builds from a strictly
resolved config is not run at load: it would only cost collection time.
"""

from __future__ import annotations

from typing import Any

from harness.core.errors import ClaimError, did_you_mean
from harness.measure import check_memo
from harness.ml.configs import resolve_config_fields
from harness.ml.errors import FieldError
from harness.ml.tasks import TASKS
from harness.spec.model_table import ANY_BUILDER, MODEL_CHECKS
from harness.spec.records import ModelSpec

#: the sequence length of the load-time forward pass of a custom builder's model on the meta device
CHECK_SEQ_LEN = 8


def auto_model_classes() -> list[str] | None:
    """The transformers Auto classes that build models (AutoModel, AutoModelFor...), without importing them."""
    try:
        import transformers
    except ImportError:
        return None
    table = getattr(transformers, "_class_to_module", {})
    return sorted(n for n, module in table.items() if n.startswith("AutoModel") and module.endswith("modeling_auto"))


def _resolved(spec: ModelSpec) -> Any | None:
    try:
        import transformers  # noqa: F401
    except ImportError:
        return None
    return resolve_config_fields(spec.config["model_type"], spec.config)


def check_transformers_model(spec: ModelSpec, path: str) -> None:
    """The model table against transformers; a ``ClaimError`` naming the field otherwise."""
    check_finetuned_heads(spec, path)  # torch-free, and not part of the memo's key: always
    if check_memo.recall(spec) is not None:
        return
    known = auto_model_classes()
    if known and spec.auto_class not in known:
        raise ClaimError(
            path,
            None,
            f"models.{spec.name}.auto_class",
            "a transformers Auto model class, e.g. 'AutoModel' or 'AutoModelForSequenceClassification'",
            repr(spec.auto_class),
            "name the Auto class that builds the model (tokenizers and configs are found from the checkpoint)."
            + did_you_mean(spec.auto_class, known),
        )
    try:
        resolved = _resolved(spec)
    except FieldError as exc:
        raise exc.to_claim_error(path, None, f"models.{spec.name}.config.") from None
    if resolved is not None:
        check_memo.remember(spec, {"max_position_embeddings": _positions(resolved.values)})


def _positions(values: Any) -> int | None:
    value = values.get("max_position_embeddings")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_finetuned_heads(spec: ModelSpec, path: str) -> None:
    """Each declared label order is a permutation of its task's label count; output scales are for regression."""
    for name, head in spec.finetuned_heads.items():
        field = f"models.{spec.name}.finetuned.{name}"

        def error(key: str, expected: str, found: str, fix: str, field: str = field) -> ClaimError:
            return ClaimError(path, None, f"{field}.{key}" if key else field, expected, found, fix)

        task = TASKS.get(name)
        if task is None:
            raise error(
                "",
                "a task name: " + ", ".join(TASKS),
                repr(name),
                "name the task the checkpoint was fine-tuned for." + did_you_mean(name, TASKS),
            )
        order = head.label_order
        if order is not None and task.kind != "classification":
            raise error(
                "label_order", f"no label order ({task.name} is a {task.kind} task)", str(list(order)), "remove it"
            )
        if order is not None and len(order) != task.num_labels:
            raise error(
                "label_order",
                f"a permutation of {task.num_labels} indices ({task.name}: {', '.join(task.labels)})",
                f"{len(order)} indices {list(order)}",
                f"write one output index per label of {task.name}, in the task's label order",
            )
        if head.output_scale is not None and task.kind != "regression":
            raise error(
                "output_scale",
                f"no output scale ({task.name} is a {task.kind} task; output_scale is for regression heads)",
                str(head.output_scale),
                "remove it",
            )


def check_builder_exists(spec: ModelSpec, path: str) -> None:
    """A table with another builder: the builder resolves (``harness.ml.builders.resolve_builder``: a name of
    ``harness.ml.models.BUILDERS`` or an importable ``package.module:function``), builds a ``torch.nn.Module``
    from the config on the ``meta`` device, and that model runs one forward pass on ``meta`` input ids (shapes
    only, no arithmetic) when its forward takes ``input_ids``."""
    import inspect

    from harness.core.errors import HarnessError
    from harness.ml.builders import meta_forward_check, resolve_builder
    from harness.ml.models import build_model

    check_finetuned_heads(spec, path)
    field = f"models.{spec.name}.builder"
    try:
        resolve_builder(spec.builder)  # a did-you-mean for an unknown name
        model = build_model(spec, dict(spec.config))  # as the kinds build it: with its auto_class, on meta
    except FieldError as exc:
        raise exc.to_claim_error(path, None, f"models.{spec.name}.") from None
    except Exception as exc:  # noqa: BLE001 - a user's builder failing in its own code
        raise ClaimError(
            path,
            None,
            field,
            "a builder that builds the model from its config on the meta device",
            f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
            "fix the builder or the config it is given",
        ) from None
    parameters = inspect.signature(model.forward).parameters
    if "input_ids" not in parameters and not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return  # not a token model: nothing to feed it here
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    length = min(CHECK_SEQ_LEN, limit) if isinstance(limit, int) and limit > 0 else CHECK_SEQ_LEN
    try:
        meta_forward_check(model, length)
    except HarnessError as exc:
        raise ClaimError(
            path,
            None,
            field,
            "a model that runs (one forward pass on the meta device)",
            str(exc),
            "correct the config's sizes or the builder",
        ) from None


def max_positions(spec: ModelSpec) -> int | None:
    """The longest input (in tokens) the model takes, or None when it is not known here."""
    if spec.builder != "transformers":
        return None
    facts = check_memo.recall(spec)
    if facts is not None:
        return _positions(facts)
    try:
        resolved = _resolved(spec)
    except FieldError:  # reported on the model itself
        return None
    return None if resolved is None else _positions(resolved.values)


if "transformers" not in MODEL_CHECKS:  # this module may be imported again (pytester restores sys.modules)
    MODEL_CHECKS.add("transformers", check_transformers_model, __name__)
if ANY_BUILDER not in MODEL_CHECKS:
    MODEL_CHECKS.add(ANY_BUILDER, check_builder_exists, __name__)
