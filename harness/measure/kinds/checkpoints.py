"""Where the task kinds find what they measure: checkpoints in the models dir or Hugging Face cache (at their
pinned revision), task data loaded once per session, the runtime, the ``fetch`` command that downloads what is
missing, and the refusal of a checkpoint whose sizes differ from the claims file's.

Shared by ``task_evidence`` (the student's or the published model's path) and ``teacher`` (a distillation
recipe's teacher).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core.errors import MeasurementError, NotRunError
from harness.measure.artifacts import dataset_pin
from harness.measure.measurement import Context
from harness.ml import data
from harness.spec import Claim, ModelSpec

if TYPE_CHECKING:
    from harness.ml.data import Task, TaskData
    from harness.ml.evaluation import Runtime


def checkpoint_path(
    hub_id: str | None, context: Context, revision: str | None = None, name: str | None = None
) -> Path | None:
    """The checkpoint's local directory (models dir, then the Hugging Face cache), or None. With the model's own
    ``name``, ``<models dir>/<claims file stem>/<name>`` is tried first (two papers' ``bert_base`` do not
    collide); a model without a hub id (never released) is found only under its name."""
    from harness.ml.models import checkpoint_dir

    if name is not None:
        found = checkpoint_dir(hub_id, name, context.options.models_dir, revision, scope=context.scope)
        if found is not None or hub_id is None:
            return found
    if hub_id is None:
        return None
    return checkpoint_dir(hub_id, hub_id.rsplit("/", 1)[-1], context.options.models_dir, revision)


def fetch_command(claim: Claim | None, context: Context) -> str:
    """The command that downloads what a claim needs (``python -m harness fetch``)."""
    target = f" -k {claim.id}" if claim is not None else ""
    return f"python -m harness fetch {context.file.path}{target}"


def published_revision(spec: ModelSpec, task: Task) -> str | None:
    pin = spec.finetuned_pins.get(task.name)
    return pin.revision if pin is not None else None


def data_revision(context: Context, task: Task) -> str | None:
    pin = dataset_pin(context.file, task.hub_id)
    return pin.revision if pin is not None else None


def task_data(context: Context, task: Task, split: str, claim: Claim | None = None) -> TaskData:
    """A split loaded once per session (both models of a claim pair score the same examples)."""
    options = context.options
    revision = data_revision(context, task)
    try:
        return context.cached(
            ("task-data", task.name, split, str(options.data_dir), options.data_source, revision),
            lambda: data.load(task, split, options, revision),
        )
    except NotRunError as exc:
        raise NotRunError(exc.reason, f"{fetch_command(claim, context)} (downloads it); or {exc.remedy}") from None


def task_runtime(context: Context) -> Runtime:
    from harness.ml.devices import resolve_device
    from harness.ml.evaluation import Runtime

    return context.cached(
        ("task-runtime", context.options.device), lambda: Runtime.for_device(resolve_device(context.options.device))
    )


def check_architecture(spec: ModelSpec, path: Path, smoke: bool) -> None:
    """Refuse a checkpoint whose sizes differ from the claims file's config, unless declared a stand-in."""
    if smoke:
        return
    try:
        found = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MeasurementError(f"{path / 'config.json'} cannot be read ({exc}); re-copy the checkpoint") from None
    differ = {
        k: (v, found[k])
        for k, v in spec.config.items()
        if isinstance(v, int) and not isinstance(v, bool) and k in found and found[k] != v
    }
    if differ:
        shown = ", ".join(f"{k} {f} (claims file: {v})" for k, (v, f) in differ.items())
        raise MeasurementError(
            f"the checkpoint at {path} is not the architecture of [models.{spec.name}.config]: {shown}. Point at the "
            "right checkpoint; if it is a deliberate tiny stand-in, add smoke = true to the claim's [claims.measure]"
        )
