"""The fetch plan: exactly the hub artifacts a selection of claims needs, the claims each unlocks, and its size.

``plan(files, keyword)`` reads claims files (spec) and gives ``harness.ml.hub.Artifact`` s:

- a ``task_score`` claim: the published fine-tuned checkpoint of ``[models.<m>.finetuned]`` for its task (unless
  the task evidence is ``finetune``), else (and with ``finetune``) the base checkpoint its recipe fine-tunes (and,
  for a distillation recipe, its teacher's published checkpoint for the task or base checkpoint); and the data
  set's evaluation split (plus ``train`` when a base checkpoint is fine-tuned);
- a ``latency`` claim on a workload over real data: that split, and the tokenizer files of its tokenizer model;
- a formula claim: what the claims its formula uses need.

Data artifacts are one config and split of the repository (``allow_patterns`` ``<config>/<split>[-/]*``, the
``nyu-mll/glue`` layout and the Hub's parquet conversion). Pins (``revision``) and declared sizes come from the
claims file (``harness.spec.pins``). ``-k`` matches as pytest's ``-k`` does on claim items: case-insensitive
substrings of the claim id, the file name and the markers (``claims``, ``task``, ``speed``), with
``and``/``or``/``not`` and parentheses. Nothing here touches the network; ``harness.measure.fetching`` runs a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import HarnessError, MeasurementError
from harness.ml.hub import Artifact, equivalent_ids
from harness.ml.recipes import merged_table
from harness.spec import Claim, ClaimsFile, DatasetSpec, HubPin, ModelSpec

TASK_EVIDENCE = ("auto", "published", "finetune")
LOCK_NAME = "claims.lock.json"
#: the files of a checkpoint a tokenizer needs (a speed workload tokenizes; its weights are not read)
TOKENIZER_FILES = ("config.json", "tokenizer*", "vocab.txt", "special_tokens_map.json")


class PlanError(HarnessError):
    """A selection cannot be planned: a bad ``-k`` expression, or a claim that names something unknown."""


@attrs.frozen
class PlannedArtifact:
    """One artifact of a plan: what it is, why it is needed, and the claims (``file::id``) it unlocks."""

    artifact: Artifact
    purpose: str
    claims: tuple[str, ...]
    claims_files: tuple[str, ...]

    @property
    def size(self) -> str:
        size = self.artifact.size_bytes
        return "unknown" if size is None else human_size(size)


@attrs.frozen
class FetchPlan:
    """The artifacts of a selection, in first-needed order, and the selected claims that need none."""

    items: tuple[PlannedArtifact, ...]
    selected: tuple[str, ...]
    needs_nothing: tuple[str, ...]


def human_size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def lock_path_for(claims_file: Path) -> Path:
    """The default lock file of a claims file: ``claims.lock.json`` in the same folder."""
    return claims_file.parent / LOCK_NAME


def matcher(keyword: str | None, file_name: str) -> Callable[[Claim, set[str]], bool]:
    """pytest's ``-k`` matching on a claim item (claim id, file name, markers); everything when ``keyword`` is empty."""
    if not keyword or not keyword.strip():
        return lambda claim, markers: True
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(keyword)
    except Exception as exc:  # ParseError (its name and module vary between pytest versions)
        raise PlanError(f"-k {keyword!r}: not a keyword expression ({exc}); e.g. -k 'sst2 and not elmo'") from None

    def match(claim: Claim, markers: set[str]) -> bool:
        names = {claim.id, file_name, "claims", *markers}

        def one(sub: str, /, **kwargs: object) -> bool:
            return any(sub.lower() in name.lower() for name in names)

        return expression.evaluate(one)

    return match


def _markers(claim: Claim, claims_file: ClaimsFile, depth: int = 0) -> set[str]:
    from harness.measure.registry import KINDS

    if claim.measure is not None:
        return set(KINDS[claim.measure.kind].markers) if claim.measure.kind in KINDS else set()
    out: set[str] = set()
    for name in claim.formula.names if claim.formula and depth < 50 else ():
        try:
            out |= _markers(claims_file.claim(name), claims_file, depth + 1)
        except KeyError:
            continue
    return out


