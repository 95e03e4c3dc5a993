"""Training with a teacher: ``transformers.Trainer`` subclasses whose loss is the authors' distillation loss.

- :class:`DistillationTrainer`: distillation during fine-tuning (the paper's "(D)" models): the student's own
  task loss (classification cross-entropy, or the SQuAD start/end loss) combined with the soft-target loss
  against a frozen, fine-tuned teacher, as in ``run_squad_w_distillation.py``.
- :class:`TripleLossTrainer` and :func:`distill_pretrain`: the triple loss of ``distiller.py`` (L_ce on the
  teacher's soft MLM targets, L_mlm, L_cos on the last hidden states) at reduced scale, with dynamic masking.

The teacher runs in eval mode, without gradients, on the Trainer's device, under bf16 autocast when the Trainer
trains in bf16 (on a CUDA device that supports it); losses are computed in float32. Because both are Trainers,
the same code runs on one CPU, one GPU, or several GPUs:
``torchrun --nproc_per_node=N your_script.py`` (or ``accelerate launch``) gives each rank its student replica
under DDP and its own teacher copy on its ``LOCAL_RANK`` GPU; the batch size given to :func:`distill_pretrain`
is the total over processes. That multi-process path was NOT run here (it is Trainer's own); only the
single-process CPU path is tested.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import attrs

from harness.core.errors import MeasurementError
from harness.ml.devices import training_arguments
from harness.ml.distillation import (
    DistillationWeights,
    combined_task_loss,
    mlm_distillation_losses,
    squad_distillation_loss,
    task_distillation_loss,
    triple_loss,
)
from harness.ml.masked_lm import mlm_collator, tokenize_corpus

#: inputs that are targets for the student, never inputs of the teacher
TARGET_KEYS = ("labels", "start_positions", "end_positions")


def _forward_params(model: Any) -> set[str]:
    return set(inspect.signature(model.forward).parameters)


def _freeze(teacher: Any, device: Any) -> Any:
    teacher.to(device)
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


def _teacher_autocast(trainer: Any) -> Any:
    import torch

    device = trainer.args.device
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bool(trainer.args.bf16))


def __getattr__(name: str) -> Any:
    """``DistillationTrainer`` and ``TripleLossTrainer`` subclass ``transformers.Trainer``; they are defined on
    first use so that importing this module does not import transformers."""
    if name in ("DistillationTrainer", "TripleLossTrainer"):
        return _trainer_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _trainer_classes() -> dict[str, type]:
    from transformers import Trainer

    class DistillationTrainer(Trainer):
        """A Trainer whose loss is ``alpha_ce * L_distill + alpha_task * L_task`` (run_squad_w_distillation.py).

        ``L_task`` is the student's own loss (the model computes it from ``labels``, or ``start_positions`` and
        ``end_positions``); ``L_distill`` is the soft-target KL at temperature T (``batchmean``, times T^2) on the
        classification logits, or the mean of the start and end KLs for question answering. The teacher gets the
        inputs its forward takes (BERT's ``token_type_ids`` too, when the features have them, as the authors'
        script passes them) and the student those its forward takes.
        """

        def __init__(self, *args: Any, teacher: Any, weights: DistillationWeights, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.teacher = _freeze(teacher, self.args.device)
            self.weights = weights
            self.model_accepts_loss_kwargs = False  # the loss is a mean per batch; Trainer scales accumulation
            self._student_params = _forward_params(self.model)
            self._teacher_params = _forward_params(self.teacher) - set(TARGET_KEYS)
            self.loss_history: list[dict[str, float]] = []

        def _set_signature_columns_if_needed(self) -> None:
            """Keep the dataset columns the teacher takes as well as the student's (e.g. token_type_ids)."""
            super()._set_signature_columns_if_needed()
            extra = sorted(self._teacher_params - set(self._signature_columns))
            self._signature_columns = [*self._signature_columns, *extra]

        def compute_loss(
            self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
        ) -> Any:
            import torch

            outputs = model(**{k: v for k, v in inputs.items() if k in self._student_params})
            if outputs.loss is None:
                raise MeasurementError(
                    "distillation fine-tuning: the student computed no task loss; expected the batch to carry "
                    f"{' or '.join(TARGET_KEYS)}, found only {', '.join(sorted(inputs))}; fix: keep the label columns"
                )
            with torch.no_grad(), _teacher_autocast(self):
                teacher_out = self.teacher(**{k: v for k, v in inputs.items() if k in self._teacher_params})
            temperature = self.weights.temperature
            if getattr(outputs, "start_logits", None) is not None:
                distill = squad_distillation_loss(
                    outputs.start_logits,
                    outputs.end_logits,
                    teacher_out.start_logits,
                    teacher_out.end_logits,
                    temperature,
                )
            else:
                distill = task_distillation_loss(outputs.logits, teacher_out.logits, temperature)
            task = outputs.loss.float()
            loss = combined_task_loss(task, distill, self.weights.alpha_ce, self.weights.alpha_task)
            if model.training:
                self.loss_history.append({"distill": float(distill.detach()), "task": float(task.detach())})
            return (loss, outputs) if return_outputs else loss

    class TripleLossTrainer(Trainer):
        """A Trainer whose loss is distiller.py's ``alpha_ce L_ce + alpha_mlm L_mlm + alpha_cos L_cos``.

        Batches come from a masked-LM collator (``input_ids``, ``attention_mask``, ``labels``). Both models get
        ``input_ids`` and ``attention_mask`` only, as in distiller.py. ``teacher=None`` is plain masked-LM training
        (how a tiny teacher is pre-trained here) and needs ``alpha_ce = alpha_cos = 0``.
        """

        def __init__(
            self,
            *args: Any,
            teacher: Any | None,
            weights: DistillationWeights,
            restrict_ce_to_mask: bool = False,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            if teacher is None and (weights.alpha_ce > 0 or weights.alpha_cos > 0):
                raise MeasurementError(
                    f"triple loss: alpha_ce {weights.alpha_ce} and alpha_cos {weights.alpha_cos} need a teacher, found "
                    "none; fix: pass the teacher, or set both to 0 for plain masked-LM training"
                )
            self.teacher = None if teacher is None else _freeze(teacher, self.args.device)
            self.weights = weights
            self.restrict_ce_to_mask = restrict_ce_to_mask
            self.model_accepts_loss_kwargs = False
            self.loss_history: list[dict[str, float]] = []
            self.tokens_seen = 0

        def compute_loss(
            self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
        ) -> Any:
            import torch
            import torch.nn.functional as F

            ids, mask, labels = inputs["input_ids"], inputs["attention_mask"], inputs["labels"]
            student = model(input_ids=ids, attention_mask=mask, output_hidden_states=self.teacher is not None)
            if self.teacher is None:
                logits = student.logits.float()
                losses = {"mlm": F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)}
            else:
                with torch.no_grad(), _teacher_autocast(self):
                    teacher = self.teacher(input_ids=ids, attention_mask=mask, output_hidden_states=True)
                losses = mlm_distillation_losses(
                    student.logits,
                    teacher.logits,
                    student.hidden_states[-1],
                    teacher.hidden_states[-1],
                    labels,
                    mask,
                    self.weights.temperature,
                    self.restrict_ce_to_mask,
                )
            w = self.weights
            loss = triple_loss({"ce": 0.0, "cos": 0.0, **losses}, w.alpha_ce, w.alpha_mlm, w.alpha_cos)
            if model.training:
                parts = {k: float(v.detach()) for k, v in losses.items()}
                self.loss_history.append({**parts, "loss": float(loss.detach())})
                self.tokens_seen += int(mask.sum())
            return (loss, student) if return_outputs else loss

    for cls in (DistillationTrainer, TripleLossTrainer):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return {"DistillationTrainer": DistillationTrainer, "TripleLossTrainer": TripleLossTrainer}


