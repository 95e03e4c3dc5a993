"""Reduced-scale ablation deltas (``kind = "reduced_scale_delta"``): the paper's method run small, compared paired.

Each of ``recipe`` and ``reference`` is a distillation pre-training recipe (``harness.ml.pretrain_recipe``): a
student distilled from the teacher with the triple loss, or an ablation row of it, at the recipe's declared budget,
through the model cache (``harness.ml.pretrain_cache``). Both students are scored on the same held-out masked
tokens (the held-out file masked once with ``eval_seed``); the value is the difference of their top-1 masked-LM
accuracies in points (recipe minus reference), with a paired percentile bootstrap over the masked tokens.

Why held-out masked-LM accuracy and not the paper's GLUE macro-score: a GLUE fine-tune of every row multiplies the
cost and its seed noise (~1 point per task) swamps reduced-scale effects; masked-LM accuracy is what the students
are trained for, needs no second training and gives a paired interval over tokens. It is a different statistic
from Table 4's, so these claims are about the direction and order of the deltas (``scale = "reduced"`` claims),
never the paper's magnitudes: their tolerance is ``kind = "sign"`` (the sign of the paper's row, the band cut
strictly at zero by ``harness.verdict.bands``) and their order is an ordering claim over these deltas
(``kind = "order"``, judged on intervals by ``harness.verdict.ordering``). The interval covers the choice of
held-out tokens only, not the training seed (one seed per row), so a row's REPRODUCED is capped at
INCONCLUSIVE (``ONE_SEED``), as for a one-seed task score without a declared seed SD; the reason says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import ClaimError, MeasurementError, NotRunError
from harness.measure.kinds.checkpoints import check_architecture, checkpoint_path, task_runtime
from harness.measure.measurement import Context, Measurement
from harness.measure.registry import register
from harness.spec import Claim, ClaimsFile

if TYPE_CHECKING:
    from harness.ml.pretrain_recipe import PretrainRecipe

#: the statistic these measurements are (a claim's conditions name it)
STATISTIC = "change in held-out masked-LM accuracy"
#: why a row trained once cannot show REPRODUCED (as for one-seed task scores without a declared seed SD)
ONE_SEED = (
    "each row is one training seed: the interval covers the held-out tokens, not the spread over training "
    "seeds, so this evidence can be at best INCONCLUSIVE"
)
#: recipe fields that must agree for two rows to be scored on the same tokens
PAIRED_FIELDS = ("teacher", "held_out", "eval_seed", "max_length", "mlm_probability")


def _rows(claim: Claim, recipes: Mapping[str, Mapping[str, Any]]) -> tuple[PretrainRecipe, PretrainRecipe, bool]:
    """The claim's two pre-training rows and its ``smoke`` flag; a ``MeasurementError`` naming the field."""
    from harness.ml.pretrain_recipe import pretrain_recipe

    assert claim.measure is not None
    params = claim.measure.params
    smoke = params.get("smoke", False)
    if not isinstance(smoke, bool):
        raise MeasurementError(f"{claim.id}: measure.smoke: expected true or false, found {smoke!r}")
    for key in ("recipe", "reference"):
        if not isinstance(params[key], str) or params[key] not in recipes:
            raise MeasurementError(
                f"{claim.id}: measure.{key}: expected the name of a [recipes.<name>] table, found "
                f"{params[key]!r}; fix: name a distill_pretrain recipe (the ablation row, or the full triple loss)"
            )
    row = pretrain_recipe(recipes, str(params["recipe"]))
    reference = pretrain_recipe(recipes, str(params["reference"]))
    unpaired = [k for k in PAIRED_FIELDS if getattr(row, k) != getattr(reference, k)]
    if unpaired:
        raise MeasurementError(
            f"{claim.id}: recipes {row.name} and {reference.name} differ in {', '.join(unpaired)}; expected the same "
            "teacher and held-out masks (a paired comparison on the same tokens); fix: declare them in the base recipe"
        )
    return row, reference, smoke


def check_reduced_scale_claim(claim: Claim, declared: ClaimsFile) -> None:
    """At load: the claim is ``scale = "reduced"`` and both rows resolve as paired pre-training recipes."""
    if claim.scale != "reduced":
        raise ClaimError(
            claim.path,
            claim.id,
            "scale",
            'scale = "reduced" with its budget (a reduced-scale run says nothing about the paper\'s magnitudes)',
            repr(claim.scale),
            'add scale = "reduced" and budget = "..." to the claim',
        )
    try:
        for row in _rows(claim, declared.recipes)[:2]:
            for role in ("teacher", "student"):
                if getattr(row, role) not in declared.models:
                    raise MeasurementError(
                        f"[recipes.{row.name}]: field {role!r}: expected the name of a [models.<name>] table, found "
                        f"{getattr(row, role)!r}; fix: define [models.{getattr(row, role)}]"
                    )
    except MeasurementError as exc:
        raise ClaimError(
            claim.path,
            claim.id,
            "measure",
            'two paired [recipes.<name>] tables with kind = "distill_pretrain"',
            str(exc),
            "correct the recipes the claim's recipe and reference name (see above)",
        ) from None


