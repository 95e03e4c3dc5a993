"""The triple loss at tiny scale on CPU: a 4-layer BERT teacher pre-trained here on a toy corpus the test writes,
2-layer DistilBERT students distilled from it with the full loss and each ablation row of the paper's Table 4.

Checked: every loss is finite and falls, each step's loss is the weighted sum of its parts with the ablated part
left out, the teacher-initialised student starts from the teacher's layers. The held-out masked-LM scores of the
rows are printed (run with -s): they are tiny-model evidence about the machinery, not about the paper's deltas.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import tiny  # first: it imports what in-process pytester runs must not import twice
import torch
import transformers

from harness.ml.distill_trainer import PretrainResult, distill_pretrain
from harness.ml.distillation import DistillationWeights
from harness.ml.masked_lm import fixed_masked_batches, masked_lm_score
from harness.ml.student_init import student_from_teacher

pytestmark = pytest.mark.slow

TEACHER, STUDENT = tiny.distillation_configs()
FULL = DistillationWeights.pretraining()  # T 2, alpha_ce 5, alpha_mlm 2, alpha_cos 1 (the README's command)
ROWS = {
    "triple loss": ("teacher", FULL),
    "without L_ce": ("teacher", FULL.without("alpha_ce")),
    "without L_cos": ("teacher", FULL.without("alpha_cos")),
    "without L_mlm": ("teacher", FULL.without("alpha_mlm")),
    "random init": ("random", FULL),
}
STEPS, BATCH, LR = 150, 32, 2e-3


def toy_corpus(n: int, seed: int) -> list[str]:
    """Sentences whose masked words follow from their context: a country's capital, and the agreement of two
    sentiment words' polarity."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        prefix = " ".join(rng.choice(tiny.FILLER) for _ in range(rng.randint(0, 2)))
        if i % 2:
            k = rng.randrange(len(tiny.COUNTRIES))
            body = f"the capital of {tiny.COUNTRIES[k]} is {tiny.PLACES[k]} ."
        else:
            words = tiny.POSITIVE if rng.random() < 0.5 else tiny.NEGATIVE
            body = f"this movie was {rng.choice(words)} and the plot was {rng.choice(words)} ."
        lines.append(f"{prefix} {body}".strip())
    return lines


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root: Path = tmp_path_factory.mktemp("pretrain")
    (root / "corpus.txt").write_text("\n".join(toy_corpus(800, seed=0)) + "\n", encoding="utf-8")
    (root / "held_out.txt").write_text("\n".join(toy_corpus(160, seed=1)) + "\n", encoding="utf-8")
    corpus = (root / "corpus.txt").read_text(encoding="utf-8").splitlines()
    held_out = (root / "held_out.txt").read_text(encoding="utf-8").splitlines()
    tok = tiny.tokenizer(token_type_ids=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        teacher = transformers.BertForMaskedLM(TEACHER)
        mlm_only = DistillationWeights(temperature=1.0, alpha_ce=0.0, alpha_mlm=1.0)
        teacher_run = distill_pretrain(
            None, teacher, corpus, tok, mlm_only, 300, BATCH, 0.15, 0, "cpu", learning_rate=LR
        )
    finally:
        torch.set_num_threads(threads)
    batches = fixed_masked_batches(tok, held_out, 0.15, seed=7, batch_size=64, max_length=64)
    return {"corpus": corpus, "tok": tok, "teacher": teacher, "teacher_run": teacher_run, "held_out": batches}


@pytest.fixture(scope="module")
def rows(world) -> dict[str, tuple[PretrainResult, object]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        for name, (init, weights) in ROWS.items():
            student, _ = student_from_teacher(world["teacher"], STUDENT, init=init, seed=0)
            result = distill_pretrain(
                world["teacher"],
                student,
                world["corpus"],
                world["tok"],
                weights,
                STEPS,
                BATCH,
                0.15,
                0,
                "cpu",
                learning_rate=LR,
            )
            out[name] = (result, masked_lm_score(student, world["held_out"], "cpu"))
    finally:
        torch.set_num_threads(threads)
    return out


def test_the_teacher_learns_the_toy_corpus(world):
    run: PretrainResult = world["teacher_run"]
    assert run.mean_loss("mlm", last=20) < 0.6 * run.mean_loss("mlm", first=20)
    score = masked_lm_score(world["teacher"], world["held_out"], "cpu")
    untrained = transformers.BertForMaskedLM(TEACHER)
    assert score.accuracy > masked_lm_score(untrained, world["held_out"], "cpu").accuracy + 0.2
    assert run.tokens_seen > 300 * BATCH * 5  # every sequence has more than 5 real tokens


def test_each_row_runs_with_finite_falling_losses(rows):
    for name, (result, _) in rows.items():
        assert len(result.history) == STEPS, name
        assert all(math.isfinite(v) for row in result.history for v in row.values()), name
        assert result.mean_loss("loss", last=20) < 0.8 * result.mean_loss("loss", first=20), name


def test_each_step_is_the_weighted_sum_with_the_ablated_loss_left_out(rows):
    for name, (result, _) in rows.items():
        weights = ROWS[name][1]
        for row in result.history[:: STEPS // 10]:
            expected = weights.alpha_ce * row["ce"] + weights.alpha_mlm * row["mlm"] + weights.alpha_cos * row["cos"]
            assert row["loss"] == pytest.approx(expected, rel=1e-5), (name, row)


def test_the_teacher_initialised_student_starts_ahead_of_the_random_one(world):
    held_out, teacher = world["held_out"], world["teacher"]
    from_teacher, _ = student_from_teacher(teacher, STUDENT, init="teacher", seed=0)
    random_init, _ = student_from_teacher(teacher, STUDENT, init="random", seed=0)
    assert masked_lm_score(from_teacher, held_out, "cpu").loss < masked_lm_score(random_init, held_out, "cpu").loss


def test_report_the_rows(world, rows):
    """Prints the held-out masked-LM table (tiny-model machinery evidence, not the paper's magnitudes)."""
    teacher = masked_lm_score(world["teacher"], world["held_out"], "cpu")
    lines = [f"teacher (4 layers, MLM only, 300 steps): accuracy {teacher.accuracy:.4f} loss {teacher.loss:.4f}"]
    base = rows["triple loss"][1]
    for name, (result, score) in rows.items():
        lines.append(
            f"{name:14s} accuracy {score.accuracy:.4f} (delta {100 * (score.accuracy - base.accuracy):+.2f} pts) "
            f"loss {score.loss:.4f}  train loss {result.mean_loss('loss', first=10):.3f} -> "
            f"{result.mean_loss('loss', last=10):.3f}  {result.seconds:.1f} s  {result.tokens_seen} tokens"
        )
    print("\n[TINY SCALE, machinery evidence] held-out masked-LM scores on", base.predictions, "masked tokens:")
    print("\n".join(lines))
    assert all(0.0 <= s.accuracy <= 1.0 and s.predictions == base.predictions for _, s in rows.values())
