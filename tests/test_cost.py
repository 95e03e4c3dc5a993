"""The cost plan (issue 12 item 6): exact numbers of the estimate, its tiers, and its lines in a session."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny  # first: it imports what the in-process pytester run must not import twice

from harness.measure.cost import (
    EFFECTIVE_FLOPS,
    claim_cost,
    evaluation_seconds,
    finetune_seconds,
    forward_flops_per_token,
    summary,
    tier,
)
from harness.spec import load

pytestmark = pytest.mark.fast

PAPER = Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml"
BERT_BASE = {"num_hidden_layers": 12, "hidden_size": 768, "intermediate_size": 3072}
BERT_FLOPS = 2 * 12 * (4 * 768 * 768 + 2 * 768 * 3072)  # 169,869,312


@pytest.fixture(scope="module")
def paper():
    return load(PAPER)


def test_forward_flops_per_token_of_bert_base_and_distilbert():
    assert forward_flops_per_token(BERT_BASE) == 169_869_312.0 == BERT_FLOPS
    assert forward_flops_per_token({"n_layers": 6, "dim": 768, "hidden_dim": 3072}) == 84_934_656.0
    assert forward_flops_per_token({"n_layers": 2, "dim": 32}) == 2 * 2 * (4 * 32 * 32 + 2 * 32 * 128)  # FFN 4H
    assert forward_flops_per_token({"model_type": "lstm"}) is None


def test_evaluation_and_fine_tuning_seconds_are_tokens_times_flops_over_the_device_rate():
    # on the CPU table BERT-base runs 140 tokens/s: 1000 examples x 50 tokens = 50,000 tokens = 357.14 s
    assert evaluation_seconds(1000, 50, BERT_FLOPS, "cpu") == pytest.approx(50_000 / 140)
    # a training step is 3 forward passes: x 3 epochs x 5 seeds
    assert finetune_seconds(1000, 50, BERT_FLOPS, 3, 5, "cpu") == pytest.approx(3 * 50_000 * 15 / 140)
    assert evaluation_seconds(10**6, 100, BERT_FLOPS, "cuda:1") == pytest.approx(10**8 * BERT_FLOPS / (0.3 * 312e12))
    assert EFFECTIVE_FLOPS["cpu"] == pytest.approx(140 * 169_869_312)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "laptop minutes"),
        (3599, "laptop minutes"),
        (3600, "laptop hours"),
        (86399, "laptop hours"),
        (86400, "one GPU"),
    ],
)
def test_tiers(seconds, expected):
    assert tier(seconds) == expected


def test_a_published_claim_costs_its_evaluation(paper):
    cost = claim_cost(paper.claim("glue.bert_base.qqp"), paper, "auto", "cpu")
    assert cost is not None
    assert cost.seconds == pytest.approx(40430 * 34 / 140)  # 9,818 s: QQP dev as issue 12 timed it (2.7 h)
    assert cost.tier == "laptop hours"
    assert cost.line == (
        "cost ~2.7 h (laptop hours): evaluate textattack/bert-base-uncased-QQP on 40430 examples x ~34 tokens"
    )
    distil = claim_cost(paper.claim("glue.distilbert.qqp"), paper, "auto", "cpu")
    assert distil is not None and distil.seconds == pytest.approx(cost.seconds / 2)


def test_fine_tuning_costs_every_seed_and_the_recipes_epochs(paper):
    sst2 = claim_cost(paper.claim("glue.bert_base.sst2"), paper, "finetune", "cpu")
    assert sst2 is not None  # glue_run_glue: 3 epochs, 5 seeds, max length 128 (SST-2's ~27 tokens fit)
    assert sst2.seconds == pytest.approx((3 * 67349 * 27 * 3 * 5 + 5 * 872 * 27) / 140)
    assert sst2.tier == "one GPU"
    squad = claim_cost(paper.claim("squad.bert_base.em"), paper, "auto", "cuda")
    assert squad is not None  # no published checkpoint: squad_run_squad, 2 epochs, 1 seed
    tokens = 3 * 87599 * 167 * 2 + 10570 * 167
    assert squad.seconds == pytest.approx(tokens * BERT_FLOPS / (0.3 * 312e12))
    assert squad.tier == "laptop minutes"  # on one GPU: about 12 minutes


def test_claims_without_a_cost_and_the_summary_counts_shared_runs_once(paper):
    assert claim_cost(paper.claim("params.bert_base"), paper, "auto", "cpu") is None
    assert claim_cost(paper.claim("glue.retention"), paper, "auto", "cpu") is None
    em, f1 = (claim_cost(paper.claim(f"squad.distilbert_d.{m}"), paper, "auto", "cpu") for m in ("em", "f1"))
    assert em is not None and f1 is not None and em.key == f1.key
    line = summary([em, f1], "cpu")
    assert "~1.8 h for 2 task claims (1 distinct runs): 2 laptop hours" in line
    assert "140 tokens/s, measured in issue 12" in line and line.endswith(
        "(each claim's estimate: -v or --collect-only)"
    )


def test_the_session_prints_the_cost_plan_and_each_claim_under_collect_only(pytester):
    pytester.makeini("[pytest]\n")
    (pytester.path / "claims").mkdir()
    claims = tiny.claims_header() + tiny.claim("glue.tiny_bert.sst2", "tiny_bert", "glue/sst2", "accuracy")
    (pytester.path / "claims" / "tiny.toml").write_text(claims, encoding="utf-8")
    result = pytester.runpytest("--collect-only", "-p", "no:cacheprovider")
    text = result.stdout.str()
    # tiny_bert: 2 layers, width 32, FFN 64; the tiny recipe: 4 epochs, 2 seeds; SST-2 ~27 tokens
    assert "claims cost (estimate on cpu, default table: BERT-base 140 tokens/s" in text
    # (3 x 67349 x 27 x 4 x 2 + 2 x 872 x 27) tokens x 32768 FLOPs / (140 x 169869312 FLOP/s) = 60.2 s: the real
    # SST-2 split's size (the estimate is made before any data is read)
    seconds = (3 * 67349 * 27 * 4 * 2 + 2 * 872 * 27) * 32768 / (140 * BERT_FLOPS)
    assert seconds == pytest.approx(60.2, abs=0.05)
    assert "~60 s for 1 task claims (1 distinct runs): 1 laptop minutes" in text
    assert "glue.tiny_bert.sst2: cost ~60 s (laptop minutes): fine-tune tiny/bert (67349 examples x ~27 tokens x " in (
        text
    )
