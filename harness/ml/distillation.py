"""The distillation losses of DistilBERT (arXiv 1910.01108), their weights, the cache-key inputs of a distilled
model and a FLOP estimate for the reduced-scale pre-training run.

The formulas follow the authors' code in huggingface/transformers, ``examples/research_projects/distillation/``:

- ``run_squad_w_distillation.py`` (distillation during fine-tuning, the paper's "(D)" models)::

      loss_fct = nn.KLDivLoss(reduction="batchmean")
      loss_start = loss_fct(log_softmax(start_stu / T), softmax(start_tea / T)) * T**2
      loss_end = loss_fct(log_softmax(end_stu / T), softmax(end_tea / T)) * T**2
      loss_ce = (loss_start + loss_end) / 2.0
      loss = alpha_ce * loss_ce + alpha_squad * loss        # loss: the model's own SQuAD loss

  with defaults T = 2.0, alpha_ce = 0.5, alpha_squad = 0.5. The classification analogue here uses the same
  soft-target term on the sequence-classification logits (the authors published only the SQuAD script).
- ``distiller.py`` (the triple loss of pre-training)::

      loss_ce = KLDivLoss(batchmean)(log_softmax(s_slct / T), softmax(t_slct / T)) * T**2
      loss_mlm = CrossEntropyLoss(ignore_index=-100)(s_logits, lm_labels)
      loss_cos = CosineEmbeddingLoss(reduction="mean")(s_hidden_slct, t_hidden_slct, target=1)
      loss = alpha_ce * loss_ce + alpha_mlm * loss_mlm + alpha_cos * loss_cos

  where ``*_slct`` are the rows of the non-padding positions (``attention_mask``; with ``restrict_ce_to_mask``
  the KL term uses only the positions that carry an MLM label), so ``batchmean`` divides by the number of
  selected tokens, and the cosine loss uses the last layer's hidden states of all non-padding positions
  (not only the masked ones). The README's command uses alpha_ce 5.0, alpha_mlm 2.0, alpha_cos 1.0; ``train.py``
  defaults to T = 2.0.

Every function imports torch when called, never at module import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

import attrs

from harness.core.errors import MeasurementError

if TYPE_CHECKING:
    import torch

#: the loss weights' names, in the order the cache key and the messages list them
WEIGHT_FIELDS = ("temperature", "alpha_ce", "alpha_task", "alpha_mlm", "alpha_cos")
#: the ablation rows of the paper's Table 4, as the loss weight each one sets to zero
ABLATION_WEIGHTS = {"without L_ce": "alpha_ce", "without L_mlm": "alpha_mlm", "without L_cos": "alpha_cos"}


def _check_weight(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    name = attribute.name
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MeasurementError(
            f"distillation weights: field {name!r}: expected a number, found {value!r} "
            f"({type(value).__name__}); fix: write e.g. {name} = 0.5"
        )
    if not math.isfinite(value):
        raise MeasurementError(
            f"distillation weights: field {name!r}: expected a finite number, found {value!r}; "
            f"fix: give {name} a finite value"
        )
    if name == "temperature" and value <= 0:
        raise MeasurementError(
            f"distillation weights: field 'temperature': expected a temperature > 0 (the softmax divides by it), "
            f"found {value!r}; fix: use e.g. temperature = 2.0 (the authors' default)"
        )
    if value < 0:
        raise MeasurementError(
            f"distillation weights: field {name!r}: expected a weight >= 0, found {value!r}; "
            f"fix: use 0 to switch that loss off, or a positive weight"
        )


@attrs.frozen
class DistillationWeights:
    """The softmax temperature and the linear weights of the distillation losses.

    ``alpha_task`` weighs the task's own loss in distillation during fine-tuning (``alpha_squad`` in the
    authors' SQuAD script); ``alpha_mlm`` and ``alpha_cos`` weigh the masked-LM and cosine losses of the
    triple loss. A weight of 0 switches its loss off (an ablation row). At least one weight must be positive.
    """

    temperature: float = attrs.field(validator=_check_weight)
    alpha_ce: float = attrs.field(validator=_check_weight)
    alpha_task: float = attrs.field(default=0.0, validator=_check_weight)
    alpha_mlm: float = attrs.field(default=0.0, validator=_check_weight)
    alpha_cos: float = attrs.field(default=0.0, validator=_check_weight)

    def __attrs_post_init__(self) -> None:
        if self.alpha_ce + self.alpha_task + self.alpha_mlm + self.alpha_cos <= 0:
            raise MeasurementError(
                "distillation weights: fields 'alpha_ce', 'alpha_task', 'alpha_mlm', 'alpha_cos': expected at "
                "least one positive weight, found all 0 (nothing would be trained); fix: give one a weight > 0"
            )

    @classmethod
    def fine_tuning(cls, temperature: float = 2.0, alpha_ce: float = 0.5, alpha_task: float = 0.5) -> Self:
        """The defaults of ``run_squad_w_distillation.py``: T 2.0, alpha_ce 0.5, alpha_squad 0.5."""
        return cls(temperature=temperature, alpha_ce=alpha_ce, alpha_task=alpha_task)

    @classmethod
    def pretraining(
        cls, temperature: float = 2.0, alpha_ce: float = 5.0, alpha_mlm: float = 2.0, alpha_cos: float = 1.0
    ) -> Self:
        """The README's ``train.py`` command: alpha_ce 5.0, alpha_mlm 2.0, alpha_cos 1.0 (T 2.0, its default)."""
        return cls(temperature=temperature, alpha_ce=alpha_ce, alpha_mlm=alpha_mlm, alpha_cos=alpha_cos)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str) -> Self:
        """Weights from a recipe table (``alpha_squad`` is accepted for ``alpha_task``); errors name ``where``."""
        values = dict(table)
        if "alpha_squad" in values:
            if "alpha_task" in values:
                raise MeasurementError(
                    f"{where}: fields 'alpha_squad' and 'alpha_task': expected one of them (the same weight), "
                    "found both; fix: remove one"
                )
            values["alpha_task"] = values.pop("alpha_squad")
        unknown = sorted(set(values) - set(WEIGHT_FIELDS))
        if unknown:
            raise MeasurementError(
                f"{where}: field {unknown[0]!r}: expected one of {', '.join(WEIGHT_FIELDS)} (or alpha_squad), "
                f"found {unknown[0]!r}; fix: remove or rename it"
            )
        for required in ("temperature", "alpha_ce"):
            if required not in values:
                raise MeasurementError(
                    f"{where}: field {required!r}: expected it to be declared, found it missing; "
                    f"fix: add e.g. {required} = {2.0 if required == 'temperature' else 0.5}"
                )
        try:
            return cls(**values)
        except MeasurementError as exc:
            raise MeasurementError(f"{where}: {str(exc).removeprefix('distillation weights: ')}") from None

    def without(self, loss_weight: str) -> Self:
        """The same weights with ``loss_weight`` (alpha_ce, alpha_mlm, alpha_cos, alpha_task) set to 0."""
        if loss_weight not in WEIGHT_FIELDS[1:]:
            raise MeasurementError(
                f"distillation weights: {loss_weight!r} is not a loss weight; expected one of "
                f"{', '.join(WEIGHT_FIELDS[1:])}"
            )
        return attrs.evolve(self, **{loss_weight: 0.0})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in WEIGHT_FIELDS}


