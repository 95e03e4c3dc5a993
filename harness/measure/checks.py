"""Collection-time checks of a loaded claims file that need the ML layer: strict configs, builders, FLOP settings.

The claims language (``harness.spec``) checks what a file says without knowing any model; what only the ML
layer can judge is checked here, right after loading and before anything is measured:

- each ``[models.<name>]`` table: its builder resolves (a registered name, an entry point or
  ``"package.module:function"``); with the default builder its config resolves strictly (unknown keys with
  "did you mean", wrong types, invalid combinations: ``harness.ml.configs``); and the built model runs one
  forward pass on the ``meta`` device (shapes only, no arithmetic);
- each ``flops`` claim: its convention is valid and its ``seq_len`` fits the model's
  ``max_position_embeddings``;
- each ``latency`` and ``speedup`` claim: its workload table parses and its longest synthetic input fits
  the timed models' ``max_position_embeddings``;
- each ``task_score`` claim: its task is known, its metric suits the task, its split is the one scored
  (or a GLUE test split, which runs as NOT_RUN), and its recipe resolves for the task.

A problem becomes the record's ``InvalidRecord`` (one failing item with the file, claim, field, expected,
found and fix), and so does every claim that uses a broken model or derives from a broken claim; the
other claims still run.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import ClaimError, HarnessError
from harness.ml.errors import FieldError
from harness.spec import Claim, ClaimsFile, InvalidRecord, ModelSpec

#: the sequence length of the collection-time forward pass on the meta device
CHECK_SEQ_LEN = 8


def _model_error(claims_file: ClaimsFile, spec: ModelSpec) -> tuple[ClaimError | None, Any]:
    """The first problem of a model table (or None) and the resolved strict config (or None)."""
    from harness.ml.builders import build_model, meta_forward_check, resolve_builder
    from harness.ml.configs import resolve_config_fields

    prefix = f"models.{spec.name}."
    resolved = None
    try:
        builder = resolve_builder(spec.builder)
        if spec.builder == "transformers":
            resolved = resolve_config_fields(str(spec.config.get("model_type")), spec.config)
            model = build_model(spec.config, builder, auto_class=spec.auto_class)
        else:
            model = build_model(spec.config, builder, auto_class=spec.auto_class)
    except FieldError as exc:
        field_prefix = prefix if exc.field in ("builder", "auto_class") else prefix + "config."
        return exc.to_claim_error(claims_file.path, None, field_prefix), None
    except HarnessError as exc:
        return ClaimError(
            claims_file.path, None, prefix + "builder", "a builder that builds the model", str(exc), "fix the builder"
        ), None
    except Exception as exc:  # a user's builder failing in its own code
        return ClaimError(
            claims_file.path,
            None,
            prefix + "builder",
            "a builder that builds the model from its config",
            f"{type(exc).__name__}: {exc}",
            "fix the builder or the config it is given",
        ), None
    parameters = inspect.signature(model.forward).parameters
    takes_ids = "input_ids" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    if takes_ids:
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        length = min(CHECK_SEQ_LEN, limit) if isinstance(limit, int) and limit > 0 else CHECK_SEQ_LEN
        try:
            meta_forward_check(model, length)
        except HarnessError as exc:
            return ClaimError(
                claims_file.path,
                None,
                prefix + "config",
                "a configuration whose model runs (one forward pass on the meta device)",
                str(exc),
                "correct the config's sizes or the builder",
            ), resolved
    return None, resolved


def _flops_error(claim: Claim, spec: ModelSpec, resolved: Any) -> ClaimError | None:
    from harness.measure.kinds.flops import FLOP_OPTIONS
    from harness.ml.errors import require_positive_int
    from harness.ml.flops import FlopConvention

    assert claim.measure is not None
    params = {**FLOP_OPTIONS, **claim.measure.params}
    try:
        FlopConvention(params["multiply_add"], params["attention_scores"], params["embeddings"], params["head"])
        seq_len = require_positive_int("seq_len", params["seq_len"])
        require_positive_int("batch", params["batch"])
    except FieldError as exc:
        return exc.to_claim_error(claim.path, claim.id, "measure.")
    limit = None if resolved is None else resolved.values.get("max_position_embeddings")
    if isinstance(limit, int) and seq_len > limit:
        return ClaimError(
            claim.path,
            claim.id,
            "measure.seq_len",
            f"at most [models.{spec.name}]'s max_position_embeddings ({limit})",
            str(seq_len),
            f"count at a sequence length <= {limit}, or declare the config the paper used",
        )
    return None


def _task_error(claim: Claim, tables: Mapping[str, Mapping[str, Any]]) -> ClaimError | None:
    """A task claim's task, metric, split and recipe, checked before any run."""
    from harness.core.errors import MeasurementError
    from harness.measure.kinds.task_score import check_task_claim
    from harness.ml import data
    from harness.ml.recipes import recipe

    assert claim.measure is not None
    params = claim.measure.params
    try:
        task = data.task(str(params["task"]))
    except (MeasurementError, KeyError) as exc:
        return ClaimError(claim.path, claim.id, "measure.task", "a task the harness knows", str(exc), "use one")
    try:
        check_task_claim(claim, task)
    except MeasurementError as exc:
        return ClaimError(claim.path, claim.id, "metric", "a metric and split of the task", str(exc), "correct it")
    if isinstance(params.get("recipe"), str):
        try:
            recipe(tables, params["recipe"], task)
        except MeasurementError as exc:
            field = f"recipes.{params['recipe']}"
            return ClaimError(claim.path, claim.id, field, "a recipe that fine-tunes", str(exc), "correct the recipe")
    return None


