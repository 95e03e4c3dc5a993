"""Finding a model's configuration and checkpoint: a local directory, the HF cache, or the claims file.

Nothing here downloads. A checkpoint is looked up in ``--claims-models-dir`` (``<dir>/<claims file stem>/<model
name>``, ``<dir>/<hub id>`` or ``<dir>/<model name>``), then in the Hugging Face hub cache (old and new canonical
ids alike); the configuration falls back to the one written in the claims file, with its source recorded, never
to a silent default. A checkpoint's config.json is compared with the file's (``harness.ml.configs.compare_configs``):
the fields in which it resolves differently are in ``ResolvedConfig.differences``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from harness.core.errors import MeasurementError
from harness.core.files import OutsideError, contained
from harness.core.registry import Registry, UnknownName
from harness.ml.configs import Difference, compare_configs
from harness.ml.errors import FieldError


class ModelSpec(Protocol):
    """What this module needs to know of a model (the claims file's ``[models.<name>]`` table fits)."""

    name: str
    #: None for a model whose weights were never released
    hub_id: str | None
    auto_class: str
    config: Mapping[str, Any]
    config_source: str


#: ``(auto_class_name, config_mapping, device, dtype) -> torch.nn.Module`` with random (or no) weights
Builder = Callable[[str, Mapping[str, Any], str, Any], Any]

#: model builders by name; ``[models.<name>] builder = "..."`` picks one (default ``"transformers"``). Register
#: more with ``BUILDERS.add(name, function)`` from a ``claims_harness.builders`` entry point or a conftest.py.
BUILDERS: Registry[Builder] = Registry("model builder", "claims_harness.builders")


@attrs.frozen
class ResolvedConfig:
    """A model configuration and where it came from."""

    config: dict[str, Any]
    origin: str
    #: the checkpoint directory the config was read from (None: the claims file's own config)
    checkpoint: Path | None = None
    #: where a checkpoint's config.json resolves differently from the claims file's config
    differences: Mapping[str, Difference] = attrs.field(factory=dict)


def checkpoint_dir(
    hub_id: str | None, name: str, models_dir: Path | None, revision: str | None = None, *, scope: str = ""
) -> Path | None:
    """The local directory of a checkpoint (with a config.json), or None when it is not on this machine.

    ``models_dir`` first (``<dir>/<scope>/<name>`` when a ``scope`` is given: the claims file's stem, so that two
    papers' ``bert_base`` do not collide; then ``<dir>/<hub id>`` under the id or any alias of it, then
    ``<dir>/<name>``), then the
    hub cache through ``harness.ml.hub.find_cached`` (the id and its aliases, both directions; ``revision``
    honoured: a pinned commit is only that snapshot). Never touches the network. Containment (defense in depth:
    the claims loader already refuses such ids): an id that is absolute or whose ``..`` would leave ``models_dir``
    is a ``MeasurementError``, never a directory outside it. A model without a hub id (never released) is only
    found under its scoped or plain name.
    """
    from harness.ml.hub import Artifact, HubCacheError, equivalent_ids, find_cached

    if models_dir is not None:
        scoped = [f"{scope}/{name}"] if scope else []
        for relative in (*scoped, *(equivalent_ids(hub_id) if hub_id else ()), name):
            try:
                candidate = contained(models_dir, relative)
            except OutsideError as exc:
                raise MeasurementError(
                    f"checkpoint id {hub_id!r} of model {name!r}: {exc}; a checkpoint is looked up only inside "
                    "--claims-models-dir: write a Hub id ('name' or 'org/name')"
                ) from None
            if (candidate / "config.json").is_file():
                return candidate
    if not hub_id:
        return None
    try:
        return find_cached(Artifact("model", hub_id, revision=revision, allow_patterns=("config.json",)))
    except HubCacheError as exc:
        raise MeasurementError(str(exc)) from None


def resolve_config(spec: ModelSpec, models_dir: Path | None, scope: str = "") -> ResolvedConfig:
    """The checkpoint's own config.json when the checkpoint is found (with the fields in which it resolves
    differently from the claims file's config), else the claims file's config."""
    found = checkpoint_dir(spec.hub_id, spec.name, models_dir, scope=scope)
    if found is not None:
        path = found / "config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MeasurementError(
                f"the checkpoint config {path} cannot be read ({exc}); delete or repair that checkpoint"
            ) from None
        try:
            same_builder = getattr(spec, "builder", "transformers") == "transformers"
            differences = compare_configs(spec.config, config) if same_builder else {}
        except FieldError as exc:
            raise MeasurementError(f"comparing {path} with [models.{spec.name}.config]: {exc}") from None
        return ResolvedConfig(config, f"config.json of {spec.hub_id or spec.name} at {path}", found, differences)
    return ResolvedConfig(dict(spec.config), f"claims file [models.{spec.name}.config] ({spec.config_source})")


def build_config(config: dict[str, Any]) -> Any:
    """A transformers configuration object from a config.json-style mapping."""
    from transformers import AutoConfig

    values = {k: v for k, v in config.items() if k not in ("model_type", "architectures", "transformers_version")}
    return AutoConfig.for_model(config["model_type"], **values)


def auto_class(name: str) -> Any:
    """The transformers Auto class called ``name`` (``AutoModel``, ``AutoModelForSequenceClassification`` ...)."""
    import transformers

    cls = getattr(transformers, name, None)
    if cls is None or not name.startswith("Auto"):
        raise MeasurementError(f"auto_class {name!r} is not a transformers Auto class (e.g. 'AutoModel')")
    return cls


def transformers_builder(auto_class_name: str, config: Mapping[str, Any], device: str, dtype: Any) -> Any:
    """The built-in builder: ``transformers.<auto_class>.from_config`` under ``torch.device(device)``."""
    import torch

    cfg = build_config(dict(config))
    cls = auto_class(auto_class_name)
    with torch.device(device):
        return cls.from_config(cfg, dtype=dtype) if dtype else cls.from_config(cfg)


BUILDERS.add("transformers", transformers_builder, "harness.ml.models")


def build_model(spec: ModelSpec, config: dict[str, Any], device: str = "meta", dtype: Any = None) -> Any:
    """The model's architecture with random (or, on ``meta``, no) weights: no checkpoint is read."""
    name = getattr(spec, "builder", "transformers")
    if ":" in name:  # "package.module:function": a ``config -> module`` function (docs/extending.md)
        import torch

        from harness.ml.dotted import from_dotted_path

        try:
            function = from_dotted_path(name)
        except FieldError as exc:
            raise MeasurementError(f"[models.{spec.name}] builder: {exc.found}. {exc.fix}") from None
        with torch.device(device):
            model = function(config)
        if not isinstance(model, torch.nn.Module):
            raise MeasurementError(f"[models.{spec.name}] builder {name!r} returned a {type(model).__name__}")
        return (model.to(dtype) if dtype is not None else model).eval()
    try:
        builder = BUILDERS[name]
    except UnknownName as exc:
        raise MeasurementError(f"[models.{spec.name}] builder: {exc}") from None
    return builder(spec.auto_class, config, device, dtype).eval()
