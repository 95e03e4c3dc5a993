"""Cost before spending (issue 12, item 6): what each claim will take to measure, and its tier.

An estimate, never a measurement, from declared tables (their sources below) and the claims file:

- **evaluation** seconds = evaluation examples x mean length (tokens) x forward FLOPs per token / the device's
  effective FLOP/s;
- **fine-tuning** seconds = training examples x mean length x epochs x seeds x 3 x forward FLOPs per token (a
  training step is about three forward passes) / the same effective FLOP/s.

Forward FLOPs per token of a transformer encoder: ``2 L (4 H^2 + 2 H I)`` (L layers, width H, feed-forward width
I: the matmuls of the attention projections and the feed-forward; attention scores, embeddings and the head are
left out, small at these lengths). BERT-base: 1.699e8; DistilBERT: half.

**Effective FLOP/s per device** (``EFFECTIVE_FLOPS``; a default table, not a probe of this machine):

- ``cpu``: 2.378e10 = 140 tokens/s x 1.699e8, the evaluation throughput of BERT-base that issue 12 measured on a
  2-core CPU shared with other jobs (DistilBERT measured 270-400 tokens/s there; this table gives it 280);
- ``cuda``: 9.36e13 = 30% of 312 TFLOP/s, the dense bf16 peak of an NVIDIA A100 (its datasheet); the 30%
  utilization is an assumption.

**Mean lengths** (``MEAN_TOKENS``: WordPiece tokens per example, both segments and special tokens, before
truncation) are approximate: QQP (34), IMDb (282) and SQuAD (167) are back-computed from issue 12's timings
(QQP dev 2.7 h, IMDb test ~14 h and SQuAD dev 3.5 h at 140 tokens/s); the others are rough estimates of each
set's typical length. Lengths are capped at the recipe's ``max_length`` when it is shorter.

**Tiers** (of the estimate on the chosen device): ``laptop minutes`` under an hour, ``laptop hours`` under a
day, else ``one GPU``: on a CPU a day or more; run it with ``--claims-device cuda``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from harness.spec import Claim, ClaimsFile

#: effective FLOP/s of each device kind (see the module docstring for where the numbers come from)
EFFECTIVE_FLOPS = {"cpu": 140.0 * 1.69869312e8, "cuda": 0.30 * 312e12}
THROUGHPUT_SOURCE = {
    "cpu": "default table: BERT-base 140 tokens/s, measured in issue 12 on a 2-core CPU, scaled by FLOPs",
    "cuda": "default table: 30% (assumed) of an A100's 312 TFLOP/s bf16 peak",
}
#: approximate mean WordPiece tokens per example (module docstring)
MEAN_TOKENS = {
    "glue/cola": 11,
    "glue/sst2": 27,
    "glue/mrpc": 53,
    "glue/qqp": 34,
    "glue/stsb": 31,
    "glue/mnli": 39,
    "glue/qnli": 50,
    "glue/rte": 70,
    "glue/wnli": 38,
    "imdb": 282,
    "squad_v1": 167,
}
#: training examples per task (the training splits' sizes)
TRAIN_EXAMPLES = {
    "glue/cola": 8551,
    "glue/sst2": 67349,
    "glue/mrpc": 3668,
    "glue/qqp": 363846,
    "glue/stsb": 5749,
    "glue/mnli": 392702,
    "glue/qnli": 104743,
    "glue/rte": 2490,
    "glue/wnli": 635,
    "imdb": 25000,
    "squad_v1": 87599,
}
MINUTES_TIER, HOURS_TIER = 3600.0, 86400.0
TIERS = ("laptop minutes", "laptop hours", "one GPU")


def forward_flops_per_token(config: Mapping[str, Any]) -> float | None:
    """``2 L (4 H^2 + 2 H I)`` from a BERT- or DistilBERT-style config; None when the sizes are not there."""
    layers = config.get("num_hidden_layers", config.get("n_layers"))
    width = config.get("hidden_size", config.get("dim"))
    ffn = config.get("intermediate_size", config.get("hidden_dim"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (layers, width)):
        return None
    ffn = ffn if isinstance(ffn, int) and not isinstance(ffn, bool) and ffn > 0 else 4 * width
    return 2.0 * layers * (4 * width * width + 2 * width * ffn)


def tier(seconds: float) -> str:
    return TIERS[0] if seconds < MINUTES_TIER else TIERS[1] if seconds < HOURS_TIER else TIERS[2]


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@attrs.frozen
class Cost:
    """One claim's estimated cost on a device; ``key`` identifies the work (claims sharing it pay once)."""

    claim_id: str
    seconds: float
    what: str
    key: tuple[Any, ...] | None = None

    @property
    def tier(self) -> str:
        return tier(self.seconds)

    @property
    def line(self) -> str:
        return f"cost ~{duration(self.seconds)} ({self.tier}): {self.what}"


