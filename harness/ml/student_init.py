"""Initialising a distillation student from a teacher's layers (or randomly, for the ablation row).

The authors' ``examples/research_projects/distillation/scripts/extract_distilbert.py`` (huggingface/transformers)
builds DistilBERT's initial weights from a 12-layer BERT teacher: the word and position embeddings and the
embedding LayerNorm are copied (DistilBERT has no token-type embeddings), student layer ``i`` takes teacher
layer ``[0, 2, 4, 7, 9, 11][i]`` (query/key/value/output, both LayerNorms and the feed-forward of that layer),
and the MLM head's projection and bias are copied (its transform too with ``--vocab_transform``). The paper calls
this "taking one layer out of two". :func:`authors_layer_choice` generalises that choice to other depths.

Teachers: ``BertModel`` or any BERT model with a head (``BertForMaskedLM`` ...). Students: a smaller
``BertModel``-family model (token-type embeddings copied too) or a ``DistilBertModel``-family one, with the same
hidden size. Task heads are not copied. Every copy checks shapes; a mismatch says which parameter and why.
"""

from __future__ import annotations

from typing import Any

import attrs

from harness.core.errors import MeasurementError

#: the teacher layers extract_distilbert.py copies into the 6 student layers (a 12-layer BERT-base teacher)
AUTHORS_LAYERS_12_TO_6 = (0, 2, 4, 7, 9, 11)

#: a teacher BERT layer's parameters (under encoder.layer.N.) -> the same parameter in a DistilBERT layer
#: (under transformer.layer.M.), as extract_distilbert.py maps them
_BERT_TO_DISTILBERT_LAYER = {
    "attention.self.query": "attention.q_lin",
    "attention.self.key": "attention.k_lin",
    "attention.self.value": "attention.v_lin",
    "attention.output.dense": "attention.out_lin",
    "attention.output.LayerNorm": "sa_layer_norm",
    "intermediate.dense": "ffn.lin1",
    "output.dense": "ffn.lin2",
    "output.LayerNorm": "output_layer_norm",
}
_BERT_TO_DISTILBERT_HEAD = {
    "cls.predictions.decoder.weight": "vocab_projector.weight",
    "cls.predictions.bias": "vocab_projector.bias",
}
_BERT_TO_DISTILBERT_TRANSFORM = {
    "cls.predictions.transform.dense": "vocab_transform",
    "cls.predictions.transform.LayerNorm": "vocab_layer_norm",
}


@attrs.frozen
class StudentInit:
    """How a student was initialised: ``method`` "teacher" or "random"; ``layers``: (student layer, teacher
    layer) pairs; ``copied``: (student parameter, teacher parameter) names of every tensor copied."""

    method: str
    layers: tuple[tuple[int, int], ...] = ()
    copied: tuple[tuple[str, str], ...] = ()
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The part of a cache key that says how the student started."""
        return {"method": self.method, "layers": [list(p) for p in self.layers], "seed": self.seed}


def authors_layer_choice(teacher_layers: int, student_layers: int) -> tuple[int, ...]:
    """The teacher layers that initialise the student's, generalising extract_distilbert.py's 12 -> 6 choice.

    The first ``ceil(m/2)`` student layers take every other teacher layer from the bottom (0, 2, 4), the rest
    every other one ending at the top layer (7, 9, 11): 12 -> 6 gives exactly the authors' (0, 2, 4, 7, 9, 11);
    4 -> 2 gives (0, 3). It needs at least two teacher layers per student layer.
    """
    if student_layers < 1 or teacher_layers < 2 * student_layers:
        raise MeasurementError(
            f"student initialisation: a {student_layers}-layer student cannot take one layer out of two of a "
            f"{teacher_layers}-layer teacher (expected teacher layers >= 2 x student layers); fix: pass "
            "teacher_layers=(...) explicitly, or use a deeper teacher"
        )
    bottom = (student_layers + 1) // 2
    top = student_layers - bottom
    chosen = tuple(2 * i for i in range(bottom)) + tuple(teacher_layers - 1 - 2 * j for j in reversed(range(top)))
    return chosen


def _base(model: Any) -> tuple[Any, str]:
    """The model's encoder (BertModel / DistilBertModel) and the prefix of its parameters in the full model."""
    prefix = getattr(model, "base_model_prefix", "")
    if prefix and hasattr(model, prefix) and getattr(model, prefix) is not model:
        return getattr(model, prefix), prefix + "."
    return model, ""


def _kind(model: Any, role: str) -> str:
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in ("bert", "distilbert") or (role == "teacher" and model_type != "bert"):
        expected = "a BERT model" if role == "teacher" else "a BERT or DistilBERT model"
        raise MeasurementError(
            f"student initialisation: the {role} is {type(model).__name__} (model_type {model_type!r}); expected "
            f"{expected} (the authors' extraction maps BERT layers only); fix: use a BERT-family {role}"
        )
    return model_type


def _layer_count(model: Any, kind: str) -> int:
    return int(model.config.n_layers if kind == "distilbert" else model.config.num_hidden_layers)


