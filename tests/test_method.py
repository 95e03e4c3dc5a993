"""The paper's method through the harness on tiny stand-ins: distillation during fine-tuning ((D)-style scores) and
the triple-loss ablation at reduced scale, whole sessions through the pytest plugin (pytester).

Everything here is SMOKE evidence about the machinery: tiny models (hidden 32), a toy corpus the test writes,
a few hundred steps. The ablation's verdicts are printed and checked to be verdicts, never tuned towards the
paper's order. The losses' exact numbers are tested in test_distillation.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import tiny  # first: it imports what in-process pytester runs must not import twice
import torch

from harness.ml.finetune_cache import MANIFEST, checkpoint_digest

pytestmark = pytest.mark.slow

TEACHER_MLM_ID = "tiny/bert-mlm"
TEACHER_MLM = {**tiny.TINY_BERT, "num_hidden_layers": 4}
ROW_VERDICTS = {"REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE"}

DISTILL_RECIPES = f"""
[models.tiny_distilbert_d]
hub_id = "{tiny.DISTILBERT_ID}"
config_source = "tests/tiny.py"
[models.tiny_distilbert_d.config]
{tiny._toml_table(tiny.TINY_DISTILBERT)}
[models.tiny_distilbert_d.finetuned]
"glue/sst2" = "{tiny.PUBLISHED_ID}"

[recipes.tiny_glue_distill]
base = "tiny_single"
teacher = "tiny_bert"
teacher_task = "glue/sst2"
teacher_recipe = "tiny_single"
temperature = 2.0
alpha_ce = 0.5
alpha_task = 0.5

[recipes.tiny_squad_distill]
base = "tiny_squad"
teacher = "tiny_bert"
teacher_task = "squad_v1"
teacher_recipe = "tiny_squad"
temperature = 2.0
alpha_ce = 0.5
alpha_squad = 0.5
"""

PRETRAIN_RECIPES = f"""
[models.tiny_bert_mlm]
hub_id = "{TEACHER_MLM_ID}"
config_source = "tests/test_method.py"
[models.tiny_bert_mlm.config]
{tiny._toml_table(TEACHER_MLM)}

[recipes.tiny_pretrain]
kind = "distill_pretrain"
teacher = "tiny_bert_mlm"
student = "tiny_distilbert"
init = "teacher"
temperature = 2.0
alpha_ce = 5.0
alpha_mlm = 2.0
alpha_cos = 1.0
corpus = "toy/train.txt"
held_out = "toy/held_out.txt"
steps = 60
batch_size = 16
max_length = 32
mlm_probability = 0.15
learning_rate = 0.002
seed = 0
eval_seed = 7
[recipes.tiny_pretrain_no_l_ce]
kind = "distill_pretrain"
base = "tiny_pretrain"
alpha_ce = 0.0
[recipes.tiny_pretrain_no_l_cos]
kind = "distill_pretrain"
base = "tiny_pretrain"
alpha_cos = 0.0
[recipes.tiny_pretrain_no_l_mlm]
kind = "distill_pretrain"
base = "tiny_pretrain"
alpha_mlm = 0.0
[recipes.tiny_pretrain_random_init]
kind = "distill_pretrain"
base = "tiny_pretrain"
init = "random"
"""

#: (claim id, row recipe, the paper's Table 4 row): sign claims, each row minus the full triple loss
ROWS = (
    ("ablation.no_l_ce", "tiny_pretrain_no_l_ce", -2.96),
    ("ablation.no_l_cos", "tiny_pretrain_no_l_cos", -1.46),
    ("ablation.no_l_mlm", "tiny_pretrain_no_l_mlm", -0.31),
    ("ablation.random_init", "tiny_pretrain_random_init", -3.69),
)
#: order claims over the rows' deltas: removing L_mlm changes the score less than removing L_ce / L_cos
ORDERS = (
    ("ablation.l_mlm_less_than_l_ce", "abs(ablation.no_l_ce) > abs(ablation.no_l_mlm)"),
    ("ablation.l_mlm_less_than_l_cos", "abs(ablation.no_l_cos) > abs(ablation.no_l_mlm)"),
)
BUDGET = "60 steps x 16 sequences <= 32 tokens; teacher 4 layers hidden 32, student 2 layers hidden 32; seed 0"


def ablation_claims() -> str:
    rows = "".join(
        f"""
[[claims]]
id = "{cid}"
quote = "tiny stand-in claim {value}"
location = "tests"
value = {value}
unit = "points"
precision = 0.01
scale = "reduced"
budget = "{BUDGET}"
comparable_on = ["statistic"]
[claims.conditions]
statistic = "change in held-out masked-LM accuracy"
[claims.tolerance]
kind = "sign"
rationale = "a direction"
[claims.measure]
kind = "reduced_scale_delta"
recipe = "{recipe}"
reference = "tiny_pretrain"
smoke = true
"""
        for cid, recipe, value in ROWS
    )
    orders = "".join(
        f"""