@attrs.frozen
class PretrainResult:
    """What a distillation pre-training run did: per-step losses (ce, mlm, cos, loss), tokens and seconds."""

    history: tuple[dict[str, float], ...]
    tokens_seen: int
    seconds: float
    steps: int

    def mean_loss(self, name: str, first: int | None = None, last: int | None = None) -> float:
        """The mean of loss ``name`` over the first or the last ``n`` steps (all steps when neither is given)."""
        rows = self.history[:first] if first else self.history[-last:] if last else self.history
        return sum(r[name] for r in rows) / len(rows)


def distill_pretrain(
    teacher: Any | None,
    student: Any,
    corpus_texts: Sequence[str],
    tokenizer: Any,
    weights: DistillationWeights,
    steps: int,
    batch_size: int,
    mlm_probability: float,
    seed: int,
    device: str,
    *,
    learning_rate: float = 5e-4,
    max_length: int = 128,
    warmup_ratio: float = 0.05,
    max_grad_norm: float = 5.0,
    restrict_ce_to_mask: bool = False,
    bf16: bool | None = None,
) -> PretrainResult:
    """Train ``student`` (a masked LM, in place) for ``steps`` steps with the triple loss against ``teacher``.

    The optimiser follows the authors' ``train.py``: AdamW with betas (0.9, 0.98), eps 1e-6, no weight decay,
    linear warm-up over ``warmup_ratio`` of the steps then linear decay, gradient norm clipped at 5.0 (their
    learning rate 5e-4 is the default). ``device`` is ``cpu`` or a CUDA device already chosen for this process
    (see ``resolve_device`` of the fine-tune module); ``bf16`` defaults to on for a CUDA device with bf16.
    Not reproduced: the authors' frequency-smoothed choice of masked tokens, length-grouped batches and their
    gradient accumulation to ~4K sequences per step.

    The reduced-scale ablation on one GPU (NOT run here: no GPU was available to this work): the teacher is
    a ``BertForMaskedLM`` teacher; each row's student is ``student_from_teacher(teacher,
    DistilBertConfig(), init="teacher")`` (``init="random"`` for that row) trained with
    ``DistillationWeights.pretraining()`` or one ``.without(...)`` of it; a budget of 100M tokens is e.g.
    ``steps=6100, batch_size=128`` on 128-token lines. ``pretraining_flop_estimate`` puts one row at 6.3e16 FLOPs,
    about 2.6 minutes at an assumed sustained 400 TFLOP/s (an estimate), so the five rows take ~13 minutes;
    ``reduced_scale_delta`` scores them by held-out masked-LM accuracy (Table 4 reports GLUE macro-score deltas,
    which would add a GLUE fine-tune per row).
    """
    import torch

    if steps < 1 or batch_size < 1:
        raise MeasurementError(
            f"distill_pretrain: steps {steps} and batch_size {batch_size}: expected both >= 1; fix: give a budget"
        )
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if batch_size % world:
        raise MeasurementError(
            f"distill_pretrain: batch size {batch_size} is not divisible by the {world} processes; fix: use a "
            "number of GPUs that divides it"
        )
    cuda = device.startswith("cuda")
    if bf16 is None:
        bf16 = cuda and torch.cuda.is_bf16_supported()
    examples = tokenize_corpus(tokenizer, corpus_texts, max_length)
    with tempfile.TemporaryDirectory(prefix="claims-distill-") as scratch:
        args = training_arguments(
            scratch,
            seed,
            cuda,
            bf16,
            max_steps=steps,
            per_device_train_batch_size=batch_size // world,
            learning_rate=learning_rate,
            warmup_steps=math.ceil(steps * warmup_ratio),
            weight_decay=0.0,
            adam_beta1=0.9,
            adam_beta2=0.98,
            adam_epsilon=1e-6,
            max_grad_norm=max_grad_norm,
            logging_strategy="no",
        )
        trainer = _trainer_classes()["TripleLossTrainer"](
            model=student,
            args=args,
            train_dataset=examples,
            data_collator=mlm_collator(tokenizer, mlm_probability),
            teacher=teacher,
            weights=weights,
            restrict_ce_to_mask=restrict_ce_to_mask,
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    bad = [i for i, row in enumerate(trainer.loss_history) if not math.isfinite(row["loss"])]
    if bad:
        raise MeasurementError(
            f"distill_pretrain: the loss was not finite at step {bad[0]} ({trainer.loss_history[bad[0]]}); "
            "fix: lower the learning rate or check the teacher's outputs"
        )
    return PretrainResult(
        history=tuple(trainer.loss_history), tokens_seen=trainer.tokens_seen, seconds=seconds, steps=steps
    )
