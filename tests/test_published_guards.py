"""Guards before a verdict on a published checkpoint (issue 12 item 4): head, label count, label order, scale.

The stand-ins come from tests/hub_fixtures.py: a headless checkpoint, a tiny classifier, its label-permuted copy
and a three-label classifier. The SST-2 dev set is labelled by the tiny classifier's own predictions, so it is
right on every example and its permuted copy wrong on every one: the machinery of the permutation check is
exercised without training (smoke evidence about the harness, nothing about any paper).
"""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import pytest
import tiny  # first: it imports what the in-process pytester run must not import twice
from hub_fixtures import own_labels, save_classifier, save_headless, save_label_permuted
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.errors import ClaimError, MeasurementError
from harness.measure.kinds.published_head import apply_head, check_teacher_order
from harness.ml import data
from harness.ml.heads import MARGIN, Z, check_permutations, inverse
from harness.spec import load
from harness.spec.heads import HeadConvention

pytestmark = pytest.mark.fast


# ---------------------------------------------------------------- the permutation check, exact numbers


def test_inverse_turns_a_label_order_into_an_output_to_label_mapping():
    assert inverse([1, 2, 0]) == [2, 0, 1]  # TextAttack MNLI: entailment is output 1, so output 0 is label 2
    assert inverse(inverse([1, 2, 0])) == [1, 2, 0]
    assert inverse([1, 0]) == [1, 0]


def test_a_swapped_binary_order_is_refused_with_its_exact_bound():
    # 10 examples, outputs right under the swap on 9 of them, under the identity on 1
    refs = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    raw = [1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
    check = check_permutations(raw, refs, [0, 1], 2)
    assert (check.declared_accuracy, check.best, check.best_accuracy) == (0.1, (1, 0), 0.9)
    # per-example differences: nine +1, one -1: mean 0.8, sd (ddof 1) 0.63246
    diffs = [1.0] * 9 + [-1.0]
    mean = sum(diffs) / 10
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 9)
    assert check.lower == pytest.approx(mean - Z * sd / math.sqrt(10))
    assert check.lower == pytest.approx(0.8 - 3.29 * 0.6324555320336759 / math.sqrt(10))
    assert check.suspect


def test_a_near_chance_model_is_not_refused_and_the_declared_best_order_passes():
    refs = [0, 1] * 20
    raw = [0, 0, 1, 1] * 10  # right on half the examples under either order
    assert not check_permutations(raw, refs, [0, 1], 2).suspect
    right = check_permutations([0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2], [0, 1, 2], 3)
    assert (right.best, right.lower, right.suspect) == ((0, 1, 2), 0.0, False)


def test_a_three_label_cycle_is_found_among_the_six_permutations():
    refs = [0, 1, 2] * 30
    raw = [1, 2, 0] * 30  # label d is output label_order[d] = [1, 2, 0][d]: TextAttack's MNLI convention
    check = check_permutations(raw, refs, [0, 1, 2], 3)
    assert (check.declared_accuracy, check.best, check.best_accuracy, check.lower) == (0.0, (2, 0, 1), 1.0, 1.0)
    assert check.suspect and check.best == tuple(inverse([1, 2, 0]))
    assert not check_permutations(raw, refs, inverse([1, 2, 0]), 3).suspect


def test_a_small_gain_inside_the_margin_is_not_refused():
    # 100,000 examples, the swap right on 52% of them: the gain 0.04 is certain (its lower bound > 0) but small
    refs = [0] * 100_000
    raw = [0] * 48_000 + [1] * 52_000
    check = check_permutations(raw, refs, [0, 1], 2)
    assert (check.declared_accuracy, check.best, check.best_accuracy) == (0.48, (1, 0), 0.52)
    sd = math.sqrt(100_000 / 99_999 * (1 - 0.04**2))
    assert check.lower == pytest.approx(0.04 - Z * sd / math.sqrt(100_000))
    assert 0 < check.lower < MARGIN and not check.suspect


def test_a_regression_head_is_divided_by_its_declared_scale_with_the_scale_free_note():
    stsb = data.task("glue/stsb")
    head = HeadConvention(output_scale=0.2, output_scale_source="TextAttack registry")
    predictions, details = apply_head(stsb, [0.2, 0.5, 1.0], [1.0, 2.5, 5.0], None, head, "org/x")
    assert list(predictions) == pytest.approx([1.0, 2.5, 5.0])
    assert "divided by the declared 0.2 (source: TextAttack registry)" in details["output_scale"]
    assert "scale-free" in details["output_scale"]
    same, none = apply_head(stsb, [0.2], [1.0], None, None, "org/x")
    assert list(same) == [0.2] and none["output_scale"].startswith("none declared")


# ---------------------------------------------------------------- the new fields, checked when the file loads

_MODEL = """schema_version = 1
[source]
key = "t"
title = "t"
reference = "tests"
version = "v1"
[models.m]
hub_id = "tiny/distilbert"
config_source = "tests"
[models.m.config]
model_type = "distilbert"
[models.m.finetuned]
"""


