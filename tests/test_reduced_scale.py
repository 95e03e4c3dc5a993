"""Reduced-scale claims (``scale = "reduced"``) through main's sign and ordering machinery, and their labels.

Planted measurements (exact values: evidence about the machinery only) go through the harness's own engine: a
sign claim is decided by the band cut strictly at zero (``harness.verdict.bands``), an order claim over the
deltas by ``harness.verdict.ordering``; neither compares the paper's magnitude (no deviation, no point
comparison), and every result says [REDUCED SCALE] with its budget in the terminal, results.json and report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from claimsfile import FIXED_KIND, claim, claims_toml, fixed, write

from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Measurement, Options
from harness.report.terminal import verdict_tags
from harness.spec import Claim, ClaimsFile, load
from harness.verdict import ClaimResult

pytestmark = pytest.mark.fast
BUDGET = "60 steps x 16 sequences <= 32 tokens; one seed"
REDUCED = {"scale": "reduced", "budget": BUDGET}
SIGN = {"kind": "sign", "rationale": "a direction"}


def row(cid: str, value: float, **fields: Any) -> dict[str, Any]:
    return claim(cid, value=value, unit="points", precision=0.01, tolerance=SIGN, **REDUCED, **fields)


def order(cid: str, *inequalities: str) -> dict[str, Any]:
    return {
        "id": cid,
        "quote": "removing the MLM loss has little impact",
        "location": "Section 4.2",
        "unit": "points",
        "inequalities": list(inequalities),
        "tolerance": {"kind": "order", "rationale": "strict"},
        **REDUCED,
    }


RECORDS = [
    row("ablation.reduced.no_l_ce", -2.96),
    row("ablation.reduced.no_l_mlm", -0.31),
    order("ablation.reduced.order", "abs(ablation.reduced.no_l_ce) > abs(ablation.reduced.no_l_mlm)"),
]


class Planted(Context):
    def __init__(self, claims_file: ClaimsFile, planted: dict[str, Measurement]) -> None:
        super().__init__(claims_file, Options())
        self.planted = planted

    def _measure(self, claim: Claim) -> Measurement:
        return self.planted[claim.id]


def run(tmp_path: Path, planted: dict[str, tuple[float, float, float]]) -> dict[str, ClaimResult]:
    path = tmp_path / "reduced.toml"
    path.write_text(claims_toml(*RECORDS), encoding="utf-8")
    loaded = load(path)
    assert loaded.invalid == (), [str(r.error) for r in loaded.invalid]
    measurements = {k: Measurement(v, "points", interval=(lo, hi)) for k, (v, lo, hi) in planted.items()}
    context = Planted(loaded, measurements)
    return {c.id: evaluate(c, context, f"reduced.toml::{c.id}", "pytest") for c in loaded.claims}


@pytest.mark.parametrize(
    ("ce", "mlm", "ce_verdict", "order_verdict"),
    [
        ((-0.8, -1.0, -0.6), (-0.1, -0.2, 0.0), "REPRODUCED", "REPRODUCED"),  # far smaller than -2.96: a sign only
        ((-0.8, -1.0, 0.0), (-0.1, -0.2, 0.0), "INCONCLUSIVE", "INCONCLUSIVE"),  # reaches zero; intervals overlap
        ((0.0, 0.0, 0.0), (-0.1, -0.2, 0.0), "NOT_REPRODUCED", "INCONCLUSIVE"),  # zero is not negative
        ((0.5, 0.3, 0.7), (-2.0, -2.2, -1.8), "NOT_REPRODUCED", "NOT_REPRODUCED"),  # wrong sign, wrong order
    ],
)
def test_a_reduced_scale_row_is_judged_on_its_sign_and_the_order_on_intervals(
    tmp_path: Path, ce: tuple[float, ...], mlm: tuple[float, ...], ce_verdict: str, order_verdict: str
) -> None:
    results = run(tmp_path, {"ablation.reduced.no_l_ce": ce, "ablation.reduced.no_l_mlm": mlm})  # type: ignore[dict-item]
    sign, ordering = results["ablation.reduced.no_l_ce"], results["ablation.reduced.order"]
    assert (sign.verdict, ordering.verdict) == (ce_verdict, order_verdict), (sign.reason, ordering.reason)
    assert sign.band == (float("-inf"), 0.0)  # the band of the sign, whatever the paper's magnitude
    assert sign.deviation is None and sign.deviation_widths is None and sign.point_comparison is None
    for r in (sign, ordering):
        assert r.reduced_scale and f"[REDUCED SCALE: {BUDGET};" in r.reason
        assert "not about the paper's magnitude" in r.reason
        assert r.provenance["scale"] == "reduced" and r.provenance["budget"] == BUDGET


def test_a_paper_scale_claim_keeps_its_point_comparison_and_no_reduced_label(tmp_path: Path) -> None:
    path = tmp_path / "paper.toml"
    path.write_text(claims_toml(claim("a.row", value=-2.96, unit="points", precision=0.01, tolerance=SIGN)))
    loaded = load(path)
    (c,) = loaded.claims
    r = evaluate(c, Planted(loaded, {"a.row": Measurement(-0.8, "points", interval=(-1.0, -0.6))}), "p::a", "pytest")
    assert r.verdict == "REPRODUCED" and not r.reduced_scale and "REDUCED SCALE" not in r.reason
    assert r.point_comparison is not None and "-2.96 is outside" in r.point_comparison["text"]
    assert verdict_tags(r) == ""
    assert verdict_tags(attrs.evolve(r, reduced_scale=True, smoke=True)) == " [SMOKE] [REDUCED SCALE]"


def test_a_session_labels_reduced_scale_in_terminal_results_and_report(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FIXED_KIND)
    write(
        pytester,
        row("ablation.reduced.no_l_ce", -2.96, measure=fixed(-0.8, low=-1.0, high=-0.6)),
        row("ablation.reduced.no_l_mlm", -0.31, measure=fixed(-0.1, low=-0.2, high=0.0)),
        RECORDS[-1],
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--claims-out=out", "-rA")
    text = result.stdout.str()
    assert "REPRODUCED      ablation.reduced.no_l_ce: claimed -2.96 points" in text
    assert "[SMOKE] [REDUCED SCALE]" in text  # the fixed kind's evidence is smoke: both labels
    assert "INCONCLUSIVE    ablation.reduced.no_l_mlm" in text  # its interval reaches zero
    latest = pytester.path / "out" / "latest"
    by_id = {r["id"]: r for r in json.loads((latest / "results.json").read_text())["results"]}
    assert {k: (v["verdict"], v["reduced_scale"], v["smoke"]) for k, v in by_id.items()} == {
        "ablation.reduced.no_l_ce": ("REPRODUCED", True, True),
        "ablation.reduced.no_l_mlm": ("INCONCLUSIVE", True, True),
        "ablation.reduced.order": ("REPRODUCED", True, True),
    }
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert html.count(">REDUCED SCALE</span>") >= 3 and "<b>REDUCED SCALE:</b>" in html


@pytest.mark.parametrize(
    ("limit", "reason"),
    [
        ({"at_best_inconclusive": "one training seed"}, "its parts can be at best INCONCLUSIVE"),
        ({"inconclusive": "the machine's load changed"}, "the machine's load changed"),
    ],
)
def test_an_ordering_is_no_surer_than_its_parts(tmp_path: Path, limit: dict[str, str], reason: str) -> None:
    """The same planted values as the first REPRODUCED case, but the parts' evidence is limited: an order over
    one-seed rows (or drifted ones) cannot be REPRODUCED either."""
    path = tmp_path / "reduced.toml"
    path.write_text(claims_toml(*RECORDS), encoding="utf-8")
    loaded = load(path)
    planted = {
        "ablation.reduced.no_l_ce": Measurement(-0.8, "points", interval=(-1.0, -0.6), **limit),
        "ablation.reduced.no_l_mlm": Measurement(-0.1, "points", interval=(-0.2, 0.0), **limit),
    }
    result = evaluate(loaded.claim("ablation.reduced.order"), Planted(loaded, planted), "r::o", "pytest")
    assert result.verdict == "INCONCLUSIVE" and reason in result.reason, result.reason