def dataset_pin(claims_file: ClaimsFile, hub_id: str) -> DatasetSpec | None:
    """The ``[datasets.<name>]`` entry whose hub id is ``hub_id`` or an alias of it."""
    ids = set(equivalent_ids(hub_id))
    for spec in claims_file.datasets.values():
        if ids & set(equivalent_ids(spec.hub_id)):
            return spec
    return None


def _model_artifact(pin: HubPin, patterns: tuple[str, ...] = ()) -> Artifact:
    return Artifact("model", pin.hub_id, revision=pin.revision, size_bytes=pin.size_bytes, allow_patterns=patterns)


def data_artifact(claims_file: ClaimsFile, task_name: str, split: str) -> Artifact:
    """The data set repository files of one task split (``split`` is ``train`` or ``eval``)."""
    from harness.ml.data import parquet_config, task

    t = task(task_name)
    config, name = parquet_config(t), t.hub_split(split)
    pin = dataset_pin(claims_file, t.hub_id)
    return Artifact(
        "dataset",
        pin.hub_id if pin is not None else t.hub_id,
        revision=pin.revision if pin is not None else None,
        allow_patterns=(f"{config}/{name}[-/]*",),
        size_bytes=pin.size_of(config) if pin is not None else None,
        config=config,
        split=name,
    )


def _recipe_table(claims_file: ClaimsFile, name: str | None) -> dict[str, Any] | None:
    """The recipe's table with its ``base`` chain applied, or None (no recipe, or one that does not resolve:
    measuring it says what is wrong)."""
    if not name or name not in claims_file.recipes:
        return None
    try:
        return merged_table(claims_file.recipes, name)
    except MeasurementError:
        return None


def _teacher_needs(
    claims_file: ClaimsFile, table: dict[str, Any], task_name: str, mode: str
) -> list[tuple[Artifact, str]]:
    """A distillation recipe's teacher: its published fine-tuned checkpoint for the task (unless ``finetune``),
    else its base checkpoint, fine-tuned here with ``teacher_recipe`` (as ``harness.measure.kinds.teacher``)."""
    spec = claims_file.models.get(str(table["teacher"]))
    if spec is None:
        return []
    published = spec.finetuned_pins.get(task_name)
    if published is not None and mode != "finetune":
        return [(_model_artifact(published), f"published fine-tuned checkpoint of the teacher {spec.name}")]
    if table.get("teacher_recipe") and spec.hub_id is not None:  # a model never released has no checkpoint
        base = spec.pin or HubPin(spec.hub_id)
        return [(_model_artifact(base), f"base checkpoint of the teacher {spec.name} (fine-tuned here)")]
    return []


def _task_needs(claims_file: ClaimsFile, claim: Claim, mode: str) -> list[tuple[Artifact, str]]:
    assert claim.measure is not None
    params = claim.measure.params
    spec: ModelSpec = claims_file.models[params["model"]]
    task_name = str(params["task"])
    recipe = params.get("recipe")
    published = spec.finetuned_pins.get(task_name)
    out: list[tuple[Artifact, str]] = []
    use_published = published is not None and mode != "finetune"
    if use_published:
        assert published is not None
        out.append((_model_artifact(published), f"published fine-tuned checkpoint of {spec.name} for {task_name}"))
    table = _recipe_table(claims_file, recipe)
    tune = table is not None and (mode == "finetune" or (mode == "auto" and not use_published))
    if tune and spec.hub_id is not None:  # a model never released has no base checkpoint to fetch
        assert table is not None
        base = spec.pin or HubPin(spec.hub_id)
        out.append((_model_artifact(base), f"base checkpoint of {spec.name} (fine-tuned here with recipe {recipe})"))
        if table.get("teacher"):
            out.extend(_teacher_needs(claims_file, table, task_name, mode))
        out.append((data_artifact(claims_file, task_name, "train"), f"{task_name} train split (fine-tuning)"))
    if out:
        out.append((data_artifact(claims_file, task_name, "eval"), f"{task_name} evaluation split"))
    return out


