"""Fine-tuning with transformers' Trainer: models and tokenizers for a task, training features, training.

Training uses ``Trainer``, so the same code runs on one CPU, one GPU, or several GPUs under
``torchrun``/``accelerate launch`` (the recipe's batch size is the total over processes). The recipe is
``harness.ml.recipes``; the cache of fine-tuned models is ``harness.ml.finetune_cache``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core import progress
from harness.core.errors import MeasurementError

if TYPE_CHECKING:
    from harness.ml.data import Task, TaskData
    from harness.ml.evaluation import Runtime
from harness.ml.devices import distributed, training_arguments
from harness.ml.recipes import Recipe

# ---------------------------------------------------------------- training


def _ProgressCallback(bar: Any) -> Any:  # noqa: N802  (a class made on demand: transformers is heavy)
    """A ``TrainerCallback`` that moves ``bar`` one step per optimizer step (total: the run's max steps)."""
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            bar.reset(total=state.max_steps)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            bar.update(1)

    return ProgressCallback()


def model_class(task: Task) -> Any:
    """The transformers Auto class with the head a task needs."""
    import transformers

    return (
        transformers.AutoModelForQuestionAnswering
        if task.kind == "squad"
        else transformers.AutoModelForSequenceClassification
    )


def load_for_task(path: Path, task: Task, **kwargs: Any) -> Any:
    """A checkpoint loaded with the task's head (a ``MeasurementError`` when its files cannot be read)."""
    try:
        return model_class(task).from_pretrained(str(path), local_files_only=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise MeasurementError(
            f"the checkpoint at {path} cannot be loaded: {str(exc).splitlines()[0]}; "
            "check that its files are complete (re-download or re-copy it)"
        ) from None


def load_tokenizer(*paths: Path) -> Any:
    """The tokenizer of the first directory that has one."""
    from transformers import AutoTokenizer

    errors = []
    for path in paths:
        try:
            return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: {str(exc).splitlines()[0]}")
    raise MeasurementError("no usable tokenizer files: " + "; ".join(errors))


def _features(train: TaskData, tokenizer: Any, recipe: Recipe) -> Any:
    """Tokenized training examples (and answer spans for SQuAD) for Trainer."""
    task = train.task
    if task.kind == "squad":
        return train.dataset.map(
            lambda batch: _qa_train_features(batch, tokenizer, recipe),
            batched=True,
            remove_columns=train.dataset.column_names,
            keep_in_memory=True,
            desc="tokenizing",
        )
    fields = task.text_fields
    return train.dataset.map(
        lambda batch: tokenizer(*(batch[f] for f in fields), truncation=True, max_length=recipe.max_length),
        batched=True,
        remove_columns=list(fields),
        keep_in_memory=True,
        desc="tokenizing",
    )


def _qa_train_features(batch: Mapping[str, list[Any]], tokenizer: Any, recipe: Recipe) -> dict[str, Any]:
    """Windows over each context with the answer's token span (the class token when it is not inside)."""
    from harness.ml.evaluation import qa_features

    enc = qa_features(
        tokenizer,
        batch["question"],
        batch["context"],
        max_length=recipe.max_length,
        doc_stride=recipe.doc_stride,
        max_query_length=recipe.max_query_length,
    )
    starts, ends = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        ids = enc["input_ids"][i]
        cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
        answers = batch["answers"][enc["overflow_to_sample_mapping"][i]]
        sequence_ids = enc.sequence_ids(i)
        context = [t for t, s in enumerate(sequence_ids) if s == 1]
        if not answers["answer_start"] or not context:
            starts.append(cls)
            ends.append(cls)
            continue
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        first, last = context[0], context[-1]
        if offsets[first][0] > start_char or offsets[last][1] < end_char:
            starts.append(cls)
            ends.append(cls)
            continue
        start = first
        while start <= last and offsets[start][0] <= start_char:
            start += 1
        end = last
        while end >= first and offsets[end][1] >= end_char:
            end -= 1
        starts.append(start - 1)
        ends.append(end + 1)
    out = {k: v for k, v in enc.items() if k not in ("offset_mapping", "overflow_to_sample_mapping")}
    return {**out, "start_positions": starts, "end_positions": ends}


def _teacher(teacher_dir: Path, task: Task, student: Any, recipe: Recipe) -> Any:
    """The fine-tuned teacher of a distillation recipe, checked to read the student's inputs and give its outputs."""
    teacher = load_for_task(teacher_dir, task)
    for what, t, s in (
        ("vocabulary size", teacher.config.vocab_size, student.config.vocab_size),
        ("number of labels", teacher.config.num_labels, student.config.num_labels),
    ):
        if t != s:
            raise MeasurementError(
                f"recipe {recipe.name}: the teacher at {teacher_dir} has {what} {t}, the student {s}; expected the "
                "same (the teacher reads the student's token ids and its outputs are the student's soft targets); "
                "fix: name a teacher with the student's tokenizer and the task's labels"
            )
    return teacher


#: config fields that hold hidden and attention dropout, across architectures (the names differ between model types)
DROPOUT_FIELDS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout")


def dropout_overrides(base_dir: Path, dropout: float) -> dict[str, float]:
    """``{field: dropout}`` for the dropout fields the checkpoint's config has (a recipe's ``dropout``)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(base_dir))
    fields = {f: dropout for f in DROPOUT_FIELDS if hasattr(config, f)}
    if not fields:
        raise MeasurementError(
            f"recipe dropout: the config of {base_dir} has none of the dropout fields {', '.join(DROPOUT_FIELDS)}; "
            "remove dropout from the recipe"
        )
    return fields


def train_model(
    base_dir: Path,
    train: TaskData,
    recipe: Recipe,
    seed: int,
    runtime: Runtime,
    out: Path | None,
    teacher_dir: Path | None = None,
) -> dict[str, Any]:
    """Fine-tune ``base_dir`` and save model and tokenizer into ``out`` (None: a rank that does not write).

    With ``teacher_dir`` (a distillation recipe), the loss is the recipe's mix of the soft-target loss against
    that fine-tuned teacher and the task loss (``DistillationTrainer``).
    """
    import transformers
    from transformers import Trainer

    task = train.task
    world = distributed()[1]
    if recipe.batch_size % world:
        raise MeasurementError(
            f"recipe {recipe.name}: batch size {recipe.batch_size} is not divisible by the "
            f"{world} processes; run with a number of GPUs that divides it"
        )
    if not recipe.epochs > 0:  # also NaN; 0 epochs would judge the untrained model
        raise MeasurementError(
            f"recipe {recipe.name}: epochs = {recipe.epochs!r} trains nothing, and an untrained model must not be "
            "judged; set epochs > 0 in [recipes.*]"
        )
    transformers.set_seed(seed)  # before the head is initialised, as run_glue does
    tokenizer = load_tokenizer(base_dir)
    extra: dict[str, Any] = {}
    if task.kind == "regression":
        extra = {"num_labels": 1, "problem_type": "regression"}
    elif task.kind == "classification":
        extra = {
            "num_labels": task.num_labels,
            "id2label": dict(enumerate(task.labels)),
            "label2id": {label: i for i, label in enumerate(task.labels)},
        }
    if recipe.dropout is not None:
        extra.update(dropout_overrides(base_dir, recipe.dropout))
    model = load_for_task(base_dir, task, **extra)
    features = _features(train, tokenizer, recipe)
    cuda = runtime.device.startswith("cuda")
    with tempfile.TemporaryDirectory(prefix="claims-trainer-") as scratch:
        args = training_arguments(
            scratch,
            seed,
            cuda,
            runtime.autocast == "bfloat16",
            per_device_train_batch_size=recipe.batch_size // world,
            learning_rate=recipe.learning_rate,
            num_train_epochs=recipe.epochs,
            max_steps=recipe.max_steps if recipe.max_steps is not None else -1,
            warmup_steps=recipe.warmup,
            weight_decay=recipe.weight_decay,
            logging_strategy="epoch",
        )
        if (teacher_dir is None) != (recipe.teacher is None):
            raise MeasurementError(
                f"recipe {recipe.name}: teacher {recipe.teacher!r} but teacher checkpoint {teacher_dir}; expected both "
                "or neither (an internal error: the cache resolves the teacher of a distillation recipe)"
            )
        if teacher_dir is None:
            trainer = Trainer(model=model, args=args, train_dataset=features, processing_class=tokenizer)
        else:
            from harness.ml.distill_trainer import DistillationTrainer
            from harness.ml.distillation import DistillationWeights

            assert recipe.distillation is not None
            trainer = DistillationTrainer(
                model=model,
                args=args,
                train_dataset=features,
                processing_class=tokenizer,
                teacher=_teacher(teacher_dir, task, model, recipe),
                weights=DistillationWeights(**recipe.distillation),
            )
        what = "distil" if teacher_dir is not None else "fine-tune"
        with progress.bar(None, f"{what} {base_dir.name} on {task.name}, seed {seed}", unit="step") as bar:
            trainer.add_callback(_ProgressCallback(bar))
            result = trainer.train()
        if int(getattr(result, "global_step", 0) or 0) <= 0:
            raise MeasurementError(
                f"recipe {recipe.name}: fine-tuning ran 0 training steps ({len(features)} training features, "
                f"epochs {recipe.epochs}); the untrained model is not judged. Give training data and epochs > 0"
            )
        if out is not None:
            trainer.save_model(str(out))
            (out / "training_args.bin").unlink(missing_ok=True)  # pickled arguments: not part of the model
    return dict(result.metrics)