ORDER_SRC = ', label_order_source = "s"'
SCALE_SRC = ', output_scale_source = "s"'


@pytest.mark.parametrize(
    ("task", "fields", "field", "message"),
    [
        ("glue/mnli", "label_order = [0, 1]" + ORDER_SRC, "label_order", "a permutation of 3 indices"),
        ("glue/mnli", "label_order = [1, 1, 0]" + ORDER_SRC, "label_order", "not a permutation"),
        ("glue/mnli", 'label_order = [1, "2", 0]' + ORDER_SRC, "label_order", "not all integers"),
        ("glue/mnli", "label_order = [1, 2, 0]", "label_order_source", "nothing"),
        ("glue/mnli", 'label_order_source = "s"', "label_order_source", "without label_order"),
        ("glue/sst2", "label_order = [1, 0, 2]" + ORDER_SRC, "label_order", "a permutation of 2"),
        ("glue/sst2", "output_scale = 0.2" + SCALE_SRC, "output_scale", "no output scale"),
        ("glue/stsb", "output_scale = -1" + SCALE_SRC, "output_scale", "a number > 0"),
        ("glue/stsb", "label_order = [0]" + ORDER_SRC, "label_order", "regression task"),
        ("glue/stsb", "output_scal = 0.2", "output_scal", "Did you mean 'output_scale'"),
        ("glue/stbs", "output_scale = 0.2" + SCALE_SRC, None, "Did you mean 'glue/stsb'"),
    ],
)
def test_head_conventions_are_checked_at_load(tmp_path, task, fields, field, message):
    path = tmp_path / "c.toml"
    claim = tiny.claim("glue.m.sst2", "m", "glue/sst2", "accuracy", recipe=None)
    path.write_text(_MODEL + f'"{task}" = {{ hub_id = "o/x", {fields} }}\n' + claim, encoding="utf-8")
    errors = {r.name: r.error for r in load(path).invalid}
    assert isinstance(errors.get("<models.m>"), ClaimError), errors
    text = str(errors["<models.m>"])
    assert message in text, text
    assert f"models.m.finetuned.{task}" + (f".{field}" if field else "") in text


def test_a_declared_order_and_scale_load_into_the_model_spec(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        _MODEL
        + '"glue/mnli" = { hub_id = "o/m", label_order = [1, 2, 0], label_order_source = "registry" }\n'
        + '"glue/stsb" = { hub_id = "o/s", output_scale = 0.2, output_scale_source = "registry" }\n'
        + '"glue/sst2" = "o/plain"\n'
        + tiny.claim("glue.m.sst2", "m", "glue/sst2", "accuracy", recipe=None),
        encoding="utf-8",
    )
    loaded = load(path)
    assert loaded.invalid == ()
    spec = loaded.models["m"]
    assert spec.finetuned_heads == {
        "glue/mnli": HeadConvention((1, 2, 0), "registry"),
        "glue/stsb": HeadConvention(output_scale=0.2, output_scale_source="registry"),
    }
    assert spec.finetuned == {"glue/mnli": "o/m", "glue/stsb": "o/s", "glue/sst2": "o/plain"}


# ---------------------------------------------------------------- whole sessions on the stand-ins


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("guards")
    models = root / "models"
    tiny.save_checkpoint(models / tiny.DISTILBERT_ID, tiny.TINY_DISTILBERT)
    good = save_classifier(models / "guard" / "good", tiny.TINY_DISTILBERT, None, seed=5)
    save_label_permuted(models / "guard" / "permuted", good, [1, 0])
    save_headless(models / "guard" / "headless", tiny.TINY_DISTILBERT, seed=6)
    save_classifier(models / "guard" / "three", tiny.TINY_DISTILBERT, ["a", "b", "c"], seed=7)
    sentences = [t for t, _ in tiny.sentiment(random.Random(11), 48)]
    labels = own_labels(good, [sentences])
    dev = root / "data" / "glue" / "SST-2" / "dev.tsv"
    dev.parent.mkdir(parents=True)
    dev.write_text(
        "sentence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in zip(sentences, labels, strict=True)), encoding="utf-8"
    )
    return {"models": models, "data": root / "data"}


def _guard_model(name: str, entry: str) -> str:
    rows = "\n".join(f"{k} = {json.dumps(v)}" for k, v in tiny.TINY_DISTILBERT.items())
    return (
        f'[models.{name}]\nhub_id = "{tiny.DISTILBERT_ID}"\nconfig_source = "tests/tiny.py"\n'
        f'[models.{name}.config]\n{rows}\n[models.{name}.finetuned]\n"glue/sst2" = {entry}\n'
    )


GUARDS = {
    "good": '"guard/good"',
    "headless": '"guard/headless"',
    "permuted": '"guard/permuted"',
    "declared": '{ hub_id = "guard/permuted", label_order = [1, 0], label_order_source = "tests: outputs swapped" }',
    "three": '"guard/three"',
}