def evaluation_seconds(examples: int, mean_tokens: float, flops_per_token: float, device: str) -> float:
    return examples * mean_tokens * flops_per_token / EFFECTIVE_FLOPS[_kind(device)]


def finetune_seconds(
    examples: int, mean_tokens: float, flops_per_token: float, epochs: float, seeds: int, device: str
) -> float:
    return 3.0 * examples * mean_tokens * epochs * seeds * flops_per_token / EFFECTIVE_FLOPS[_kind(device)]


def _kind(device: str) -> str:
    return "cuda" if device.startswith("cuda") else "cpu"


def claim_cost(claim: Claim, claims_file: ClaimsFile, task_evidence: str, device: str) -> Cost | None:
    """A task claim's estimated cost (None for a claim without one: formulas, architecture, timing ...)."""
    from harness.ml.tasks import EVAL_EXAMPLES

    if claim.formula is not None or claim.measure is None or claim.measure.kind != "task_score":
        return None
    params = claim.measure.params
    spec = claims_file.models.get(str(params.get("model")))
    task = str(params.get("task"))
    if spec is None or task not in EVAL_EXAMPLES:
        return None
    flops = forward_flops_per_token(spec.config)
    if flops is None:
        return None
    recipe = _recipe(claims_file, params.get("recipe"), task)
    length = float(MEAN_TOKENS[task])
    if recipe is not None:
        length = min(length, float(recipe.max_length))
    n_eval = EVAL_EXAMPLES[task]
    published = task in spec.finetuned and task_evidence != "finetune"
    if published or recipe is None or task_evidence == "published":
        seconds = evaluation_seconds(n_eval, length, flops, device)
        checkpoint = spec.finetuned.get(task, spec.hub_id)
        what = f"evaluate {checkpoint} on {n_eval} examples x ~{length:.0f} tokens"
        return Cost(claim.id, seconds, what, ("evaluate", checkpoint, task))
    n_seeds, n_train = len(recipe.seeds), TRAIN_EXAMPLES[task]
    train = finetune_seconds(n_train, length, flops, recipe.epochs, n_seeds, device)
    evaluate = n_seeds * evaluation_seconds(n_eval, length, flops, device)
    what = (
        f"fine-tune {spec.hub_id} ({n_train} examples x ~{length:.0f} tokens x {recipe.epochs:g} epochs x "
        f"{n_seeds} seed(s)) and evaluate each seed on {n_eval} examples"
        + ("; the teacher's forward passes are not counted" if recipe.teacher else "")
    )
    return Cost(claim.id, train + evaluate, what, ("finetune", spec.name, task, recipe.name))


def _recipe(claims_file: ClaimsFile, name: Any, task: str) -> Any:
    """The claim's recipe resolved for the task (None without one, or when it does not resolve: an error elsewhere)."""
    from harness.core.errors import MeasurementError
    from harness.ml.recipes import recipe
    from harness.ml.tasks import task as task_named

    if not name:
        return None
    try:
        return recipe(claims_file.recipes, str(name), task_named(task))
    except MeasurementError:
        return None


def summary(costs: list[Cost], device: str, each: bool = False) -> str:
    """One line: the total of distinct work (claims sharing a run pay once), per tier, and the table's source."""
    distinct: dict[Any, Cost] = {}
    for c in costs:
        distinct.setdefault(c.key or c.claim_id, c)
    total = sum(c.seconds for c in distinct.values())
    counts = {t: sum(1 for c in costs if c.tier == t) for t in TIERS}
    tiers = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
    return (
        f"claims cost (estimate on {_kind(device)}, {THROUGHPUT_SOURCE[_kind(device)]}): ~{duration(total)} for "
        f"{len(costs)} task claims ({len(distinct)} distinct runs): {tiers or 'none'}"
        + ("" if each else " (each claim's estimate: -v or --collect-only)")
    )
