"""The method's recipes and cache keys without training: distillation recipes, pre-training rows, reduced scale.

A distilled student's cache key includes the teacher's digest and every loss weight (change one: a new key);
a pre-training row's key includes the teacher, the weights, the initialisation, the corpus and the budget.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness.core.errors import ClaimError, MeasurementError
from harness.ml import data
from harness.ml.evaluation import Runtime
from harness.ml.finetune_cache import TeacherCheckpoint, entry_name, student_cache_inputs
from harness.ml.pretrain_cache import pretrain_cache_inputs
from harness.ml.pretrain_recipe import pretrain_recipe
from harness.ml.recipes import recipe
from harness.spec import load

pytestmark = pytest.mark.fast

BASE = {"max_length": 32, "batch_size": 8, "learning_rate": 1e-3, "epochs": 1, "seeds": [1]}
DISTILL = {"base": "plain", "teacher": "bert", "temperature": 2.0, "alpha_ce": 0.5, "alpha_squad": 0.5}
ROW = {
    "kind": "distill_pretrain",
    "teacher": "bert",
    "student": "distilbert",
    "init": "teacher",
    "temperature": 2.0,
    "alpha_ce": 5.0,
    "alpha_mlm": 2.0,
    "alpha_cos": 1.0,
    "corpus": "c/train.txt",
    "held_out": "c/held_out.txt",
    "steps": 10,
    "batch_size": 4,
    "max_length": 16,
    "mlm_probability": 0.15,
    "learning_rate": 1e-3,
    "seed": 0,
    "eval_seed": 7,
}


class FakeData:
    task = data.task("squad_v1")
    digest = "data-digest"


def _key(tables: dict, teacher_digest: str) -> str:
    r = recipe(tables, "d", data.task("squad_v1"))
    teacher = TeacherCheckpoint(Path("/t"), teacher_digest, "test")
    return entry_name("x", student_cache_inputs("base", FakeData(), r, 1, Runtime("cpu"), teacher))


def test_a_distillation_recipe_declares_teacher_and_weights():
    r = recipe({"plain": BASE, "d": DISTILL}, "d", data.task("squad_v1"))
    assert (r.teacher, r.teacher_task, r.teacher_recipe) == ("bert", None, None)
    assert r.distillation == {
        "temperature": 2.0,
        "alpha_ce": 0.5,
        "alpha_task": 0.5,
        "alpha_mlm": 0.0,
        "alpha_cos": 0.0,
    }
    assert "distilled from bert (squad_v1) with temperature 2, alpha_ce 0.5, alpha_task 0.5" in r.describe()
    assert recipe({"plain": BASE}, "plain", data.task("squad_v1")).distillation is None


def test_distillation_fields_without_a_teacher_are_an_error():
    with pytest.raises(MeasurementError, match="field 'alpha_ce'.*without a teacher"):
        recipe({"r": {**BASE, "alpha_ce": 0.5}}, "r", data.task("squad_v1"))
    with pytest.raises(MeasurementError, match="field 'temperature'"):
        recipe({"plain": BASE, "d": {"base": "plain", "teacher": "bert", "alpha_ce": 0.5}}, "d", data.task("squad_v1"))


def test_the_student_key_changes_with_the_teacher_and_with_every_weight():
    tables = {"plain": BASE, "d": DISTILL}
    key = _key(tables, "teacher-a")
    assert _key(copy.deepcopy(tables), "teacher-a") == key
    assert _key(tables, "teacher-b") != key
    for field, value in (("temperature", 1.0), ("alpha_ce", 0.4), ("alpha_squad", 0.6)):
        assert _key({"plain": BASE, "d": {**DISTILL, field: value}}, "teacher-a") != key, field
    plain = recipe(tables, "plain", data.task("squad_v1"))
    undistilled = student_cache_inputs("base", FakeData(), plain, 1, Runtime("cpu"), None)
    assert "teacher" not in undistilled and "distillation" not in undistilled


def test_an_ablation_row_is_the_base_recipe_with_one_change():
    tables = {"full": ROW, "no_ce": {"kind": "distill_pretrain", "base": "full", "alpha_ce": 0.0}}
    full, row = pretrain_recipe(tables, "full"), pretrain_recipe(tables, "no_ce")
    assert full.weights == {"temperature": 2.0, "alpha_ce": 5.0, "alpha_mlm": 2.0, "alpha_cos": 1.0}
    assert row.weights == {**full.weights, "alpha_ce": 0.0}
    assert (row.steps, row.batch_size, row.max_length, row.token_budget) == (10, 4, 16, 640)
    random_row = pretrain_recipe(
        {"full": ROW, "r": {"kind": "distill_pretrain", "base": "full", "init": "random"}}, "r"
    )
    assert random_row.init == "random"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"steps": None}, "field 'steps': expected it to be declared"),
        ({"init": "copy"}, "field 'init': expected one of teacher, random"),
        ({"alpha_mlm": -1.0}, "field 'alpha_mlm': expected a weight >= 0"),
        ({"kind": None}, "field 'kind': expected 'distill_pretrain'"),
        ({"mlm_probability": 1.5}, "field 'mlm_probability': expected a number in \\(0, 1\\)"),
        ({"epochs": 3}, "unknown key 'epochs'"),
    ],
)
def test_a_bad_pretraining_recipe_names_its_field(change, message):
    table = {k: v for k, v in {**ROW, **change}.items() if v is not None}
    with pytest.raises(MeasurementError, match=message):
        pretrain_recipe({"r": table}, "r")


def test_the_pretraining_key_changes_with_teacher_weights_init_corpus_and_budget(tmp_path):
    config, corpus = tmp_path / "config.json", tmp_path / "corpus.txt"
    config.write_text("{}", encoding="utf-8")
    corpus.write_text("a b c\n", encoding="utf-8")

    def key(table: dict, teacher: str = "t") -> str:
        r = pretrain_recipe({"r": table}, "r")
        return entry_name("p", pretrain_cache_inputs(r, teacher, config, corpus, Runtime("cpu")))

    base = key(ROW)
    assert key(dict(ROW)) == base
    assert key(ROW, teacher="other") != base
    for field, value in (("alpha_ce", 0.0), ("alpha_mlm", 0.0), ("alpha_cos", 0.0), ("init", "random"), ("steps", 11)):
        assert key({**ROW, field: value}) != base, field
    assert key({**ROW, "eval_seed": 8}) == base  # the held-out masks do not change the trained student
    corpus.write_text("a b d\n", encoding="utf-8")
    assert key(ROW) != base


HEADER = """schema_version = 1
[source]
key = "t"
title = "t"
reference = "t"
version = "v1"
"""


#: the teacher and student tables that ROW names
MODELS = "".join(
    f'[models.{n}]\nhub_id = "toy-org/{n}"\nauto_class = "AutoModelForMaskedLM"\nconfig_source = "t"\n'
    f'[models.{n}.config]\nmodel_type = "bert"\n'
    for n in ("bert", "distilbert")
)


def _claim(cid: str, extra: str, tolerance: str = 'kind = "sign"', value: float = -1.0) -> str:
    return f"""