# ---------------------------------------------------------------- losses


def _same_shape(what: str, student: torch.Tensor, teacher: torch.Tensor) -> None:
    if student.shape != teacher.shape:
        raise MeasurementError(
            f"{what}: the student's tensor has shape {tuple(student.shape)}, the teacher's {tuple(teacher.shape)}; "
            "expected the same shape (same vocabulary / number of labels / sequence length and hidden size)"
        )


def _at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """bf16/fp16 (autocast) outputs are upcast for the loss; float64 stays float64."""
    import torch

    return x if x.dtype == torch.float64 else x.float()


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``KLDivLoss(batchmean)(log_softmax(s / T), softmax(t / T)) * T**2`` over rows of 2-D logits.

    ``batchmean`` divides the summed KL by the number of rows (examples, or selected tokens).
    """
    import torch.nn.functional as F

    _same_shape("soft-target loss", student_logits, teacher_logits)
    if student_logits.dim() != 2:
        raise MeasurementError(
            f"soft-target loss: expected 2-D logits (rows x classes), found shape {tuple(student_logits.shape)}; "
            "flatten or select the rows first (batchmean divides by the first dimension)"
        )
    log_p = F.log_softmax(_at_least_float32(student_logits) / temperature, dim=-1)
    q = F.softmax(_at_least_float32(teacher_logits) / temperature, dim=-1)
    return F.kl_div(log_p, q, reduction="batchmean") * temperature**2


def task_distillation_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """The soft-target loss of a sequence-classification head (logits: examples x labels)."""
    if student_logits.dim() == 2 and student_logits.shape[-1] == 1:
        raise MeasurementError(
            "task distillation loss: the head has one output (a regression task such as STS-B); the soft-target "
            "loss needs class logits. Fix: fine-tune regression tasks without a teacher"
        )
    return soft_target_loss(student_logits, teacher_logits, temperature)


def squad_distillation_loss(
    student_start: torch.Tensor,
    student_end: torch.Tensor,
    teacher_start: torch.Tensor,
    teacher_end: torch.Tensor,
    temperature: float,
) -> torch.Tensor:
    """``(KL_start + KL_end) / 2`` on start and end logits (examples x positions), each ``batchmean * T**2``."""
    start = soft_target_loss(student_start, teacher_start, temperature)
    end = soft_target_loss(student_end, teacher_end, temperature)
    return (start + end) / 2.0


def combined_task_loss(
    task_loss: torch.Tensor, distill_loss: torch.Tensor, alpha_ce: float, alpha_task: float
) -> torch.Tensor:
    """``alpha_ce * distill_loss + alpha_task * task_loss`` (the authors' ``alpha_ce``/``alpha_squad``)."""
    return alpha_ce * distill_loss + alpha_task * task_loss


def mlm_distillation_losses(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    student_hidden: torch.Tensor,
    teacher_hidden: torch.Tensor,
    labels: torch.Tensor,
    attention_mask: torch.Tensor,
    temperature: float,
    restrict_ce_to_mask: bool = False,
) -> dict[str, torch.Tensor]:
    """The three losses of ``distiller.py``'s MLM step: ``{"ce": ..., "mlm": ..., "cos": ...}``.

    ``*_logits``: batch x length x vocabulary; ``*_hidden``: the last layer's hidden states, batch x length x
    hidden; ``labels``: the masked-LM labels, -100 where there is nothing to predict; ``attention_mask``:
    1 on real tokens, 0 on padding.
    """
    import torch
    import torch.nn.functional as F

    _same_shape("MLM distillation (logits)", student_logits, teacher_logits)
    _same_shape("MLM distillation (hidden states)", student_hidden, teacher_hidden)
    vocab = student_logits.size(-1)
    rows = (labels > -1) if restrict_ce_to_mask else attention_mask.bool()
    ce = soft_target_loss(student_logits[rows].view(-1, vocab), teacher_logits[rows].view(-1, vocab), temperature)
    mlm = F.cross_entropy(_at_least_float32(student_logits).view(-1, vocab), labels.view(-1), ignore_index=-100)
    real = attention_mask.bool()
    s_hidden = _at_least_float32(student_hidden[real])
    t_hidden = _at_least_float32(teacher_hidden[real])
    target = torch.ones(s_hidden.size(0), device=s_hidden.device, dtype=s_hidden.dtype)
    cos = F.cosine_embedding_loss(s_hidden, t_hidden, target, reduction="mean")
    return {"ce": ce, "mlm": mlm, "cos": cos}


def triple_loss(losses: Mapping[str, torch.Tensor], alpha_ce: float, alpha_mlm: float, alpha_cos: float) -> Any:
    """``alpha_ce * L_ce + alpha_mlm * L_mlm + alpha_cos * L_cos`` (a loss whose weight is 0 adds nothing)."""
    total: Any = 0.0
    for name, alpha in (("ce", alpha_ce), ("mlm", alpha_mlm), ("cos", alpha_cos)):
        if alpha > 0:
            total = total + alpha * losses[name]
    return total


# ---------------------------------------------------------------- cache keys


def distillation_cache_inputs(
    teacher_digest: str, weights: DistillationWeights, student: Mapping[str, Any]
) -> dict[str, Any]:
    """What determines a distilled model: what determines the student trained alone, plus the teacher and weights.

    ``student`` is the cache-key input of the same training without a teacher (for a fine-tune, the fine-tune
    cache's inputs: base checkpoint digest, data, recipe, seed, device, versions; for pre-training, the corpus
    digest, student configuration, initialisation, steps, batch size, seed ...). ``teacher_digest`` is the
    teacher checkpoint's digest, or the teacher's own cache key when the teacher was fine-tuned here, so a
    retrained teacher gives a new student.
    """
    clash = sorted({"teacher", "distillation"} & set(student))
    if clash:
        raise MeasurementError(
            f"distillation cache inputs: the student's inputs already have the key {clash[0]!r}; expected the "
            "inputs of a training without a teacher; fix: pass those (the teacher is added here)"
        )
    if not teacher_digest:
        raise MeasurementError(
            "distillation cache inputs: expected the teacher's digest (a checkpoint digest or cache key), found "
            "an empty string; fix: pass checkpoint_digest(teacher_dir) or the teacher entry's key"
        )
    return {**student, "teacher": teacher_digest, "distillation": weights.as_dict()}


# ---------------------------------------------------------------- compute estimate


@attrs.frozen
class FlopEstimate:
    """An ESTIMATE (not a measurement) of the floating-point operations of a distillation pre-training run."""

    student_flops: float
    teacher_flops: float
    tokens: int

    @property
    def total_flops(self) -> float:
        return self.student_flops + self.teacher_flops

    def seconds_at(self, sustained_flops_per_second: float) -> float:
        """Seconds the run would take at an assumed sustained throughput (an assumption, not a measurement)."""
        return self.total_flops / sustained_flops_per_second


def pretraining_flop_estimate(
    student_params: int,
    teacher_params: int,
    tokens: int,
    *,
    student_layers: int = 0,
    teacher_layers: int = 0,
    hidden_size: int = 0,
    sequence_length: int = 0,
) -> FlopEstimate:
    """Estimated FLOPs of distilling on ``tokens`` tokens: ``6 N_s T`` for the student (forward and backward)
    plus ``2 N_t T`` for the teacher (forward only), plus the attention scores when layers, hidden size and
    sequence length are given (``4 L s d`` per token for one forward: ``QK^T`` and ``AV``; x3 for training).

    N counts all parameters: the tied word embedding is a free lookup at the input but a full matmul in the MLM
    head, so counting it once is right; the position embeddings (0.4M) are a small overcount.

    Estimates for BERT-base (BertForMaskedLM, 109.5M parameters, 12 layers) teaching a 6-layer DistilBERT
    (DistilBertForMaskedLM, 67.0M), hidden 768, sequences of 128 tokens (numbers from this function with
    parameter counts from transformers' default configs; the sustained rate is an assumption, ~40% of an
    H100/H200's dense bf16 peak; the paper's run took 8 V100s ~90 hours):

    ============  ===============  ===============  ==========  =======================
    tokens        student FLOPs    teacher FLOPs    total       hours at 400 TFLOP/s
    ============  ===============  ===============  ==========  =======================
    10 M          4.09e15          2.24e15          6.33e15     0.004 (16 s)
    100 M         4.09e16          2.24e16          6.33e16     0.044 (2.6 min)
    1 B           4.09e17          2.24e17          6.33e17     0.44 (26 min)
    ============  ===============  ===============  ==========  =======================
    """
    if min(student_params, teacher_params, tokens) <= 0:
        raise MeasurementError(
            f"FLOP estimate: expected positive parameter and token counts, found student {student_params}, "
            f"teacher {teacher_params}, tokens {tokens}"
        )
    attention = 4 * hidden_size * sequence_length
    student = 6.0 * student_params * tokens + 3.0 * attention * student_layers * tokens
    teacher = 2.0 * teacher_params * tokens + 1.0 * attention * teacher_layers * tokens
    return FlopEstimate(student_flops=student, teacher_flops=teacher, tokens=tokens)
