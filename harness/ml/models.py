"""Finding a model's configuration and checkpoint: a local directory, the HF cache, or the claims file.

Nothing here downloads. A checkpoint is looked up in ``--claims-models-dir`` (``<dir>/<claims file stem>/<model
name>``, ``<dir>/<hub id>`` or ``<dir>/<model name>``), then in the Hugging Face cache; the configuration falls
back to the one written in the claims file, with its source recorded, never to a silent default. A found
checkpoint's config is compared with the file's (``harness.ml.configs.compare_configs``). Building goes
through the one builder registry, ``harness.ml.builders`` (re-exported here as ``BUILDERS``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from harness.core.errors import MeasurementError
from harness.ml.builders import BUILDERS, build_config, build_model
from harness.ml.configs import Difference, compare_configs
from harness.ml.errors import FieldError


class ModelSpec(Protocol):
    """What this module needs to know of a model (the claims file's ``[models.<name>]`` table fits)."""

    name: str
    hub_id: str | None
    auto_class: str
    config: Mapping[str, Any]
    config_source: str
    builder: str


@attrs.frozen
class ResolvedConfig:
    """A model configuration and where it came from."""

    config: dict[str, Any]
    origin: str
    #: the checkpoint directory the config was read from (None: the claims file's own config)
    checkpoint: Path | None = None
    #: where a checkpoint's config.json resolves differently from the claims file's config
    differences: Mapping[str, Difference] = attrs.field(factory=dict)

    def describe_differences(self) -> str:
        """The differing fields in words: ``hidden_size: file 768, checkpoint 512; ...``."""
        return "; ".join(f"{k}: file {d.declared!r}, checkpoint {d.found!r}" for k, d in self.differences.items())


def checkpoint_dir(hub_id: str | None, name: str, models_dir: Path | None, scope: str = "") -> Path | None:
    """The local directory of a checkpoint (with a config.json), or None when it is not on this machine.

    Looked up in ``models_dir`` as ``<scope>/<name>`` (``scope``: the claims file's stem, so that two papers'
    ``base_model`` do not collide), then ``<hub id>``, then ``<name>``; then in the Hugging Face cache. A model
    without a hub id (never released) is only found under its scoped or plain name.
    """
    if models_dir is not None:
        candidates = [models_dir / scope / name] if scope else []
        candidates += [models_dir / hub_id] if hub_id else []
        candidates.append(models_dir / name)
        for candidate in candidates:
            if (candidate / "config.json").is_file():
                return candidate
    if not hub_id:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return None
    cached = try_to_load_from_cache(hub_id, "config.json")
    if isinstance(cached, str):
        return Path(cached).parent
    return None


def resolve_config(spec: ModelSpec, models_dir: Path | None, scope: str = "") -> ResolvedConfig:
    """The checkpoint's own config.json when the checkpoint is found (with the fields in which it differs from
    the claims file's config), else the claims file's config."""
    found = checkpoint_dir(spec.hub_id, spec.name, models_dir, scope)
    if found is not None:
        path = found / "config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MeasurementError(
                f"the checkpoint config {path} cannot be read ({exc}); delete or repair that checkpoint"
            ) from None
        try:
            differences = compare_configs(spec.config, config) if spec.builder == "transformers" else {}
        except FieldError as exc:
            raise MeasurementError(f"comparing {path} with [models.{spec.name}.config]: {exc}") from None
        return ResolvedConfig(config, f"config.json of {spec.hub_id or spec.name} at {path}", found, differences)
    return ResolvedConfig(dict(spec.config), f"claims file [models.{spec.name}.config] ({spec.config_source})")


def build_spec_model(spec: ModelSpec, resolved: ResolvedConfig, device: str = "meta", dtype: Any = None) -> Any:
    """The model a ``[models.<name>]`` table describes, from its resolved config, through ``build_model``
    (strict on the claims file's own config, lenient on a checkpoint's config.json)."""
    return build_model(
        resolved.config,
        spec.builder,
        auto_class=spec.auto_class,
        device=device,
        dtype=dtype,
        strict=resolved.checkpoint is None,
    )


__all__ = [
    "BUILDERS",
    "ModelSpec",
    "build_config",
    "ResolvedConfig",
    "build_spec_model",
    "checkpoint_dir",
    "resolve_config",
]
