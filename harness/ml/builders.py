"""Building a model's architecture from a config mapping, and proving that the built model runs.

A *builder* is a function ``(auto_class, config, device, dtype) -> torch.nn.Module`` that returns the
architecture with random weights (or none, on ``meta``). ``BUILDERS`` is the one registry of builders; the
default, ``"transformers"``, calls ``transformers.<auto_class>.from_config``. A model transformers cannot
express (partial parameter sharing, a teacher with its own projection) gets its own builder, named in
``[models.<name>] builder = "..."`` in one of three ways:

1. a name registered with ``BUILDERS.add(name, function, origin)`` (from a conftest.py, say);
2. a name registered by an installed package under the entry-point group ``claims_harness.builders``
   (``BUILDERS`` loads those on first use);
3. a dotted path ``"package.module:function"`` importable from here.

``build_model`` resolves the config strictly first when the builder is the default one (``strict=True``,
``harness.ml.configs``), calls the builder, and checks that it returned a module. ``meta_forward_check``
runs a forward pass of such a model on ``meta`` input ids, which checks the shapes of every layer without
any arithmetic.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from harness.core.errors import MeasurementError, did_you_mean
from harness.core.registry import Registry, UnknownName
from harness.ml.configs import resolve_config_fields
from harness.ml.errors import FieldError, require_positive_int
from harness.ml.modules import model_device

#: ``(auto_class_name, config_mapping, device, dtype) -> torch.nn.Module`` with random (or no) weights
Builder = Callable[[str, Mapping[str, Any], str, Any], Any]

#: model builders by name; ``[models.<name>] builder = "..."`` picks one (default ``"transformers"``). Register
#: more with ``BUILDERS.add(name, function, origin)`` from a ``claims_harness.builders`` entry point or a conftest.py.
BUILDERS: Registry[Builder] = Registry("model builder", "claims_harness.builders")

DEFAULT_BUILDER = "transformers"
#: keys of a config.json that describe its saving, not the architecture: never passed to a config class
_SAVING_KEYS = ("model_type", "architectures", "transformers_version")


def build_config(config: Mapping[str, Any]) -> Any:
    """A transformers configuration object from a config.json-style mapping (no strictness: see ``build_model``)."""
    from transformers import AutoConfig

    values = {k: v for k, v in config.items() if k not in _SAVING_KEYS}
    return AutoConfig.for_model(config["model_type"], **values)


def auto_class(name: str) -> Any:
    """The transformers Auto class called ``name`` (``AutoModel``, ``AutoModelForSequenceClassification`` ...)."""
    import transformers

    cls = getattr(transformers, name, None)
    if cls is None or not isinstance(name, str) or not name.startswith("Auto"):
        raise FieldError(
            "auto_class",
            "a transformers Auto class",
            repr(name),
            "write e.g. 'AutoModel' or 'AutoModelForSequenceClassification'."
            + did_you_mean(str(name), [n for n in dir(transformers) if n.startswith("AutoModel")]),
        )
    return cls


def transformers_builder(auto_class_name: str, config: Mapping[str, Any], device: str, dtype: Any) -> Any:
    """The built-in builder: ``transformers.<auto_class>.from_config`` under ``torch.device(device)``."""
    import torch

    cls = auto_class(auto_class_name)
    cfg = build_config(config)
    with torch.device(device):
        return cls.from_config(cfg, dtype=dtype) if dtype else cls.from_config(cfg)


BUILDERS.add(DEFAULT_BUILDER, transformers_builder, "harness.ml.builders")


def _from_dotted_path(path: str) -> Builder:
    module_name, _, attribute = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise FieldError(
            "builder",
            "'package.module:function' naming an importable module",
            f"{path!r}: {type(exc).__name__}: {exc}",
            f"install the package that provides {module_name!r}, put it on PYTHONPATH, or correct the path",
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_")]
            raise FieldError(
                "builder",
                f"a function of module {module_name!r}",
                f"{path!r}: {getattr(target, '__name__', module_name)!r} has no attribute {part!r}",
                "correct the function's name." + did_you_mean(part, names),
            )
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def resolve_builder(name: str) -> Builder:
    """The builder called ``name``: registered (built in, entry point, conftest.py) or ``"package.module:function"``."""
    if not isinstance(name, str) or not name:
        raise FieldError("builder", "a builder's name or 'package.module:function'", repr(name), "write a name")
    if ":" in name:
        builder = _from_dotted_path(name)
    else:
        try:
            builder = BUILDERS[name]
        except UnknownName:
            known = sorted(BUILDERS)
            raise FieldError(
                "builder",
                f"a registered builder ({', '.join(known)}) or 'package.module:function'",
                repr(name),
                "correct the name, or write the dotted path of the function that builds the model."
                + did_you_mean(name, known),
            ) from None
    if not callable(builder):
        raise FieldError(
            "builder",
            "a function (auto_class, config, device, dtype) -> torch.nn.Module",
            f"{name!r} is a {type(builder).__name__}",
            "name a function",
        )
    return builder


def build_model(
    config: Mapping[str, Any],
    builder: str | Builder = DEFAULT_BUILDER,
    *,
    auto_class: str = "AutoModel",
    device: str = "meta",
    dtype: Any = None,
    strict: bool = True,
) -> Any:
    """The model ``builder`` makes from ``config`` on ``device`` (``meta``: shapes only), in eval mode.

    With the default builder and ``strict``, the config is first resolved strictly (unknown keys, wrong types
    and invalid combinations are ``FieldError``s); a checkpoint's config.json is built with ``strict=False``
    (it may carry keys of other transformers versions). Custom builders get the mapping as written.
    """
    import torch

    function = resolve_builder(builder) if isinstance(builder, str) else builder
    if strict and function is transformers_builder:
        model_type = config.get("model_type")
        if model_type is None:
            raise FieldError("model_type", "the config's model type", "no model_type", "add e.g. model_type = 'bert'")
        resolve_config_fields(model_type, config)
    model = function(auto_class, config, device, dtype)
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
