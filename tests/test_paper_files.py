"""The shipped claims files: every one loads and passes the load-time checks, every built-in kind is
used by some claim in claims/ or the tests, and the second paper (TinyBERT) gets a verdict for every claim
that does not need timing: a real verdict, or NOT_RUN saying what is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Options
from harness.spec import load
from harness.spec.kinds import BUILTIN_KIND_MODULES, KINDS

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "claims").glob("*.toml")) + sorted((ROOT / "tests" / "data").glob("*.toml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_claims_file_passes_every_check(path: Path) -> None:
    claims_file = load(path)
    assert [str(r.error) for r in claims_file.invalid] == []
    assert claims_file.claims


def _builtin_kinds() -> set[str]:
    return {name for name in KINDS if KINDS.origin(name).startswith(tuple(m + "." for m in BUILTIN_KIND_MODULES))}


def test_every_builtin_kind_is_used_by_some_claim_in_claims_or_the_tests() -> None:
    used = {c.measure.kind for path in FILES for c in load(path).claims if c.measure is not None}
    pattern = re.compile(r"""["']kind["']\s*:\s*["'](\w+)["']|^kind\s*=\s*"(\w+)"$""", re.MULTILINE)
    for test_file in (ROOT / "tests").glob("*.py"):
        for match in pattern.finditer(test_file.read_text(encoding="utf-8")):
            used.add(match.group(1) or match.group(2))
    builtin = _builtin_kinds()
    assert {"flops", "parameter_ratio", "speedup", "parameter_count", "latency", "task_score"} <= builtin
    assert builtin - used == set()


def test_the_second_paper_gets_a_verdict_for_every_claim_it_can_measure_without_timing() -> None:
    claims_file = load(ROOT / "claims" / "tinybert.toml")
    context = Context(claims_file, Options())
    results = {
        c.id: evaluate(c, context, c.id, c.id)
        for c in claims_file.claims
        if c.measure is None or c.measure.kind not in ("speedup", "latency")
    }
    assert set(results) == {
        "size.tinybert4_smaller",
        "size.tinybert4_fraction_of_4layer_baselines",
        "glue.tinybert4_retention",
    }
    for result in results.values():
        assert result.verdict in ("REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE", "NOT_COMPARABLE", "NOT_RUN")
        if result.verdict == "NOT_RUN":
            assert result.remedy
        else:
            assert result.measured is not None
    # 109,482,240 / 14,350,248 (pooler included on both sides), never released 4-layer baseline counted too
    smaller = results["size.tinybert4_smaller"]
    assert smaller.measured == pytest.approx(109_482_240 / 14_350_248)
    assert smaller.details["parameters"] == {"tinybert4": 14_350_248, "bert_base": 109_482_240}
    fraction = results["size.tinybert4_fraction_of_4layer_baselines"]
    assert fraction.details["parameters"]["bert4_baseline"] == 109_482_240 - 8 * 7_087_872