[[claims]]
id = "{cid}"
quote = "q {value}"
location = "l"
value = {value}
unit = "points"
precision = 0.01
{extra}
[claims.tolerance]
{tolerance}
rationale = "a direction"
[claims.measure]
kind = "not_measurable"
requires = "x"
remedy = "y"
"""


def _claims_file(tmp_path: Path, extra: str, tolerance: str = 'kind = "sign"') -> Path:
    path = tmp_path / "c.toml"
    path.write_text(HEADER + _claim("a.b", extra, tolerance), encoding="utf-8")
    return path


def _only_error(path: Path) -> str:
    invalid = load(path).invalid
    assert len(invalid) == 1 and isinstance(invalid[0].error, ClaimError), [str(i.error) for i in invalid]
    return str(invalid[0].error)


def test_a_reduced_scale_claim_needs_its_budget_and_a_budget_needs_reduced_scale(tmp_path):
    ok = load(_claims_file(tmp_path, 'scale = "reduced"\nbudget = "10 steps"'))
    assert (ok.claims[0].scale, ok.claims[0].budget) == ("reduced", "10 steps")
    assert load(_claims_file(tmp_path, "")).claims[0].scale == "paper"
    for extra, field in (
        ('scale = "reduced"', "budget"),
        ('budget = "10 steps"', "budget"),
        ('scale = "small"', "scale"),
    ):
        assert field in _only_error(_claims_file(tmp_path, extra)), extra


@pytest.mark.parametrize("tolerance", ['kind = "absolute"\nvalue = 1.0', 'kind = "upper_bound"\nvalue = 0'])
def test_a_reduced_scale_claim_is_about_a_sign_or_an_order_never_a_magnitude(tmp_path, tolerance):
    message = _only_error(_claims_file(tmp_path, 'scale = "reduced"\nbudget = "10 steps"', tolerance))
    assert "tolerance.kind" in message and 'kind = "sign" or "order"' in message


def test_an_ordering_over_reduced_scale_claims_is_itself_reduced_scale(tmp_path):
    reduced = 'scale = "reduced"\nbudget = "10 steps"'
    rows = _claim("r.a", reduced) + _claim("r.b", reduced, value=-2.0)

    def ordering(extra: str) -> str:
        return f"""
