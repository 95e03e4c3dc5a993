"""Distillation pre-training through the model cache: one cached student per ablation row.

The student of a :class:`~harness.ml.pretrain_recipe.PretrainRecipe` is pre-trained with the triple loss
(:func:`harness.ml.distill_trainer.distill_pretrain`) and stored like a fine-tuned model
(``<cache_dir>/pretrained/<recipe>-s<seed>-<key>/``, file lock, manifest written last). Its key hashes the
teacher checkpoint's digest, every loss weight (``distillation_cache_inputs``), the student configuration, the
initialisation, the corpus's SHA-256, the budget, the seed, the device kind, the precision, the number of
processes and the library versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.files import sha256_file
from harness.ml.devices import distributed
from harness.ml.finetune_cache import Entry, cached_entry, entry_name, versions
from harness.ml.pretrain_recipe import PretrainRecipe

if TYPE_CHECKING:
    from harness.ml.cache_lock import Notify
    from harness.ml.evaluation import Runtime


def pretrain_cache_inputs(
    recipe: PretrainRecipe, teacher_digest: str, student_config: Path, corpus: Path, runtime: Runtime
) -> dict[str, Any]:
    """Everything that determines the pre-trained student (the cache key is a hash of this)."""
    from harness.ml.distillation import DistillationWeights, distillation_cache_inputs

    student = {
        "student_config": sha256_file(student_config),
        "corpus": sha256_file(corpus),
        "recipe": recipe.training_fields(),
        "seed": recipe.seed,
        "device": runtime.device.split(":")[0],
        "precision": runtime.precision,
        "world_size": distributed()[1],
        "versions": versions(),
    }
    return distillation_cache_inputs(teacher_digest, DistillationWeights(**recipe.weights), student)


def pretrained_student(
    cache_dir: Path,
    recipe: PretrainRecipe,
    teacher_dir: Path,
    teacher_digest: str,
    student_dir: Path,
    corpus: Path,
    runtime: Runtime,
    notify: Notify | None = None,
) -> Entry:
    """The cached student of ``recipe`` (pre-trained now if absent) with its tokenizer (the teacher's); bf16
    autocast and TF32 where ``runtime`` has them (a CUDA device that supports bf16), float32 elsewhere."""
    inputs = pretrain_cache_inputs(recipe, teacher_digest, student_dir / "config.json", corpus, runtime)

    def train_into(out: Path | None) -> dict[str, Any]:
        import json

        from transformers import AutoConfig, AutoModelForMaskedLM

        from harness.ml.distill_trainer import distill_pretrain
        from harness.ml.distillation import DistillationWeights
        from harness.ml.finetune import load_tokenizer
        from harness.ml.student_init import student_from_teacher

        teacher = AutoModelForMaskedLM.from_pretrained(str(teacher_dir), local_files_only=True)
        tokenizer = load_tokenizer(teacher_dir)
        config = AutoConfig.from_pretrained(str(student_dir), local_files_only=True)
        student, init = student_from_teacher(teacher, config, init=recipe.init, seed=recipe.seed)
        texts = corpus.read_text(encoding="utf-8").splitlines()
        result = distill_pretrain(
            teacher,
            student,
            texts,
            tokenizer,
            DistillationWeights(**recipe.weights),
            recipe.steps,
            recipe.batch_size,
            recipe.mlm_probability,
            recipe.seed,
            runtime.device,
            learning_rate=recipe.learning_rate,
            max_length=recipe.max_length,
            bf16=runtime.autocast == "bfloat16",
        )
        if out is not None:
            student.save_pretrained(str(out))
            tokenizer.save_pretrained(str(out))
            (out / "student_init.json").write_text(json.dumps(init.as_dict(), indent=1) + "\n", encoding="utf-8")
        return {
            "tokens_seen": result.tokens_seen,
            "steps": result.steps,
            "train_seconds": result.seconds,
            "loss_first_10": result.mean_loss("loss", first=10),
            "loss_last_10": result.mean_loss("loss", last=10),
        }

    return cached_entry(
        cache_dir / "pretrained",
        entry_name(f"pretrain-{recipe.name}", inputs),
        inputs,
        train_into,
        doing="pre-training",
    )
