"""Building a model's architecture from a config mapping, and proving that the built model runs.

A *builder* is a function ``config mapping -> torch.nn.Module``. The default, ``"transformers"``, resolves
the config strictly (``harness.ml.configs``) and calls ``AutoModel.from_config``; a model transformers
cannot express (partial parameter sharing, a teacher with its own projection) gets its own builder, named
in one of three ways, looked up in this order:

1. ``"transformers"``, the strict default above;
2. a name of the one builder registry, ``harness.ml.models.BUILDERS`` (filled by ``claims_harness.builders``
   entry points of installed packages and by a conftest.py: docs/extending.md);
3. a dotted path ``"package.module:function"`` importable from here.

``build_model`` calls the builder under ``torch.device(device)``, ``meta`` by default: the architecture
without weights, enough to count parameters and FLOPs. ``meta_forward_check`` runs a forward pass of
such a model on ``meta`` input ids, which checks the shapes of every layer without any arithmetic.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from harness.core.errors import MeasurementError, did_you_mean
from harness.ml.configs import resolve_config_fields
from harness.ml.dotted import from_dotted_path
from harness.ml.errors import FieldError, require_positive_int
from harness.ml.modules import model_device

Builder = Callable[[Mapping[str, Any]], Any]


def transformers_builder(auto_class: str = "AutoModel") -> Builder:
    """A builder that resolves the config strictly and calls ``transformers.<auto_class>.from_config``."""
    import transformers

    cls = getattr(transformers, auto_class, None)
    if cls is None or not auto_class.startswith("Auto"):
        raise FieldError(
            "auto_class",
            "a transformers Auto class",
            repr(auto_class),
            "write e.g. 'AutoModel' or 'AutoModelForSequenceClassification'."
            + did_you_mean(auto_class, [n for n in dir(transformers) if n.startswith("AutoModel")]),
        )

    def build(config: Mapping[str, Any]) -> Any:
        model_type = config.get("model_type")
        if model_type is None:
            raise FieldError("model_type", "the config's model type", "no model_type", "add e.g. model_type = 'bert'")
        return cls.from_config(resolve_config_fields(model_type, config).config)

    build.__name__ = build.__qualname__ = f"transformers_{auto_class}"
    return build


def build_transformers_model(config: Mapping[str, Any]) -> Any:
    """The default builder: ``transformers.AutoModel.from_config`` on the strictly resolved config."""
    return transformers_builder("AutoModel")(config)


def _registered(name: str) -> Builder | None:
    """A builder of the one registry, ``harness.ml.models.BUILDERS`` (entry points ``claims_harness.builders`` and
    conftest.py registrations), as a ``config -> module`` function; None when no builder has that name."""
    from harness.ml.models import BUILDERS

    if name not in BUILDERS:
        return None
    registered = BUILDERS[name]

    def build(config: Mapping[str, Any]) -> Any:
        return registered(str(config.get("auto_class", "AutoModel")), config, "meta", None)

    build.__name__ = build.__qualname__ = f"registered_{name}"
    return build


def resolve_builder(name: str) -> Builder:
    """The builder called ``name``: registered, an entry point, or ``"package.module:function"``."""
    if not isinstance(name, str) or not name:
        raise FieldError("builder", "a builder's name or 'package.module:function'", repr(name), "write a name")
    if name == "transformers":
        builder: Any = build_transformers_model  # strict: the config is resolved field by field first
    elif ":" in name:
        builder = from_dotted_path(name)
    else:
        found = _registered(name)
        if found is None:
            from harness.ml.models import BUILDERS

            known = sorted(BUILDERS)
            raise FieldError(
                "builder",
                f"a registered builder ({', '.join(known)}) or 'package.module:function'",
                repr(name),
                "correct the name, or write the dotted path of the function that builds the model."
                + did_you_mean(name, known),
            )
        builder = found
    if not callable(builder):
        raise FieldError(
            "builder", "a function config -> torch.nn.Module", f"{name!r} is a {type(builder).__name__}", "name one"
        )
    return builder


def build_model(config: Mapping[str, Any], builder: str | Builder = "transformers", device: str = "meta") -> Any:
    """The model ``builder`` makes from ``config`` on ``device`` (``meta``: shapes only), in eval mode."""
    import torch

    function = resolve_builder(builder) if isinstance(builder, str) else builder
    with torch.device(device):
        model = function(config)
    if not isinstance(model, torch.nn.Module):
        name = builder if isinstance(builder, str) else getattr(builder, "__qualname__", repr(builder))
        raise FieldError(
            "builder",
            "a function returning a torch.nn.Module",
            f"{name!r} returned a {type(model).__name__}",
            "make the builder return the model it builds",
        )
    return model.eval()


def _shapes(output: Any, name: str, into: dict[str, tuple[int, ...]]) -> None:
    import torch

    if isinstance(output, torch.Tensor):
        into[name] = tuple(output.shape)
    elif isinstance(output, Mapping):
        for key, value in output.items():
            _shapes(value, f"{name}.{key}" if name else str(key), into)
    elif isinstance(output, (tuple, list)):
        for i, value in enumerate(output):
            _shapes(value, f"{name}.{i}" if name else str(i), into)


def meta_forward_check(model: Any, seq_len: int, batch: int = 1) -> dict[str, tuple[int, ...]]:
    """The output shapes of one forward pass on ``batch`` x ``seq_len`` input ids, on the model's device
    (``meta`` for a model ``build_model`` made: no arithmetic); a clear error when the pass fails."""
    import torch

    seq_len, batch = require_positive_int("seq_len", seq_len), require_positive_int("batch", batch)
    ids = torch.zeros((batch, seq_len), dtype=torch.long, device=model_device(model))
    described = f"{type(model).__name__} on input ids of shape {tuple(ids.shape)} ({ids.device})"
    parameters = inspect.signature(model.forward).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    if "input_ids" not in parameters and not takes_kwargs:
        raise MeasurementError(
            f"the built model {described} cannot be checked: its forward takes no input_ids; "
            "make the builder return a model whose forward(input_ids=...) runs the encoder"
        )
    try:
        with torch.inference_mode():
            # no attention mask: a mask's data cannot be inspected on meta, and all tokens attend anyway
            output = model(input_ids=ids)
    except Exception as exc:
        raise MeasurementError(
            f"the built model does not run: forward of {described} failed with {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:500]}. Check the config's sizes (a sequence longer than "
            "max_position_embeddings, mismatched dimensions) or the builder"
        ) from exc
    shapes: dict[str, tuple[int, ...]] = {}
    _shapes(output, "", shapes)
    if not shapes:
        raise MeasurementError(
            f"the built model {described} ran but returned no tensors ({type(output).__name__}); "
            "make its forward return its hidden states or logits"
        )
    return shapes