[[claims]]
id = "r.order"
quote = "q"
location = "l"
unit = "points"
inequalities = ["abs(r.b) > abs(r.a)"]
{extra}
[claims.tolerance]
kind = "order"
rationale = "strict"
"""

    path = tmp_path / "o.toml"
    path.write_text(HEADER + rows + ordering(""), encoding="utf-8")
    message = _only_error(path)
    assert "r.order" in message and "scale" in message and "r.b, r.a" in message
    path.write_text(HEADER + rows + ordering(reduced), encoding="utf-8")
    loaded = load(path)
    assert not loaded.invalid and loaded.claim("r.order").scale == "reduced"


def test_a_reduced_scale_delta_claim_must_be_reduced_scale(tmp_path):
    measure = """[claims.measure]
kind = "reduced_scale_delta"
recipe = "row"
reference = "full"
"""
    recipes = MODELS + "\n[recipes.full]\n" + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in ROW.items())
    recipes += '\n[recipes.row]\nkind = "distill_pretrain"\nbase = "full"\nalpha_ce = 0.0\n'
    claim = _claim("a.b", "").split("[claims.measure]")[0] + measure
    path = tmp_path / "d.toml"
    path.write_text(HEADER + recipes + claim, encoding="utf-8")
    assert 'scale = "reduced"' in _only_error(path)
    reduced = _claim("a.b", 'scale = "reduced"\nbudget = "10 steps"').split("[claims.measure]")[0] + measure
    path.write_text(HEADER + recipes + reduced, encoding="utf-8")
    assert not load(path).invalid
    unpaired = recipes.replace("alpha_ce = 0.0", 'alpha_ce = 0.0\nheld_out = "c/other.txt"')
    path.write_text(HEADER + unpaired + reduced, encoding="utf-8")
    assert "differ in held_out" in _only_error(path)
    path.write_text(HEADER + recipes.replace(MODELS, "") + reduced, encoding="utf-8")
    assert "field 'teacher': expected the name of a [models.<name>] table, found 'bert'" in _only_error(path)


def test_the_paper_file_encodes_the_ablation_signs_and_order_at_reduced_scale():
    claims = load(Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml")
    reduced = {c.id: c for c in claims.claims if c.scale == "reduced"}
    rows = {"no_l_ce": -2.96, "no_l_cos": -1.46, "no_l_mlm": -0.31, "random_init": -3.69}
    orders = ("l_mlm_matters_less_than_l_ce", "l_mlm_matters_less_than_l_cos")
    assert set(reduced) == {f"ablation.reduced.{r}" for r in (*rows, *orders)}
    for row, value in rows.items():
        c = reduced[f"ablation.reduced.{row}"]
        assert (c.tolerance.kind, c.value) == ("sign", value)  # the paper's row, for its sign only
        assert c.measure is not None and c.measure.kind == "reduced_scale_delta"
        assert c.measure.params["reference"] == "distill_pretrain"
        assert pretrain_recipe(claims.recipes, c.measure.params["recipe"]).weights  # every row resolves
    full = pretrain_recipe(claims.recipes, "distill_pretrain")
    assert full.weights == {"temperature": 2.0, "alpha_ce": 5.0, "alpha_mlm": 2.0, "alpha_cos": 1.0}
    assert pretrain_recipe(claims.recipes, "distill_pretrain_random_init").init == "random"
    sentence = (
        "removing the Masked Language Modeling loss has little impact while the two distillation losses account "
        "for a large portion of the performance"
    )
    reference = (Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "distilbert-paper.md").resolve()
    if reference.is_file():  # the reference file of this workspace: the quote is verbatim from it
        assert sentence in " ".join(reference.read_text(encoding="utf-8").split())
    for order, other in zip(orders, ("l_ce", "l_cos"), strict=True):
        c = reduced[f"ablation.reduced.{order}"]
        assert c.quote == sentence and c.tolerance.kind == "order"
        assert [i.text for i in c.inequalities] == [
            f"abs(ablation.reduced.no_{other}) > abs(ablation.reduced.no_l_mlm)"
        ]
    assert claims.claim("ablation.no_l_ce").measure.kind == "not_measurable"  # the paper's magnitude stays NOT_RUN


def test_the_pretraining_key_has_the_precision_and_a_regression_task_has_no_teacher(tmp_path):
    config, corpus = tmp_path / "config.json", tmp_path / "corpus.txt"
    config.write_text("{}", encoding="utf-8")
    corpus.write_text("a b c\n", encoding="utf-8")
    r = pretrain_recipe({"r": ROW}, "r")
    fp32 = pretrain_cache_inputs(r, "t", config, corpus, Runtime("cuda:0"))
    bf16 = pretrain_cache_inputs(r, "t", config, corpus, Runtime("cuda:0", "bfloat16"))
    assert (fp32["precision"], bf16["precision"], fp32["world_size"]) == ("float32", "bfloat16", 1)
    assert entry_name("p", fp32) != entry_name("p", bf16)

    from harness.measure.kinds.teacher import resolve_teacher
    from harness.measure.measurement import Context, Options

    path = tmp_path / "t.toml"
    path.write_text(
        HEADER
        + '[models.bert]\nhub_id = "org/bert"\nauto_class = "AutoModel"\nconfig_source = "t"\n'
        + '[models.bert.config]\nmodel_type = "bert"\n',
        encoding="utf-8",
    )
    stsb = data.task("glue/stsb")
    glue_distill = {k: v for k, v in DISTILL.items() if k != "alpha_squad"} | {"alpha_task": 0.5}
    distilled = recipe({"plain": BASE, "d": glue_distill}, "d", stsb)
    with pytest.raises(MeasurementError, match="regression task 'glue/stsb'.*no distribution to distil"):
        resolve_teacher(Context(load(path), Options()), distilled, stsb, Runtime("cpu"), smoke=True)


def test_a_reduced_scale_row_without_checkpoints_or_corpus_is_not_run_naming_what_to_supply(tmp_path):
    from harness.measure.engine import evaluate
    from harness.measure.measurement import Context, Options

    recipes = "\n[recipes.full]\n" + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in ROW.items())
    recipes += '\n[recipes.row]\nkind = "distill_pretrain"\nbase = "full"\nalpha_ce = 0.0\n'
    claim = _claim("a.b", 'scale = "reduced"\nbudget = "10 steps"').split("[claims.measure]")[0]
    claim += '[claims.measure]\nkind = "reduced_scale_delta"\nrecipe = "row"\nreference = "full"\nsmoke = true\n'
    path = tmp_path / "r.toml"
    path.write_text(HEADER + MODELS + recipes + claim, encoding="utf-8")
    loaded = load(path)
    assert not loaded.invalid, [str(i.error) for i in loaded.invalid]
    models_dir, data_dir = tmp_path / "models", tmp_path / "data"
    context = Context(loaded, Options(models_dir=models_dir, data_dir=data_dir, cache_dir=tmp_path / "cache"))
    r = evaluate(loaded.claims[0], context, "r.toml::a.b", "pytest")
    assert r.verdict == "NOT_RUN" and "teacher checkpoint toy-org/bert" in r.reason, r.reason
    assert "--claims-models-dir DIR" in r.remedy and "DIR/toy-org/bert/" in r.remedy and r.reduced_scale
    assert list(r.needs) == ["other teacher checkpoint toy-org/bert"]  # not itemised under `harness fetch`
    for n in ("bert", "distilbert"):
        (models_dir / "toy-org" / n).mkdir(parents=True)
        (models_dir / "toy-org" / n / "config.json").write_text("{}", encoding="utf-8")
    r = evaluate(loaded.claims[0], Context(loaded, context.options), "r.toml::a.b", "pytest")
    assert r.verdict == "NOT_RUN" and "corpus text of recipe row (c/train.txt)" in r.reason, r.reason
    assert "DIR/c/train.txt" in r.remedy and list(r.needs) == ["other corpus text c/train.txt"]