@register(
    "reduced_scale_delta",
    required=("recipe", "reference"),
    optional=("smoke",),
    markers=("task",),
    check=check_reduced_scale_claim,
)
def reduced_scale_delta(claim: Claim, context: Context) -> Measurement:
    """Held-out masked-LM accuracy of ``recipe``'s student minus ``reference``'s, in points, paired over tokens."""
    from harness.core.stats import bootstrap_indices, mean_replicates, percentile_interval, rng

    row, reference, smoke = _rows(claim, context.file.recipes)

    def scored(r: PretrainRecipe) -> tuple[tuple[bool, ...], str]:
        return context.cached(("pretrained-row", context.file.path, r.name), lambda: _row(context, r, smoke))

    (hits_row, entry_row), (hits_ref, entry_ref) = scored(row), scored(reference)
    import numpy as np

    diff = np.asarray(hits_row, dtype=float) - np.asarray(hits_ref, dtype=float)
    replicates = 100.0 * mean_replicates(diff, bootstrap_indices(len(diff), rng(row.eval_seed)))
    value = 100.0 * float(diff.mean())
    return Measurement(
        value,
        "points",
        interval=percentile_interval(replicates),
        replicates=replicates,
        conditions={"statistic": STATISTIC, "masked_tokens": len(diff), "held_out": row.held_out},
        at_best_inconclusive=ONE_SEED,
        evidence={
            "path": f"pre-trained here at reduced scale: {row.describe()}; reference {reference.describe()}",
            "smoke": smoke,
            "cache_entries": [entry_row, entry_ref],
        },
        details={
            "accuracy": {row.name: float(np.mean(hits_row)), reference.name: float(np.mean(hits_ref))},
            "token_budget": {row.name: row.token_budget, reference.name: reference.token_budget},
            "interval": "paired percentile bootstrap over the held-out masked tokens (not over training seeds)",
        },
    )


def _row(context: Context, recipe: PretrainRecipe, smoke: bool) -> tuple[tuple[bool, ...], str]:
    """The per-token hits of the recipe's (cached) student on the held-out masks, and its cache entry."""
    from harness.ml.finetune import load_tokenizer
    from harness.ml.finetune_cache import checkpoint_digest
    from harness.ml.masked_lm import fixed_masked_batches, masked_lm_score
    from harness.ml.pretrain_cache import pretrained_student

    teacher_dir, student_dir = (_model_dir(context, recipe, role, smoke) for role in ("teacher", "student"))
    corpus, held_out = (_data_file(context, recipe, role) for role in ("corpus", "held_out"))
    runtime = task_runtime(context)
    digest = context.cached(("checkpoint-digest", str(teacher_dir)), lambda: checkpoint_digest(teacher_dir))
    notify = context.options.extra.get("notify")
    entry = pretrained_student(
        context.options.cache_dir, recipe, teacher_dir, digest, student_dir, corpus, runtime, notify
    )
    from transformers import AutoModelForMaskedLM

    tokenizer = load_tokenizer(entry.path)
    batches = fixed_masked_batches(
        tokenizer,
        held_out.read_text(encoding="utf-8").splitlines(),
        recipe.mlm_probability,
        recipe.eval_seed,
        batch_size=64,
        max_length=recipe.max_length,
    )
    model = AutoModelForMaskedLM.from_pretrained(str(entry.path), local_files_only=True).to(runtime.device)
    return masked_lm_score(model, batches, runtime.device).hits, str(entry.path)


def _model_dir(context: Context, recipe: PretrainRecipe, role: str, smoke: bool) -> Path:
    """The teacher's or student's checkpoint directory (the student's for its config.json only)."""
    name = getattr(recipe, role)
    if name not in context.file.models:
        raise MeasurementError(
            f"[recipes.{recipe.name}]: field {role!r}: expected the name of a [models.<name>] table, found {name!r}; "
            f"fix: define [models.{name}]"
        )
    spec = context.file.models[name]
    path = checkpoint_path(spec.hub_id, context, spec.revision)
    if path is None:
        how = f"--claims-models-dir DIR (or CLAIMS_MODELS_DIR=DIR) with DIR/{spec.hub_id}/, or the Hugging Face cache"
        raise NotRunError(
            f"the {role} checkpoint {spec.hub_id} of recipe {recipe.name} is not on this machine",
            f"{how} (once online: hf download {spec.hub_id})"
            + ("; its config.json gives the student's architecture" if role == "student" else "; a masked LM"),
            # "other": `python -m harness fetch` does not plan this kind's checkpoints (the terminal must not say so)
            {f"other {role} checkpoint {spec.hub_id}": f"{how} (once online: hf download {spec.hub_id})"},
        )
    check_architecture(spec, path, smoke)
    return path


def _data_file(context: Context, recipe: PretrainRecipe, role: str) -> Path:
    relative = getattr(recipe, role)
    root = context.options.data_dir
    path = None if root is None else Path(root) / relative
    if path is None or not path.is_file():
        how = f"--claims-data-dir DIR (or CLAIMS_DATA_DIR=DIR) with DIR/{relative} (one text a line)"
        raise NotRunError(
            f"the {role.replace('_', '-')} text of recipe {recipe.name} ({relative}) is not on this machine",
            how,
            {f"other {role.replace('_', '-')} text {relative}": how},
        )
    return path