def _workload_error(claim: Claim, claims_file: ClaimsFile, resolved: Mapping[str, Any]) -> ClaimError | None:
    """A timed claim's workload table parses, and its longest input fits every timed model's positions."""
    from harness.measure.kinds.latency.workload import parse_workload

    assert claim.measure is not None
    params = claim.measure.params
    name = params["workload"]
    try:
        workload = parse_workload(claim, name, claims_file.workloads[name])
    except ClaimError as exc:
        return exc
    lengths = workload.synthetic_lengths
    longest = {"fixed": lengths.get("length"), "empirical": max(lengths.get("lengths", [0]))}.get(
        lengths["distribution"], lengths.get("max")
    )
    longest = min(int(longest), workload.max_length)
    for key in ("model", "baseline"):
        model = params.get(key)
        fields = resolved.get(model) if isinstance(model, str) else None
        limit = None if fields is None else fields.values.get("max_position_embeddings")
        if isinstance(limit, int) and longest > limit:
            return ClaimError(
                claim.path,
                claim.id,
                f"workloads.{name}.synthetic_lengths",
                f"inputs of at most [models.{model}]'s max_position_embeddings ({limit}) tokens",
                f"inputs of up to {longest} tokens",
                f"lower the lengths (or max_length) to {limit}, or declare the config the paper used",
            )
    return None


def _dependents(claims: Mapping[str, Claim], broken: set[str]) -> dict[str, str]:
    """Claims whose formula uses a broken claim (transitively): id -> the broken component."""
    out: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for cid, claim in claims.items():
            if cid in broken or cid in out or claim.formula is None:
                continue
            hit = next((n for n in claim.formula.names if n in broken or n in out), None)
            if hit is not None:
                out[cid] = hit
                changed = True
    return out


def check_file(claims_file: ClaimsFile) -> ClaimsFile:
    """The file with every problem the ML layer finds turned into an ``InvalidRecord``."""
    invalid = list(claims_file.invalid)
    broken_models: dict[str, ClaimError] = {}
    resolved: dict[str, Any] = {}
    for name, spec in claims_file.models.items():
        error, fields = _model_error(claims_file, spec)
        if error is not None:
            broken_models[name] = error
            invalid.append(InvalidRecord(f"<models.{name}>", error))
        resolved[name] = fields
    claims = {c.id: c for c in claims_file.claims}
    broken: dict[str, ClaimError] = {}
    for cid, claim in claims.items():
        model = claim.measure.params.get("model") if claim.measure else None
        used = [claim.measure.params.get(k) for k in ("model", "baseline")] if claim.measure else []
        model_broken = next((m for m in used if isinstance(m, str) and m in broken_models), None)
        if model_broken is not None:
            model = model_broken
            broken[cid] = ClaimError(
                claim.path,
                cid,
                "measure.model",
                "a valid model",
                f"[models.{model}], which is invalid",
                f"fix [models.{model}] (see its own error)",
            )
        elif claim.measure is not None and claim.measure.kind == "flops" and isinstance(model, str):
            error = _flops_error(claim, claims_file.models[model], resolved.get(model))
            if error is not None:
                broken[cid] = error
        elif claim.measure is not None and claim.measure.kind in ("latency", "speedup"):
            error = _workload_error(claim, claims_file, resolved)
            if error is not None:
                broken[cid] = error
        elif claim.measure is not None and claim.measure.kind == "task_score":
            error = _task_error(claim, claims_file.recipes)
            if error is not None:
                broken[cid] = error
    for cid, component in _dependents(claims, set(broken)).items():
        broken[cid] = ClaimError(
            claims[cid].path,
            cid,
            "formula",
            "a formula over valid claims",
            f"component {component!r}, which is invalid",
            f"fix {component} (see its own error)",
        )
    if not broken and len(invalid) == len(claims_file.invalid):
        return claims_file
    invalid.extend(InvalidRecord(cid, err) for cid, err in broken.items())
    return attrs.evolve(
        claims_file,
        claims=tuple(c for c in claims_file.claims if c.id not in broken),
        invalid=tuple(invalid),
    )
