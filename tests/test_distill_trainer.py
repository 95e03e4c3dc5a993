"""The distillation Trainer computes the authors' loss (classification and SQuAD, exact numbers against the
formula), and a planted case where distillation must beat training the same tiny student without a teacher.

Tiny-model results are evidence about the machinery only.
"""

from __future__ import annotations

import random

import pytest
import tiny  # first: it imports what in-process pytester runs must not import twice
import torch
import transformers
from test_distillation import np_soft_target

from harness.ml.distill_trainer import DistillationTrainer
from harness.ml.distillation import DistillationWeights

pytestmark = pytest.mark.fast


def _args(tmp_path, seed: int = 0, epochs: float = 1.0, learning_rate: float = 1e-2) -> transformers.TrainingArguments:
    return transformers.TrainingArguments(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=seed,
        data_seed=seed,
        learning_rate=learning_rate,
        per_device_train_batch_size=16,
        num_train_epochs=epochs,
    )


def _no_dropout(config):
    return {
        **config,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "dropout": 0.0,
        "attention_dropout": 0.0,
        "seq_classif_dropout": 0.0,
        "qa_dropout": 0.0,
        "classifier_dropout": 0.0,
    }


def test_the_trainer_loss_is_the_classification_formula(tmp_path):
    from harness.ml.models import build_config

    torch.manual_seed(0)
    student = transformers.AutoModelForSequenceClassification.from_config(
        build_config({**_no_dropout(tiny.TINY_DISTILBERT), "num_labels": 2})
    )
    teacher = transformers.AutoModelForSequenceClassification.from_config(
        build_config({**_no_dropout(tiny.TINY_BERT), "num_labels": 2})
    )
    tok = tiny.tokenizer(token_type_ids=True)
    batch = dict(tok(["good movie", "a dull plot and bad actor"], padding=True, return_tensors="pt"))
    batch["labels"] = torch.tensor([1, 0])
    weights = DistillationWeights(temperature=3.0, alpha_ce=0.7, alpha_task=0.2)
    trainer = DistillationTrainer(model=student, args=_args(tmp_path), teacher=teacher, weights=weights)
    loss = trainer.compute_loss(student, dict(batch))
    with torch.no_grad():
        s = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        t = teacher(**{k: v for k, v in batch.items() if k != "labels"})  # the teacher also sees token_type_ids
    expected = 0.7 * np_soft_target(s.logits.numpy(), t.logits.numpy(), 3.0) + 0.2 * float(s.loss)
    assert float(loss.detach()) == pytest.approx(expected, abs=1e-5)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    trainer._set_signature_columns_if_needed()  # a datasets.Dataset keeps the columns either model takes
    assert {"input_ids", "attention_mask", "labels", "token_type_ids"} <= set(trainer._signature_columns)


def test_the_trainer_loss_is_the_squad_formula(tmp_path):
    from harness.ml.models import build_config

    torch.manual_seed(1)
    student = transformers.AutoModelForQuestionAnswering.from_config(build_config(_no_dropout(tiny.TINY_DISTILBERT)))
    teacher = transformers.AutoModelForQuestionAnswering.from_config(build_config(_no_dropout(tiny.TINY_BERT)))
    tok = tiny.tokenizer(token_type_ids=False)
    batch = dict(
        tok(
            ["what is the capital of peru ?"] * 2,
            ["the capital of peru is lima .", "it is quito ."],
            padding=True,
            return_tensors="pt",
        )
    )
    batch |= {"start_positions": torch.tensor([3, 4]), "end_positions": torch.tensor([4, 5])}
    trainer = DistillationTrainer(
        model=student, args=_args(tmp_path), teacher=teacher, weights=DistillationWeights.fine_tuning()
    )
    loss = trainer.compute_loss(student, dict(batch))
    with torch.no_grad():
        s = student(**batch)
        t = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    kl = (
        np_soft_target(s.start_logits.numpy(), t.start_logits.numpy(), 2.0)
        + np_soft_target(s.end_logits.numpy(), t.end_logits.numpy(), 2.0)
    ) / 2
    assert float(loss.detach()) == pytest.approx(0.5 * kl + 0.5 * float(s.loss), abs=1e-5)


# ---------------------------------------------------------------- planted: distillation must win