def _latency_needs(claims_file: ClaimsFile, claim: Claim) -> list[tuple[Artifact, str]]:
    assert claim.measure is not None
    params = claim.measure.params
    workload = claims_file.workloads.get(str(params.get("workload")), {})
    dataset = workload.get("dataset")
    if not dataset or not workload.get("text_fields"):
        return []
    from harness.ml.data import task

    t = task(str(dataset))
    split = "train" if workload.get("split") == "train" else "eval"
    tokenizer_model = str(workload.get("tokenizer") or params.get("model"))
    spec = claims_file.models.get(tokenizer_model)
    out = [(data_artifact(claims_file, t.name, split), f"{t.name} {t.hub_split(split)} split (timing workload)")]
    if spec is not None and spec.hub_id is not None:
        pin = spec.pin or HubPin(spec.hub_id)
        out.append((_model_artifact(pin, TOKENIZER_FILES), f"tokenizer of {spec.name} (timing workload)"))
    return out


def needs(claims_file: ClaimsFile, claim: Claim, mode: str = "auto", depth: int = 0) -> list[tuple[Artifact, str]]:
    """The artifacts one claim needs, each with why (see the module docstring)."""
    if mode not in TASK_EVIDENCE:
        raise PlanError(f"task evidence {mode!r}: expected one of {', '.join(TASK_EVIDENCE)}")
    if claim.measure is not None:
        kind = claim.measure.kind
        if kind == "task_score":
            return _task_needs(claims_file, claim, mode)
        if kind in ("latency", "speedup"):
            return _latency_needs(claims_file, claim)
        return []
    out: list[tuple[Artifact, str]] = []
    for name in claim.formula.names if claim.formula and depth < 50 else ():
        try:
            out.extend(needs(claims_file, claims_file.claim(name), mode, depth + 1))
        except KeyError:
            continue
    return out


def plan(
    files: Sequence[ClaimsFile],
    keyword: str | None = None,
    mode: str = "auto",
    chosen: Mapping[str, Collection[str]] | None = None,
) -> FetchPlan:
    """The artifacts the claims selected by ``keyword`` (pytest ``-k`` syntax) need, merged across claims.

    ``chosen`` (``{claims file path: claim ids}``), when given, selects instead: the items a pytest session kept.
    """
    from harness.measure.measurement import use_hub_aliases

    for claims_file in files:
        use_hub_aliases(claims_file)
    merged: dict[Artifact, tuple[str, list[str], list[str]]] = {}
    selected: list[str] = []
    nothing: list[str] = []
    for claims_file in files:
        match = matcher(keyword, Path(claims_file.path).name)
        for claim in claims_file.claims:
            if chosen is not None:
                if claim.id not in chosen.get(claims_file.path, ()):
                    continue
            elif not match(claim, _markers(claim, claims_file)):
                continue
            node = f"{claims_file.path}::{claim.id}"
            selected.append(node)
            wanted = needs(claims_file, claim, mode)
            if not wanted:
                nothing.append(node)
            for artifact, purpose in wanted:
                first, unlocked, paths = merged.setdefault(artifact, (purpose, [], []))
                if node not in unlocked:
                    unlocked.append(node)
                if claims_file.path not in paths:
                    paths.append(claims_file.path)
    _absorb_subsets(merged)
    items = tuple(
        PlannedArtifact(a, purpose, tuple(claims), tuple(paths)) for a, (purpose, claims, paths) in merged.items()
    )
    return FetchPlan(items, tuple(selected), tuple(nothing))


def _absorb_subsets(merged: dict[Artifact, tuple[str, list[str], list[str]]]) -> None:
    """A repository fetched whole (no ``allow_patterns``) also serves its file subsets (a tokenizer's files)."""
    whole = {(a.kind, a.repo_id, a.revision): a for a in merged if not a.allow_patterns}
    for artifact in [a for a in merged if a.allow_patterns and a.kind == "model"]:
        target = whole.get((artifact.kind, artifact.repo_id, artifact.revision))
        if target is None:
            continue
        purpose, claims, paths = merged.pop(artifact)
        first, into, into_paths = merged[target]
        merged[target] = (f"{first}; {purpose}", into + [c for c in claims if c not in into], into_paths)
        into_paths.extend(p for p in paths if p not in into_paths)


def describe_claims(nodes: Iterable[str], limit: int = 6) -> str:
    ids = [n.rsplit("::", 1)[-1] for n in nodes]
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
