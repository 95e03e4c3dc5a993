"""SQuAD v2.0 scoring (``harness.ml.squad_v2``, the official evaluate-v2.0.py rules) on a hand-built prediction
set with exact numbers, and the SQuAD v2.0 and RACE tasks as vocabulary: validated when the file loads,
NOT_RUN naming the data and the missing evaluation when measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from claimsfile import HEADER, claim, claims_toml

from harness.core.errors import NotRunError
from harness.measure.measurement import Context, Options
from harness.ml import metrics, squad_v2
from harness.spec import load

pytestmark = pytest.mark.fast

# (prediction, answers); "" predicts "no answer"
QUESTIONS = [
    ("the Broncos", ["Denver Broncos", "Broncos"]),  # answerable, exact after normalization: EM 1, F1 1
    ("Bernadette", ["Saint Bernadette Soubirous"]),  # answerable, partial: EM 0, F1 2 * 1 * (1/3) / (4/3) = 0.5
    ("", ["1990"]),  # answerable, abstained: EM 0, F1 0
    ("", []),  # unanswerable, abstained: EM 1, F1 1
    ("in 1991", []),  # unanswerable, answered: EM 0, F1 0
    ("", ["The"]),  # answerable (non-empty list), but every answer normalizes to "": gold [""], EM 1, F1 1
]
PREDICTIONS = [p for p, _ in QUESTIONS]
ANSWERS = [a for _, a in QUESTIONS]


def test_per_question_scores_follow_the_official_rules() -> None:
    assert [squad_v2.exact(p, a) for p, a in QUESTIONS] == [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    assert [squad_v2.f1(p, a) for p, a in QUESTIONS] == [1.0, 0.5, 0.0, 1.0, 0.0, 1.0]
    assert [squad_v2.has_answer(a) for a in ANSWERS] == [True, True, True, False, False, True]
    assert squad_v2.gold_answers(["The", "a"]) == [""]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("squad_v2_exact", 3 / 6),
        ("squad_v2_f1", 3.5 / 6),
        ("has_ans_exact", 2 / 4),  # questions 1, 2, 3, 6
        ("has_ans_f1", 2.5 / 4),
        ("no_ans_exact", 1 / 2),  # questions 4, 5
        ("no_ans_f1", 1 / 2),
    ],
)
def test_overall_and_has_ans_no_ans_scores_exact(name: str, expected: float) -> None:
    assert metrics.compute(name, PREDICTIONS, ANSWERS) == pytest.approx(expected, abs=1e-12)
    replicates = metrics.bootstrap(name, PREDICTIONS, ANSWERS, seed=0)
    finite = replicates[~(replicates != replicates)]  # a resample without a question of the subset is NaN
    assert finite.size > 0 and ((finite >= 0) & (finite <= 1)).all()


def test_a_subset_metric_without_its_questions_is_an_error() -> None:
    with pytest.raises(ValueError, match="none of the 1 questions"):
        metrics.compute("no_ans_f1", ["x"], [["x"]])


def _task_claim(cid: str, task: str, metric: str, split: str) -> dict[str, Any]:
    return claim(
        cid,
        80.0,
        unit="points",
        metric={"name": metric, "split": split},
        measure={"kind": "task_score", "model": "m", "task": task},
    )


def test_squad_v2_and_race_claims_are_checked_at_load_and_not_run_naming_what_is_missing(tmp_path: Path) -> None:
    tiny = {"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1}
    tiny |= {"num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 8}
    records = [
        _task_claim("squad2.f1", "squad_v2", "squad_v2_f1", "validation"),
        _task_claim("squad2.noans", "squad_v2", "no_ans_exact", "validation"),
        _task_claim("race.acc", "race", "accuracy", "test"),
        _task_claim("bad.metric", "squad_v2", "squad_f1", "validation"),  # the v1.1 metric: not v2's
        _task_claim("bad.split", "race", "accuracy", "validation"),
    ]
    models = {"m": {"hub_id": "toy-org/m", "config_source": "test", "config": tiny}}
    path = tmp_path / "claims" / "toy.toml"
    path.parent.mkdir(parents=True)
    path.write_text(claims_toml(*records, header={**HEADER, "models": models}), encoding="utf-8")
    loaded = load(path)
    errors = {r.name: r.error for r in loaded.invalid}
    assert set(errors) == {"bad.metric", "bad.split"}
    assert "does not apply to squad_v2" in errors["bad.metric"].found and "squad_v2_f1" in errors["bad.metric"].found
    assert "scores race on its 'test' split" in errors["bad.split"].found
    context = Context(loaded, Options(data_dir=tmp_path / "data"))
    cases = (
        ("squad2.f1", "squad_v2", "squad/dev-v2.0.json", "squad_v2"),
        ("race.acc", "race", "RACE/test", "multiple_choice"),
    )
    for cid, task, data_file, kind in cases:
        with pytest.raises(NotRunError) as err:
            context.measure(loaded.claim(cid))
        assert "is not evaluated here" in err.value.reason
        assert data_file in err.value.remedy
        assert set(err.value.needs) == {f"data {task}", f"evaluation {kind}"}