class RuleTeacher(torch.nn.Module):
    """A teacher that knows the rule of the toy sentiment task: positive iff a positive word is present."""

    def __init__(self, positive_ids: list[int], margin: float = 4.0) -> None:
        super().__init__()
        self.register_buffer("positive", torch.tensor(positive_ids))
        self.margin = margin

    def forward(self, input_ids, attention_mask=None):
        from transformers.modeling_outputs import SequenceClassifierOutput

        positive = torch.isin(input_ids, self.positive).any(dim=1).float() * 2 - 1
        return SequenceClassifierOutput(logits=torch.stack([-positive, positive], dim=1) * self.margin)


#: words whose training labels are all flipped: the labels alone teach the wrong polarity for them
MISLABELLED = {"fine", "nice", "dull", "poor"}


def _sentiment_examples(tok, n: int, seed: int, flip: bool) -> list[dict]:
    """Short sentences (2-5 filler words and one sentiment word), balanced over the 12 sentiment words."""
    rng = random.Random(seed)
    words = [(w, 1) for w in tiny.POSITIVE] + [(w, 0) for w in tiny.NEGATIVE]
    out = []
    for i in range(n):
        word, label = words[i % len(words)]
        text = [rng.choice(tiny.FILLER) for _ in range(rng.randint(2, 5))]
        text.insert(rng.randrange(len(text) + 1), word)
        wrong = flip and word in MISLABELLED
        out.append({**tok(" ".join(text), truncation=True, max_length=32), "labels": 1 - label if wrong else label})
    return out


def _accuracy(model, tok, examples) -> float:
    collate = transformers.DataCollatorWithPadding(tok)
    batch = collate(examples)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return float((logits.argmax(-1) == batch["labels"]).float().mean())


def _fine_tune(tmp_path, seed: int, teacher=None) -> float:
    from harness.ml.models import build_config

    tok = tiny.tokenizer(token_type_ids=False)
    train = _sentiment_examples(tok, 96, seed=100 + seed, flip=True)
    held_out = _sentiment_examples(tok, 240, seed=999, flip=False)
    transformers.set_seed(seed)
    student = transformers.AutoModelForSequenceClassification.from_config(
        build_config({**tiny.TINY_DISTILBERT, "num_labels": 2})
    )
    common = {
        "model": student,
        "args": _args(tmp_path / f"s{seed}", seed=seed, epochs=10, learning_rate=5e-3),
        "train_dataset": train,
        "data_collator": transformers.DataCollatorWithPadding(tok),
    }
    if teacher is None:
        transformers.Trainer(**common).train()
    else:
        DistillationTrainer(**common, teacher=teacher, weights=DistillationWeights.fine_tuning()).train()
    return _accuracy(student, tok, held_out)


@pytest.fixture
def one_thread():
    """One intra-op thread: the same float reductions on any machine, and no thrashing on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_planted_distillation_beats_the_same_student_without_a_teacher(tmp_path, one_thread):
    """96 labelled examples, a third of them mislabelled (every example of 4 of the 12 sentiment words); the
    teacher knows the rule. Without a teacher the student learns those words backwards; with the authors'
    loss (T 2, alpha_ce 0.5, alpha_task 0.5) the teacher's soft targets outweigh the wrong labels."""
    tok = tiny.tokenizer(token_type_ids=False)
    ids = [tok.convert_tokens_to_ids(w) for w in tiny.POSITIVE]
    assert tok.unk_token_id not in ids and all(len(tok.tokenize(w)) == 1 for w in tiny.POSITIVE + tiny.NEGATIVE)
    teacher = RuleTeacher(ids)
    held_out = _sentiment_examples(tok, 240, seed=999, flip=False)
    assert _accuracy(teacher, tok, held_out) == 1.0  # the teacher does know the rule
    results = []
    for seed in (1, 2, 3):  # not flaky: it holds for each of three seeds
        alone, distilled = _fine_tune(tmp_path, seed), _fine_tune(tmp_path, seed, teacher)
        results.append((seed, alone, distilled))
    print("planted distillation (tiny-model machinery evidence): seed, held-out accuracy alone, distilled:", results)
    for seed, alone, distilled in results:
        assert alone <= 0.75, (seed, alone)  # the mislabelled words do mislead the student trained alone
        assert distilled >= alone + 0.15, (seed, alone, distilled)
