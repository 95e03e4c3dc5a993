"""The distillation losses compute their formulas (exact numbers on fixed tensors), the weights validate and
name the field, the cache inputs follow the teacher and every weight, the FLOP estimate is its rule.

Expected values are computed here from the formulas with numpy or plain math, never by the code tested.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.core.errors import MeasurementError
from harness.ml.distillation import (
    WEIGHT_FIELDS,
    DistillationWeights,
    combined_task_loss,
    distillation_cache_inputs,
    mlm_distillation_losses,
    pretraining_flop_estimate,
    soft_target_loss,
    squad_distillation_loss,
    task_distillation_loss,
    triple_loss,
)

pytestmark = pytest.mark.fast


# ---------------------------------------------------------------- reference formulas in numpy


def np_log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def np_soft_target(s: np.ndarray, t: np.ndarray, temperature: float) -> float:
    """sum_rows sum_j q_j (log q_j - log p_j) / rows * T^2, q = softmax(t/T), p = softmax(s/T)."""
    log_q = np_log_softmax(t / temperature)
    log_p = np_log_softmax(s / temperature)
    return float((np.exp(log_q) * (log_q - log_p)).sum() / s.shape[0] * temperature**2)


def t64(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float64))


# ---------------------------------------------------------------- losses: exact numbers


def test_soft_target_loss_by_hand_and_its_temperature_squared_scaling():
    # q = softmax([ln 3, 0]) = [0.75, 0.25], p = [0.5, 0.5]: KL = 0.75 ln 1.5 + 0.25 ln 0.5 = 0.1308120...
    by_hand = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert by_hand == pytest.approx(0.13081203594, abs=1e-10)
    at_1 = soft_target_loss(t64([[0.0, 0.0]]), t64([[math.log(3), 0.0]]), temperature=1.0)
    assert float(at_1) == pytest.approx(by_hand, abs=1e-6)
    # the same distributions at T = 2 (teacher logits doubled), times T^2 = 4
    at_2 = soft_target_loss(t64([[0.0, 0.0]]), t64([[2 * math.log(3), 0.0]]), temperature=2.0)
    assert float(at_2) == pytest.approx(4 * by_hand, abs=1e-6)
    assert float(at_2) == pytest.approx(0.52324814376, abs=1e-6)


S = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
T = np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def test_task_distillation_loss_is_batchmean_kl_times_t_squared():
    got = float(task_distillation_loss(t64(S), t64(T), 2.0))
    assert got == pytest.approx(np_soft_target(S, T, 2.0), abs=1e-6)
    # and it is exactly the authors' expression with torch's KLDivLoss(batchmean)
    authors = torch.nn.KLDivLoss(reduction="batchmean")(
        torch.log_softmax(t64(S) / 2.0, dim=-1), torch.softmax(t64(T) / 2.0, dim=-1)
    ) * (2.0**2)
    assert got == pytest.approx(float(authors), abs=1e-6)
    assert got == pytest.approx(1.13938686, abs=1e-6)  # plain-Python math on these logits gives 1.1393868602


def test_a_regression_head_cannot_be_distilled_with_soft_targets():
    with pytest.raises(MeasurementError, match="one output .*regression"):
        task_distillation_loss(t64([[0.3], [0.1]]), t64([[0.2], [0.0]]), 2.0)


def test_squad_distillation_loss_averages_start_and_end():
    s_start, s_end = np.array([[0.1, 2.0, -1.0, 0.5]]), np.array([[1.0, 0.0, 0.0, 3.0]])
    t_start, t_end = np.array([[0.0, 3.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 1.0, 2.5]])
    expected = (np_soft_target(s_start, t_start, 2.0) + np_soft_target(s_end, t_end, 2.0)) / 2
    got = squad_distillation_loss(t64(s_start), t64(s_end), t64(t_start), t64(t_end), 2.0)
    assert float(got) == pytest.approx(expected, abs=1e-6)
    assert float(combined_task_loss(t64(1.5), got, 0.5, 0.5)) == pytest.approx(0.5 * expected + 0.75, abs=1e-6)


def test_combined_task_loss_weights():
    assert float(combined_task_loss(t64(2.0), t64(3.0), alpha_ce=0.5, alpha_task=0.25)) == pytest.approx(2.0)
    assert float(combined_task_loss(t64(2.0), t64(3.0), alpha_ce=0.0, alpha_task=1.0)) == pytest.approx(2.0)


def _mlm_case():
    rng = np.random.default_rng(0)
    s_logits, t_logits = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    s_hidden, t_hidden = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5))
    mask = np.array([[1, 1, 1], [1, 1, 0]])
    labels = np.array([[-100, 2, -100], [1, -100, -100]])
    return s_logits, t_logits, s_hidden, t_hidden, mask, labels


def _np_mlm_losses(s_logits, t_logits, s_hidden, t_hidden, mask, labels, temperature, restrict):
    rows = (labels > -1) if restrict else mask.astype(bool)
    ce = np_soft_target(s_logits[rows], t_logits[rows], temperature)
    chosen = labels != -100
    log_p = np_log_softmax(s_logits[chosen])
    mlm = float(-log_p[np.arange(chosen.sum()), labels[chosen]].mean())
    real = mask.astype(bool)
    a, b = s_hidden[real], t_hidden[real]
    cos = float((1 - (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)).mean())
    return {"ce": ce, "mlm": mlm, "cos": cos}


@pytest.mark.parametrize("restrict", [False, True])
def test_mlm_distillation_losses_follow_distiller_py(restrict):
    s_logits, t_logits, s_hidden, t_hidden, mask, labels = _mlm_case()
    expected = _np_mlm_losses(s_logits, t_logits, s_hidden, t_hidden, mask, labels, 2.0, restrict)
    got = mlm_distillation_losses(
        t64(s_logits),
        t64(t_logits),
        t64(s_hidden),
        t64(t_hidden),
        torch.tensor(labels),
        torch.tensor(mask),
        2.0,
        restrict_ce_to_mask=restrict,
    )
    assert set(got) == {"ce", "mlm", "cos"}
    for name in got:
        assert float(got[name]) == pytest.approx(expected[name], abs=1e-6), name
    # the KL rows are the 5 real tokens (or the 2 labelled ones): batchmean divides by that, not by the batch
    all_rows = np_soft_target(s_logits.reshape(-1, 4), t_logits.reshape(-1, 4), 2.0)
    assert float(got["ce"]) != pytest.approx(all_rows, abs=1e-4)


def test_padding_positions_do_not_enter_any_loss():
    s_logits, t_logits, s_hidden, t_hidden, mask, labels = _mlm_case()
    args = (torch.tensor(labels), torch.tensor(mask), 2.0)
    clean = mlm_distillation_losses(t64(s_logits), t64(t_logits), t64(s_hidden), t64(t_hidden), *args)
    for array in (s_logits, t_logits, s_hidden, t_hidden):
        array[1, 2] = 1e3  # the padded position of the second sequence
    noisy = mlm_distillation_losses(t64(s_logits), t64(t_logits), t64(s_hidden), t64(t_hidden), *args)
    for name in clean:
        assert float(noisy[name]) == pytest.approx(float(clean[name]), abs=1e-9)


def test_triple_loss_is_the_weighted_sum_and_a_zero_weight_adds_nothing():
    losses = {"ce": t64(1.0), "mlm": t64(2.0), "cos": t64(0.5)}
    assert float(triple_loss(losses, 5.0, 2.0, 1.0)) == pytest.approx(5.0 + 4.0 + 0.5)
    assert float(triple_loss(losses, 0.0, 2.0, 1.0)) == pytest.approx(4.5)
    # an ablated loss is not computed into the total at all, so not even a NaN in it leaks through
    assert float(triple_loss({**losses, "cos": t64(math.nan)}, 5.0, 2.0, 0.0)) == pytest.approx(9.0)


logit_rows = arrays(np.float64, (3, 4), elements=st.floats(-5, 5, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(s=logit_rows, t=logit_rows, temperature=st.floats(0.5, 8.0))
def test_soft_target_invariants(s, t, temperature):
    loss = float(soft_target_loss(t64(s), t64(t), temperature))
    assert loss >= -1e-9  # a KL divergence
    assert float(soft_target_loss(t64(t), t64(t), temperature)) == pytest.approx(0.0, abs=1e-9)
    # dividing logits scaled by T by T gives the T = 1 distributions: the loss is T^2 times the T = 1 loss
    scaled = float(soft_target_loss(t64(s * temperature), t64(t * temperature), temperature))
    assert scaled == pytest.approx(temperature**2 * float(soft_target_loss(t64(s), t64(t), 1.0)), rel=1e-6, abs=1e-9)


# ---------------------------------------------------------------- weights


def test_the_authors_defaults():
    assert DistillationWeights.fine_tuning().as_dict() == {
        "temperature": 2.0,
        "alpha_ce": 0.5,
        "alpha_task": 0.5,
        "alpha_mlm": 0.0,
        "alpha_cos": 0.0,
    }
    full = DistillationWeights.pretraining()
    assert (full.temperature, full.alpha_ce, full.alpha_mlm, full.alpha_cos) == (2.0, 5.0, 2.0, 1.0)
    assert full.without("alpha_cos").alpha_cos == 0.0 and full.without("alpha_cos").alpha_ce == 5.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"alpha_ce": -0.5}, "field 'alpha_ce': expected a weight >= 0, found -0.5"),
        ({"alpha_mlm": math.nan}, "field 'alpha_mlm': expected a finite number, found nan"),
        ({"alpha_cos": math.inf}, "field 'alpha_cos': expected a finite number, found inf"),
        ({"temperature": 0.0}, "field 'temperature': expected a temperature > 0"),
        ({"temperature": -1.0}, "field 'temperature': expected a temperature > 0"),
        ({"alpha_task": True}, "field 'alpha_task': expected a number, found True"),
        ({"alpha_ce": "0.5"}, "field 'alpha_ce': expected a number, found '0.5'"),
        ({"alpha_ce": 0.0, "alpha_task": 0.0}, "expected at least one positive weight"),
    ],
)
def test_invalid_weights_name_the_field(fields, message):
    with pytest.raises(MeasurementError, match=message.replace("(", r"\(")):
        DistillationWeights(**{"temperature": 2.0, "alpha_ce": 0.5, "alpha_task": 0.5, **fields})


def test_weights_from_a_recipe_table():
    where = "[recipes.squad_distill]"
    w = DistillationWeights.from_table({"temperature": 2.0, "alpha_ce": 0.5, "alpha_squad": 0.5}, where)
    assert w == DistillationWeights.fine_tuning()
    with pytest.raises(MeasurementError, match=r"\[recipes.squad_distill\]: field 'alpha_ce'.*>= 0"):
        DistillationWeights.from_table({"temperature": 2.0, "alpha_ce": -1}, where)
    with pytest.raises(MeasurementError, match=r"\[recipes.squad_distill\]: field 'alpha_kl'"):
        DistillationWeights.from_table({"temperature": 2.0, "alpha_ce": 1, "alpha_kl": 1}, where)
    with pytest.raises(MeasurementError, match=r"field 'temperature': expected it to be declared"):
        DistillationWeights.from_table({"alpha_ce": 1}, where)
    with pytest.raises(MeasurementError, match="found both"):
        DistillationWeights.from_table({"temperature": 2, "alpha_ce": 1, "alpha_squad": 1, "alpha_task": 1}, where)


# ---------------------------------------------------------------- cache inputs


def _key(inputs) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def test_cache_inputs_include_the_teacher_and_every_weight():
    student = {"base": "abc", "task": "glue/sst2", "data": "d1", "seed": 1, "recipe": {"learning_rate": 5e-5}}
    weights = DistillationWeights(temperature=2.0, alpha_ce=0.5, alpha_task=0.5, alpha_mlm=0.1, alpha_cos=0.1)
    inputs = distillation_cache_inputs("teacher-digest-1", weights, student)
    assert inputs["teacher"] == "teacher-digest-1"
    assert inputs["distillation"] == weights.as_dict() and set(inputs["distillation"]) == set(WEIGHT_FIELDS)
    assert {k: inputs[k] for k in student} == student
    keys = {_key(inputs), _key(distillation_cache_inputs("teacher-digest-2", weights, student)), _key(student)}
    for field in WEIGHT_FIELDS:
        changed = _evolved(weights, field, getattr(weights, field) + 0.25)
        keys.add(_key(distillation_cache_inputs("teacher-digest-1", changed, student)))
    assert len(keys) == 3 + len(WEIGHT_FIELDS)  # each change gives its own key
    with pytest.raises(MeasurementError, match="already have the key 'teacher'"):
        distillation_cache_inputs("t", weights, {**student, "teacher": "x"})
    with pytest.raises(MeasurementError, match="expected the teacher's digest"):
        distillation_cache_inputs("", weights, student)


def _evolved(weights: DistillationWeights, field: str, value: float) -> DistillationWeights:
    import attrs

    return attrs.evolve(weights, **{field: value})


def test_flop_estimate_is_the_6n_plus_2n_rule():
    e = pretraining_flop_estimate(66_985_530, 109_514_298, 10**8)
    assert e.student_flops == 6 * 66_985_530 * 10**8 and e.teacher_flops == 2 * 109_514_298 * 10**8
    assert e.seconds_at(4e14) == pytest.approx((6 * 66_985_530 + 2 * 109_514_298) * 10**8 / 4e14)
    with_attention = pretraining_flop_estimate(
        10, 20, 100, student_layers=2, teacher_layers=4, hidden_size=8, sequence_length=16
    )
    assert with_attention.student_flops == 6 * 10 * 100 + 3 * 4 * 8 * 16 * 2 * 100
    assert with_attention.teacher_flops == 2 * 20 * 100 + 4 * 8 * 16 * 4 * 100
