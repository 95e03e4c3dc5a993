"""Loading and validating claims files, and the paper's own claims file."""

from __future__ import annotations

from pathlib import Path

import pytest
from claimsfile import claim, claims_toml

from harness.spec import load
from harness.verdict import check_consistency

pytestmark = pytest.mark.fast

PAPER = Path(__file__).resolve().parents[1] / "claims" / "distilbert.toml"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "paper.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def test_a_valid_file_loads_every_record(tmp_path: Path) -> None:
    f = _load(tmp_path, claims_toml(claim("a.one"), claim("a.two", formula="a.one * 2", value=2.0)))
    assert [c.id for c in f.claims] == ["a.one", "a.two"]
    assert f.invalid == ()
    assert f.claims[0].version == "v1"  # defaults to [source].version
    assert f.claims[1].formula is not None and f.claims[1].formula.names == ("a.one",)


def test_an_error_names_file_claim_field_expected_found_and_fix(tmp_path: Path) -> None:
    f = _load(tmp_path, claims_toml(claim("a.one", unit="parsecs"), claim("a.two")))
    assert [c.id for c in f.claims] == ["a.two"]
    (bad,) = f.invalid
    message = str(bad.error)
    assert "paper.toml" in message and "'a.one'" in message and "'unit'" in message
    assert "expected one of" in message and "found a string 'parsecs'" in message and "Fix:" in message


def test_a_misspelt_field_suggests_the_right_name(tmp_path: Path) -> None:
    record = claim("a.one")
    record["tolerance"] = {"kind": "relativ", "value": 0.1, "rationale": "r"}
    (bad,) = _load(tmp_path, claims_toml(record)).invalid
    assert "Did you mean 'relative'?" in str(bad.error)


def test_a_value_left_out_is_derived_from_the_stated_components(tmp_path: Path) -> None:
    f = _load(
        tmp_path,
        claims_toml(claim("a.one", value=110.0), claim("a.size", value=None, formula="a.one * 4", precision=1)),
    )
    assert f.claim("a.size").value == pytest.approx(440.0)
    assert f.claim("a.size").value_is_derived


def test_paper_file_has_every_claim_and_no_invalid_record() -> None:
    f = load(PAPER)
    assert [str(r.error) for r in f.invalid] == []
    assert len(f.claims) >= 40
    ids = {c.id for c in f.claims}
    for required in (
        "params.bert_base",
        "params.distilbert",
        "params.reduction",
        "size.bert_base.fp32",
        "speed.speedup",
        "glue.retention",
        "glue.bert_base.macro",
        "imdb.distilbert",
        "squad.distilbert_d.f1",
        "ablation.no_l_ce",
        "ondevice.speedup",
    ):
        assert required in ids
    for c in f.claims:
        assert c.quote and c.location and c.version == "v4" and c.tolerance.rationale


def test_paper_file_derived_claims_are_formulas() -> None:
    f = load(PAPER)
    for cid in (
        "params.reduction",
        "speed.speedup",
        "glue.retention",
        "glue.bert_base.macro",
        "glue.distilbert.macro",
        "imdb.gap",
        "squad.distilbert.em_gap",
    ):
        assert f.claim(cid).formula is not None, cid


def test_paper_contradictions_come_out_inconsistent_and_nothing_else() -> None:
    f = load(PAPER)
    by_id = {c.id: c for c in f.claims}
    inconsistent = {}
    for c in f.claims:
        result = check_consistency(c, by_id)
        if result is not None and not result.consistent:
            inconsistent[c.id] = result.recomputed
    assert set(inconsistent) == {
        "glue.bert_base.macro",
        "glue.distilbert.stsb_gain_over_elmo",
        "squad.distilbert_d.f1_text",
        "squad.distilbert_d.em_text",
    }
    assert inconsistent["glue.bert_base.macro"] == pytest.approx(79.7222, abs=1e-4)
    # "within 3.9 points" is a bound: the table's 3.5 satisfies it (one-sided consistency is a bound check)
    em_gap = check_consistency(by_id["squad.distilbert.em_gap"], by_id)
    assert em_gap is not None and em_gap.consistent and em_gap.recomputed == pytest.approx(3.5)
    assert inconsistent["glue.distilbert.stsb_gain_over_elmo"] == pytest.approx(16.5)
    retention = check_consistency(by_id["glue.retention"], by_id)
    assert retention is not None and retention.consistent and retention.recomputed == pytest.approx(96.855, abs=1e-3)
