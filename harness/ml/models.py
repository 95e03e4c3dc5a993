"""Finding a model's configuration and checkpoint: a local directory, the HF cache, or the claims file.

Nothing here downloads. A checkpoint is looked up in ``--claims-models-dir`` (``<dir>/<hub id>`` or
``<dir>/<model name>``), then in the Hugging Face hub cache (old and new canonical ids alike); the configuration
falls back to the one written in the claims file, with its source recorded, never to a silent default.
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


class ModelSpec(Protocol):
    """What this module needs to know of a model (the claims file's ``[models.<name>]`` table fits)."""

    name: str
    hub_id: str
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


def checkpoint_dir(hub_id: str, name: str, models_dir: Path | None, revision: str | None = None) -> Path | None:
    """The local directory of a checkpoint (with a config.json), or None when it is not on this machine.

    ``models_dir`` first (``<dir>/<hub id>`` under the id or any alias of it, then ``<dir>/<name>``), then the
    hub cache through ``harness.ml.hub.find_cached`` (the id and its aliases, both directions; ``revision``
    honoured: a pinned commit is only that snapshot). Never touches the network. Containment (defense in depth:
    the claims loader already refuses such ids): an id that is absolute or whose ``..`` would leave ``models_dir``
    is a ``MeasurementError``, never a directory outside it.
    """
    from harness.ml.hub import Artifact, HubCacheError, equivalent_ids, find_cached

    if models_dir is not None:
        for relative in (*equivalent_ids(hub_id), name):
            try:
                candidate = contained(models_dir, relative)
            except OutsideError as exc:
                raise MeasurementError(
                    f"checkpoint id {hub_id!r} of model {name!r}: {exc}; a checkpoint is looked up only inside "
                    "--claims-models-dir: write a Hub id ('name' or 'org/name')"
                ) from None
            if (candidate / "config.json").is_file():
                return candidate
    try:
        return find_cached(Artifact("model", hub_id, revision=revision, allow_patterns=("config.json",)))
    except HubCacheError as exc:
        raise MeasurementError(str(exc)) from None


def resolve_config(spec: ModelSpec, models_dir: Path | None) -> ResolvedConfig:
    """The checkpoint's own config.json when the checkpoint is found, else the claims file's config."""
    found = checkpoint_dir(spec.hub_id, spec.name, models_dir)
    if found is not None:
        path = found / "config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MeasurementError(
                f"the checkpoint config {path} cannot be read ({exc}); delete or repair that checkpoint"
            ) from None
        return ResolvedConfig(config, f"config.json of {spec.hub_id} at {path}")
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
    try:
        builder = BUILDERS[name]
    except UnknownName as exc:
        raise MeasurementError(f"[models.{spec.name}] builder: {exc}") from None
    return builder(spec.auto_class, config, device, dtype).eval()