def test_published_checkpoints_are_refused_or_judged_by_their_heads(pytester, stand_ins):
    header = 'schema_version = 1\n[source]\nkey = "g"\ntitle = "guards"\nreference = "tests"\nversion = "v1"\n'
    claims = header + "".join(_guard_model(n, e) for n, e in GUARDS.items())
    claims += "".join(
        tiny.claim(f"glue.{n}.sst2", n, "glue/sst2", "accuracy", recipe=None, value=75, width=50) for n in GUARDS
    )
    pytester.makeini("[pytest]\n")
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "g.toml").write_text(claims, encoding="utf-8")
    out = pytester.path / "out"
    pytester.runpytest(
        f"--claims-models-dir={stand_ins['models']}",
        f"--claims-data-dir={stand_ins['data']}",
        "--claims-data-source=local",
        f"--claims-cache-dir={pytester.path / 'cache'}",
        f"--claims-out={out}",
        "-p",
        "no:cacheprovider",
    )
    results = {r["id"]: r for r in json.loads((out / "latest" / "results.json").read_text())["results"]}
    shutil.rmtree(out)
    good, declared = results["glue.good.sst2"], results["glue.declared.sst2"]
    for r in (good, declared):  # one published checkpoint, no declared seed SD: at best INCONCLUSIVE, never ERROR
        assert r["verdict"] == "INCONCLUSIVE" and "seed" in r["reason"], r
        assert r["measured"] == pytest.approx(100.0)  # points
        assert (
            r["details"]["label_check"]["best_output_to_label"]
            == r["details"]["label_check"]["declared_output_to_label"]
        )
    assert "generic (LABEL_i)" in good["details"]["labels"]
    assert "declared label_order [1, 0]" in declared["details"]["labels"]
    assert "source: tests: outputs swapped" in declared["details"]["labels"]
    headless = results["glue.headless.sst2"]
    assert headless["verdict"] == "ERROR"
    assert "guard/headless" in headless["reason"] and "has no task head" in headless["reason"]
    assert "classifier.weight" in headless["reason"] and "pre_classifier.weight" in headless["reason"]
    assert (
        'Point [models.headless.finetuned] "glue/sst2" at a checkpoint fine-tuned for glue/sst2' in (headless["reason"])
    )
    permuted = results["glue.permuted.sst2"]
    assert permuted["verdict"] == "ERROR" and "label mapping suspect" in permuted["reason"], permuted
    assert "as [1, 0] scores 1.0000 accuracy against 0.0000" in permuted["reason"]
    assert "label_order = [1, 0]" in permuted["reason"]
    three = results["glue.three.sst2"]
    assert three["verdict"] == "ERROR" and "has 3 labels" in three["reason"] and "glue/sst2 has 2" in three["reason"]
    assert 'point [models.three.finetuned] "glue/sst2" at a checkpoint fine-tuned for glue/sst2' in three["reason"]


def test_an_id2label_order_is_checked_too():
    sst2 = data.task("glue/sst2")
    with pytest.raises(MeasurementError, match=r"label mapping suspect .* org/x on glue/sst2"):
        apply_head(sst2, [0, 1, 0, 1] * 10, [1, 0, 1, 0] * 10, [0, 1], None, "org/x")


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda k: st.tuples(
            st.just(k), st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=80)
        )
    )
)
def test_the_best_permutation_is_never_suspect_and_scores_at_least_the_declared(case):
    k, pairs = case
    raw, refs = [p for p, _ in pairs], [r for _, r in pairs]
    check = check_permutations(raw, refs, list(range(k)), k)
    assert check.best_accuracy >= check.declared_accuracy
    assert check.lower <= check.best_accuracy - check.declared_accuracy + 1e-12
    again = check_permutations(raw, refs, check.best, k)
    assert not again.suspect and again.best == check.best


def test_a_published_teacher_must_give_its_outputs_in_the_data_sets_order(tmp_path):
    import transformers

    mnli = data.task("glue/mnli")
    names = {0: "entailment", 1: "neutral", 2: "contradiction"}
    transformers.BertConfig(num_labels=3, id2label=names).save_pretrained(tmp_path / "ordered")
    check_teacher_order(mnli, tmp_path / "ordered", "o/ordered", None, "F")  # by name, in order: accepted
    transformers.BertConfig(num_labels=3).save_pretrained(tmp_path / "generic")
    declared = HeadConvention((1, 2, 0), "registry")
    with pytest.raises(MeasurementError, match=r"o/generic \(F\) cannot be a distillation teacher for glue/mnli"):
        check_teacher_order(mnli, tmp_path / "generic", "o/generic", declared, "F")
    swapped = {0: "contradiction", 1: "entailment", 2: "neutral"}
    transformers.BertConfig(num_labels=3, id2label=swapped).save_pretrained(tmp_path / "swapped")
    with pytest.raises(MeasurementError, match="reordering a teacher's logits is not implemented"):
        check_teacher_order(mnli, tmp_path / "swapped", "o/swapped", None, "F")
