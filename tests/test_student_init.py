"""The student starts from the right teacher layers (the authors' extract_distilbert.py choice), a random
student is its seed, and wrong shapes or models are errors that say what to fix."""

from __future__ import annotations

import pytest
import tiny  # first: it imports what in-process pytester runs must not import twice
import torch
import transformers

from harness.core.errors import MeasurementError
from harness.ml.student_init import authors_layer_choice, copy_teacher_layers, student_from_teacher

pytestmark = pytest.mark.fast

TEACHER, STUDENT = tiny.distillation_configs()


def test_the_authors_layer_choice():
    assert authors_layer_choice(12, 6) == (0, 2, 4, 7, 9, 11)  # extract_distilbert.py
    assert authors_layer_choice(4, 2) == (0, 3)
    assert authors_layer_choice(8, 4) == (0, 2, 5, 7)
    assert authors_layer_choice(6, 3) == (0, 2, 5)
    with pytest.raises(MeasurementError, match="cannot take one layer out of two of a 3-layer teacher"):
        authors_layer_choice(3, 2)


def _bert_teacher():
    torch.manual_seed(0)
    return transformers.BertForMaskedLM(TEACHER)


def test_a_distilbert_student_gets_embeddings_chosen_layers_and_head_from_the_teacher():
    teacher = _bert_teacher()
    student, record = student_from_teacher(teacher, STUDENT, init="teacher", seed=3)
    assert record.method == "teacher" and record.layers == ((0, 0), (1, 3))
    t, s = teacher.bert, student.distilbert
    pairs = {
        "attention.q_lin": "attention.self.query",
        "attention.k_lin": "attention.self.key",
        "attention.v_lin": "attention.self.value",
        "attention.out_lin": "attention.output.dense",
        "sa_layer_norm": "attention.output.LayerNorm",
        "ffn.lin1": "intermediate.dense",
        "ffn.lin2": "output.dense",
        "output_layer_norm": "output.LayerNorm",
    }
    for s_index, t_index in record.layers:
        for s_part, t_part in pairs.items():
            s_mod = s.transformer.layer[s_index].get_submodule(s_part)
            t_mod = t.encoder.layer[t_index].get_submodule(t_part)
            assert torch.equal(s_mod.weight, t_mod.weight) and torch.equal(s_mod.bias, t_mod.bias), (s_part, t_index)
    # and not from the layers it skipped
    assert not torch.equal(
        s.transformer.layer[1].attention.q_lin.weight, t.encoder.layer[1].attention.self.query.weight
    )
    assert not torch.equal(
        s.transformer.layer[1].attention.q_lin.weight, t.encoder.layer[2].attention.self.query.weight
    )
    assert torch.equal(s.embeddings.word_embeddings.weight, t.embeddings.word_embeddings.weight)
    assert torch.equal(s.embeddings.position_embeddings.weight, t.embeddings.position_embeddings.weight)
    assert torch.equal(s.embeddings.LayerNorm.weight, t.embeddings.LayerNorm.weight)
    assert torch.equal(student.vocab_projector.bias, teacher.cls.predictions.bias)
    assert torch.equal(student.vocab_transform.weight, teacher.cls.predictions.transform.dense.weight)
    assert torch.equal(student.vocab_layer_norm.bias, teacher.cls.predictions.transform.LayerNorm.bias)
    # every parameter of this student came from the teacher, each one listed in the record
    copied = {name for name, _ in record.copied}
    assert {n for n, _ in student.named_parameters()} <= copied
    assert len(record.copied) == 4 + 2 * 16 + 2 + 4


def test_a_smaller_bert_student_also_gets_token_type_embeddings():
    teacher = transformers.BertModel(TEACHER)
    student = transformers.BertModel(transformers.BertConfig(**{**TEACHER.to_dict(), "num_hidden_layers": 2}))
    record = copy_teacher_layers(teacher, student, teacher_layers=(1, 2))
    assert record.layers == ((0, 1), (1, 2))
    assert torch.equal(student.embeddings.token_type_embeddings.weight, teacher.embeddings.token_type_embeddings.weight)
    assert torch.equal(student.encoder.layer[0].output.dense.weight, teacher.encoder.layer[1].output.dense.weight)
    assert torch.equal(
        student.encoder.layer[1].attention.self.key.bias, teacher.encoder.layer[2].attention.self.key.bias
    )


def test_random_init_is_the_seed_and_copies_nothing():
    teacher = _bert_teacher()
    a, record = student_from_teacher(teacher, STUDENT, init="random", seed=5)
    b, _ = student_from_teacher(teacher, STUDENT, init="random", seed=5)
    assert record.method == "random" and record.copied == () and record.as_dict()["seed"] == 5
    assert torch.equal(a.distilbert.embeddings.word_embeddings.weight, b.distilbert.embeddings.word_embeddings.weight)
    assert not torch.equal(
        a.distilbert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight
    )


def test_initialisation_errors_say_what_to_fix():
    teacher = _bert_teacher()
    narrow = transformers.DistilBertConfig(**{**STUDENT.to_dict(), "dim": 16, "hidden_dim": 32})
    with pytest.raises(MeasurementError, match=r"word_embeddings.weight has shape \(200, 16\) but the teacher's"):
        student_from_teacher(teacher, narrow)
    with pytest.raises(MeasurementError, match="expected 2 indices"):
        student_from_teacher(teacher, STUDENT, teacher_layers=(0, 1, 2))
    with pytest.raises(MeasurementError, match="init 'copy'"):
        student_from_teacher(teacher, STUDENT, init="copy")
    student = transformers.DistilBertForMaskedLM(STUDENT)
    with pytest.raises(MeasurementError, match="the teacher is DistilBertForMaskedLM"):
        copy_teacher_layers(student, student)