[[claims]]
id = "{cid}"
quote = "tiny stand-in order"
location = "tests"
unit = "points"
scale = "reduced"
budget = "{BUDGET}"
inequalities = ["{inequality}"]
[claims.tolerance]
kind = "order"
rationale = "strict"
"""
        for cid, inequality in ORDERS
    )
    return rows + orders


def toy_lines(n: int, seed: int) -> list[str]:
    """Masked words that follow from their context (a country's capital; two words of one sentiment)."""
    import random

    rng = random.Random(seed)
    lines = []
    for i in range(n):
        if i % 2:
            k = rng.randrange(len(tiny.COUNTRIES))
            lines.append(f"the capital of {tiny.COUNTRIES[k]} is {tiny.PLACES[k]} .")
        else:
            words = tiny.POSITIVE if rng.random() < 0.5 else tiny.NEGATIVE
            lines.append(f"this movie was {rng.choice(words)} and the plot was {rng.choice(words)} .")
    return lines


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny checkpoints and data, a toy corpus, and a 4-layer masked-LM teacher pre-trained on it (MLM only)."""
    import transformers

    from harness.ml.distill_trainer import distill_pretrain
    from harness.ml.distillation import DistillationWeights
    from harness.ml.models import build_config

    root = tmp_path_factory.mktemp("method")
    models, data_dir = tiny.write_models(root / "models"), tiny.write_data(root / "data")
    (data_dir / "toy").mkdir()
    (data_dir / "toy" / "train.txt").write_text("\n".join(toy_lines(800, 0)) + "\n", encoding="utf-8")
    (data_dir / "toy" / "held_out.txt").write_text("\n".join(toy_lines(200, 1)) + "\n", encoding="utf-8")
    tok = tiny.tokenizer(token_type_ids=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        teacher = transformers.BertForMaskedLM(build_config(TEACHER_MLM))
        corpus = (data_dir / "toy" / "train.txt").read_text(encoding="utf-8").splitlines()
        weights = DistillationWeights(temperature=1.0, alpha_ce=0.0, alpha_mlm=1.0)
        distill_pretrain(None, teacher, corpus, tok, weights, 200, 32, 0.15, 0, "cpu", learning_rate=2e-3)
    finally:
        torch.set_num_threads(threads)
    teacher.save_pretrained(models / TEACHER_MLM_ID)
    tok.save_pretrained(models / TEACHER_MLM_ID)
    return {"models": models, "data": data_dir}


def run(pytester: pytest.Pytester, world: dict[str, Path], claims: str, cache: Path, *args: str) -> tuple[Any, dict]:
    pytester.makeini("[pytest]\n")
    (pytester.path / "claims").mkdir(exist_ok=True)
    (pytester.path / "claims" / "tiny.toml").write_text(claims, encoding="utf-8")
    out = pytester.path / "out"
    shutil.rmtree(out, ignore_errors=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a shared 2-core machine two intra-op threads were 5-10x slower
    try:
        result = pytester.runpytest(
            f"--claims-models-dir={world['models']}",
            f"--claims-data-dir={world['data']}",
            f"--claims-cache-dir={cache}",
            f"--claims-out={out}",
            "-p",
            "no:cacheprovider",
            *args,
        )
    finally:
        torch.set_num_threads(threads)
    written = out / "latest" / "results.json"
    results = json.loads(written.read_text())["results"] if written.exists() else []
    return result, {r["id"]: r for r in results}


def test_distillation_during_fine_tuning_gives_d_style_smoke_scores(pytester, world, tmp_path):
    claims = (
        tiny.claims_header()
        + DISTILL_RECIPES
        + tiny.claim("glue.tiny_d.sst2", "tiny_distilbert_d", "glue/sst2", "accuracy", recipe="tiny_glue_distill")
        + tiny.claim("squad.tiny_d.f1", "tiny_distilbert_d", "squad_v1", "squad_f1", recipe="tiny_squad_distill")
    )
    cache = tmp_path / "cache"
    _, by_id = run(pytester, world, claims, cache, "--claims-task-evidence=finetune")
    assert set(by_id) == {"glue.tiny_d.sst2", "squad.tiny_d.f1"}
    entries = {p.name: p for p in (cache / "finetuned").iterdir() if p.is_dir()}
    for cid, task in (("glue.tiny_d.sst2", "glue-sst2"), ("squad.tiny_d.f1", "squad_v1")):
        r = by_id[cid]
        assert r["verdict"] in ROW_VERDICTS | {"REPRODUCED"}, (cid, r["reason"])
        assert r["smoke"] and "[SMOKE" in r["reason"]
        evidence = r["evidence"]
        assert "distilled from teacher tiny_bert fine-tuned here" in evidence["path"], evidence["path"]
        teacher_entry = next(p for n, p in entries.items() if n.startswith(f"{task}-tiny_bert-"))
        assert evidence["teacher_digest"] == checkpoint_digest(teacher_entry)
        (student_entry,) = evidence["cache_entries"]
        inputs = json.loads((Path(student_entry) / MANIFEST).read_text())["inputs"]
        assert inputs["teacher"] == checkpoint_digest(teacher_entry)
        assert inputs["distillation"] == {
            "temperature": 2.0,
            "alpha_ce": 0.5,
            "alpha_task": 0.5,
            "alpha_mlm": 0.0,
            "alpha_cos": 0.0,
        }
        assert 0.0 <= r["measured"] <= 100.0
    # the published (D) checkpoint stays the preferred evidence (auto), and no distillation runs for it
    _, auto = run(pytester, world, claims, tmp_path / "cache-auto", "-k", "sst2")
    assert auto["glue.tiny_d.sst2"]["evidence"]["path"].startswith(f"published checkpoint {tiny.PUBLISHED_ID}")
    assert not (tmp_path / "cache-auto" / "finetuned").exists()


def test_the_ablation_runs_at_reduced_scale_and_its_order_claims_get_verdicts(pytester, world, tmp_path):
    claims = tiny.claims_header() + PRETRAIN_RECIPES + ablation_claims()
    cache = tmp_path / "cache"
    result, by_id = run(pytester, world, claims, cache)
    assert set(by_id) == {r[0] for r in ROWS} | {o[0] for o in ORDERS}
    lines = [
        "[SMOKE, REDUCED SCALE: tiny models, machinery evidence only] claim | delta (points) [95% interval] | verdict"
    ]
    for cid, recipe, _ in ROWS:
        r = by_id[cid]
        assert r["verdict"] in ROW_VERDICTS, (cid, r["verdict"], r["reason"])
        assert r["reduced_scale"] and "[REDUCED SCALE" in r["reason"] and r["smoke"] and "[SMOKE" in r["reason"]
        assert r["band"] == ["-inf", 0.0] and r["deviation"] is None  # a sign, never the paper's magnitude
        lo, hi = r["interval"]
        assert lo <= r["measured"] <= hi
        if hi < 0:  # the sign holds on the tokens, but one training seed cannot show it: capped
            assert r["verdict"] == "INCONCLUSIVE" and "each row is one training seed" in r["reason"], r["reason"]
        accuracy = r["details"]["accuracy"]
        assert r["measured"] == pytest.approx(100 * (accuracy[recipe] - accuracy["tiny_pretrain"]), abs=1e-9)
        lines.append(f"{cid} | {r['measured']:+.2f} [{lo:+.2f}, {hi:+.2f}] | {r['verdict']}")
    for cid, inequality in ORDERS:
        r = by_id[cid]
        assert r["verdict"] in ROW_VERDICTS, (cid, r["verdict"], r["reason"])
        assert r["reduced_scale"] and r["smoke"] and "[REDUCED SCALE" in r["reason"]
        (outcome,) = r["details"]["inequalities"]
        left, right = outcome["left"], outcome["right"]
        lines.append(
            f"{cid} | {inequality}: {left['point']:.2f} [{left['interval'][0]:.2f}, {left['interval'][1]:.2f}] vs "
            f"{right['point']:.2f} [{right['interval'][0]:.2f}, {right['interval'][1]:.2f}] ({outcome['status']})"
            f" | {r['verdict']}"
        )
    print("\n" + "\n".join(lines))
    assert "[SMOKE] [REDUCED SCALE]" in result.stdout.str()
    rows = [p for p in (cache / "pretrained").iterdir() if p.is_dir()]
    assert len(rows) == 5  # one cached student per recipe, shared by the claims that use it
    weights = {json.loads((p / MANIFEST).read_text())["files"]["model.safetensors"]["sha256"] for p in rows}
    assert len(weights) == 5  # five different students: a delta of exactly 0 is equal predictions, not one model
    # a second run trains nothing and gives the same numbers
    _, again = run(pytester, world, claims, cache)
    measured = {k: (v["measured"], v["verdict"]) for k, v in again.items()}
    assert measured == {k: (v["measured"], v["verdict"]) for k, v in by_id.items()}
    assert len([p for p in (cache / "pretrained").iterdir() if p.is_dir()]) == 5