def _name_pairs(teacher: Any, student: Any, chosen: tuple[int, ...], vocab_transform: bool) -> list[tuple[str, str]]:
    """(student parameter, teacher parameter) names to copy, in the full models' state-dict names."""
    s_kind = _kind(student, "student")
    _, t_pre = _base(teacher)
    _, s_pre = _base(student)
    t_keys, s_keys = set(teacher.state_dict()), set(student.state_dict())
    pairs: list[tuple[str, str]] = []
    embeddings = ["word_embeddings.weight", "position_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias"]
    if s_kind == "bert":
        embeddings.append("token_type_embeddings.weight")
    pairs += [(f"{s_pre}embeddings.{e}", f"{t_pre}embeddings.{e}") for e in embeddings]
    for s_index, t_index in enumerate(chosen):
        for t_part, d_part in _BERT_TO_DISTILBERT_LAYER.items():
            s_part = d_part if s_kind == "distilbert" else t_part
            s_layer = f"transformer.layer.{s_index}" if s_kind == "distilbert" else f"encoder.layer.{s_index}"
            for w in ("weight", "bias"):
                pairs.append((f"{s_pre}{s_layer}.{s_part}.{w}", f"{t_pre}encoder.layer.{t_index}.{t_part}.{w}"))
    head = dict(_BERT_TO_DISTILBERT_HEAD)
    if vocab_transform:
        head.update(
            {f"{t}.{w}": f"{d}.{w}" for t, d in _BERT_TO_DISTILBERT_TRANSFORM.items() for w in ("weight", "bias")}
        )
    for t_name, d_name in head.items():
        s_name = d_name if s_kind == "distilbert" else t_name
        if t_name in t_keys and s_name in s_keys:  # both have an MLM head
            pairs.append((s_name, t_name))
    missing = [(s, t) for s, t in pairs if s not in s_keys or t not in t_keys]
    if missing:
        s_name, t_name = missing[0]
        side = f"student has no {s_name!r}" if s_name not in s_keys else f"teacher has no {t_name!r}"
        raise MeasurementError(
            f"student initialisation: the {side} (student {type(student).__name__}, teacher "
            f"{type(teacher).__name__}); expected the BERT/DistilBERT parameter layout of transformers; "
            "fix: use BertModel/BertFor* teachers and BertModel/DistilBertModel-family students"
        )
    return pairs


def copy_teacher_layers(
    teacher: Any, student: Any, teacher_layers: tuple[int, ...] | None = None, vocab_transform: bool = True
) -> StudentInit:
    """Copy the teacher's embeddings, chosen layers and MLM head into ``student`` in place; the record of it.

    ``teacher_layers`` (one teacher layer per student layer) defaults to :func:`authors_layer_choice`.
    ``vocab_transform`` also copies the MLM head's transform (dense + LayerNorm), as the authors' script does
    with ``--vocab_transform``; without it the student keeps its random transform.
    """
    import torch

    _kind(teacher, "teacher")
    s_kind = _kind(student, "student")
    n_teacher = _layer_count(teacher, "bert")
    n_student = _layer_count(student, s_kind)
    chosen = tuple(teacher_layers) if teacher_layers is not None else authors_layer_choice(n_teacher, n_student)
    if len(chosen) != n_student or not all(0 <= i < n_teacher for i in chosen):
        raise MeasurementError(
            f"student initialisation: teacher_layers {chosen}: expected {n_student} indices (one per student "
            f"layer) in 0..{n_teacher - 1}; fix: give one teacher layer per student layer"
        )
    pairs = _name_pairs(teacher, student, chosen, vocab_transform)
    t_state, s_state = teacher.state_dict(), student.state_dict()
    for s_name, t_name in pairs:
        if s_state[s_name].shape != t_state[t_name].shape:
            raise MeasurementError(
                f"student initialisation: {s_name} has shape {tuple(s_state[s_name].shape)} but the teacher's "
                f"{t_name} has {tuple(t_state[t_name].shape)}; expected equal shapes; fix: give the student the "
                "teacher's hidden size, intermediate size, vocabulary and maximum positions"
            )
    with torch.no_grad():
        for s_name, t_name in pairs:  # state-dict tensors share storage with the parameters
            s_state[s_name].copy_(t_state[t_name])
    return StudentInit(method="teacher", layers=tuple(enumerate(chosen)), copied=tuple(pairs))


def student_from_teacher(
    teacher: Any,
    student_config: Any,
    init: str = "teacher",
    seed: int = 0,
    teacher_layers: tuple[int, ...] | None = None,
    vocab_transform: bool = True,
) -> tuple[Any, StudentInit]:
    """A masked-LM student of ``student_config`` (random weights drawn with ``seed``), then initialised from
    ``teacher`` (``init="teacher"``) or left random (``init="random"``: the paper's ablation row)."""
    import torch
    from transformers import AutoModelForMaskedLM

    if init not in ("teacher", "random"):
        raise MeasurementError(
            f"student initialisation: init {init!r}: expected 'teacher' (from every other teacher layer) or "
            "'random' (the ablation row); fix: use one of them"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        student = AutoModelForMaskedLM.from_config(student_config)
    if init == "random":
        return student, StudentInit(method="random", seed=seed)
    record = copy_teacher_layers(teacher, student, teacher_layers, vocab_transform)
    return student, attrs.evolve(record, seed=seed)
