"""Planted deviations: measurements known to be wrong end NOT_REPRODUCED, values inside the band REPRODUCED.

Three levels: the verdict engine over a table of planted values for every tolerance kind (and a Hypothesis
property); the whole engine (``harness.measure.engine.evaluate``) on loaded claims with planted measurements in
other units and through formulas; and end to end, a pytest session over a claims file whose parameter
counts are stated off by more (or less) than their tolerance.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from claimsfile import TINY_PARAMETERS, claim, claims_toml
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.core.stats import bootstrap_indices, mean_replicates, percentile_interval, rng
from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Measurement, Options
from harness.spec import Claim, ClaimsFile, load
from harness.verdict import Band, Verdict, band, check_consistency, decide

pytestmark = pytest.mark.fast

OUT, IN = 1.01, 0.99  # planted at 1.01x the tolerance beyond an edge, or 0.99x of it inside


class PlantedContext(Context):
    """A context whose measurements of the named claims are planted; formula claims are measured by the
    harness's own machinery (``Context._measure_formula``) over the planted components."""

    def __init__(self, claims_file: ClaimsFile, planted: dict[str, Measurement]) -> None:
        super().__init__(claims_file, Options())
        self.planted = planted

    def _measure(self, claim: Claim) -> Measurement:
        if claim.id in self.planted:
            return self.planted[claim.id]
        return super()._measure(claim)


# ---------------------------------------------------------------- verdict level: a table for every kind

#: (kind, claimed value, tolerance width, precision): the bands the paper's claims use, and awkward ones
TOLERANCES = [
    ("absolute", 79.5, 1.0, 0.1),
    ("absolute", 0.0, 0.5, 0.1),
    ("absolute", -2.96, 0.25, 0.01),
    ("relative", 110.0, 0.01, 1.0),
    ("relative", 66_362_880.0, 0.001, 1.0),
    ("relative", -2.96, 0.1, 0.01),
    ("relative", 0.001, 0.05, 0.0001),
    ("precision", 79.5, 0.0, 0.1),
    ("precision", 97.0, 0.0, 1.0),
    ("precision", 440.0, 0.0, 1.0),
    ("lower_bound", 1.6, 0.05, 0.1),
    ("lower_bound", 60.0, 2.0, 1.0),
    ("upper_bound", 410.0, 5.0, 1.0),
    ("upper_bound", 3.9, 0.1, 0.1),
]
ONE_SIDED_WITHOUT_MARGIN = [("lower_bound", 1.6, 0.0, 0.1), ("upper_bound", 3.9, 0.0, 0.1)]


def _reach(kind: str, value: float, width: float, precision: float) -> float:
    """How far the band reaches from the claimed value (the tolerance, in the claim's unit)."""
    return {"absolute": width, "relative": abs(value) * width, "precision": precision / 2.0}.get(kind, width)


PlantedCase = tuple[str, Band, float, "tuple[float, float] | None", Verdict]


def planted_table() -> list[PlantedCase]:
    """(label, band, measured, interval, the verdict it must get) for every tolerance kind and edge."""
    cases: list[PlantedCase] = []
    for kind, value, width, precision in TOLERANCES + ONE_SIDED_WITHOUT_MARGIN:
        b = band(value, kind, width, precision)
        reach = _reach(kind, value, width, precision)
        # an edge with no margin: "1.01x the tolerance" is the edge itself, so plant one reported digit out
        out_by = reach * (OUT - 1.0) if reach > 0 else precision
        for side, edge in ((-1, b.lo), (+1, b.hi)):
            label = f"{kind} {value:g}±{width:g} ({'low' if side < 0 else 'high'} edge)"
            if math.isinf(edge):
                # the open side of a bound: however far in, it reproduces
                far = value + side * 1000.0 * max(reach, precision)
                cases.append((label + " far inside", b, far, None, Verdict.REPRODUCED))
                cases.append(
                    (label + " far inside, interval", b, far, (far - precision, far + precision), Verdict.REPRODUCED)
                )
                continue
            outside = edge + side * out_by
            cases.append((label + " just outside", b, outside, None, Verdict.NOT_REPRODUCED))
            spread = sorted((outside, outside + side * max(reach, precision)))
            cases.append(
                (label + " just outside, interval", b, outside, (spread[0], spread[1]), Verdict.NOT_REPRODUCED)
            )
            if reach > 0:
                inside = value + side * IN * reach
                cases.append((label + " just inside", b, inside, None, Verdict.REPRODUCED))
                within = sorted((value + side * 0.49 * reach, inside))
                cases.append((label + " just inside, interval", b, inside, (within[0], within[1]), Verdict.REPRODUCED))
            else:
                cases.append((label + " on the edge", b, edge, None, Verdict.REPRODUCED))
    return cases


PLANTED = planted_table()


def test_every_planted_value_gets_its_verdict() -> None:
    wrong = []
    for label, b, measured, interval, expected in PLANTED:
        got = decide(b, measured, interval).verdict
        if got is not expected:
            wrong.append(f"{label}: measured {measured!r} {interval} in [{b.lo}, {b.hi}] -> {got.value}")
    kinds = {label.split()[0] for label, *_ in PLANTED}
    assert kinds == {"absolute", "relative", "precision", "lower_bound", "upper_bound"}
    out = sum(1 for *_, v in PLANTED if v is Verdict.NOT_REPRODUCED)
    print(
        f"verdict-level planted cases: {len(PLANTED)} ({out} outside, {len(PLANTED) - out} inside); "
        f"wrong verdicts: {len(wrong)}"
    )
    assert wrong == []


# ---------------------------------------------------------------- verdict level: Hypothesis


@st.composite
def bands(draw: st.DrawFn) -> tuple[Band, float]:
    """A band of any tolerance kind, and the scale of its numbers."""
    kind = draw(st.sampled_from(["absolute", "relative", "precision", "lower_bound", "upper_bound"]))
    value = draw(st.floats(-1e9, 1e9, allow_nan=False))
    precision = draw(st.floats(1e-6, 1e3))
    width = draw(st.floats(1e-6, 0.99)) if kind == "relative" else draw(st.floats(0.0, 1e6))
    b = band(value, kind, width, precision)
    scale = max(1.0, *(abs(x) for x in (b.lo, b.hi) if math.isfinite(x)))
    return b, scale


@given(
    drawn=bands(),
    side=st.sampled_from([-1, 1]),
    gap=st.floats(1e-6, 1e3),
    span=st.floats(0.0, 1e3),
    at=st.floats(0.0, 1.0),
    point=st.booleans(),
)
def test_a_value_wholly_outside_the_band_is_never_reproduced(
    drawn: tuple[Band, float], side: int, gap: float, span: float, at: float, point: bool
) -> None:
    b, scale = drawn
    edge = b.lo if side < 0 else b.hi
    assume(math.isfinite(edge))
    near = edge + side * gap * scale  # beyond the edge by more than float noise (1e-9 of the scale)
    far = near + side * span * scale
    lo, hi = sorted((near, far))
    measured = lo + at * (hi - lo)
    verdict = decide(b, measured, None if point else (lo, hi)).verdict
    assert verdict is Verdict.NOT_REPRODUCED


@given(drawn=bands(), a=st.floats(0.0, 1.0), c=st.floats(0.0, 1.0), at=st.floats(0.0, 1.0), point=st.booleans())
def test_a_value_wholly_inside_the_band_is_never_not_reproduced(
    drawn: tuple[Band, float], a: float, c: float, at: float, point: bool
) -> None:
    b, scale = drawn
    lo_edge = b.lo if math.isfinite(b.lo) else b.hi - 1e3 * scale
    hi_edge = b.hi if math.isfinite(b.hi) else b.lo + 1e3 * scale
    lo, hi = sorted((lo_edge + a * (hi_edge - lo_edge), lo_edge + c * (hi_edge - lo_edge)))
    measured = lo + at * (hi - lo)
    verdict = decide(b, measured, None if point else (lo, hi)).verdict
    assert verdict is Verdict.REPRODUCED


# ---------------------------------------------------------------- the whole engine on loaded claims

TOL = {"rationale": "planted"}


def _paired_replicates(means: tuple[float, ...], seed: int = 0) -> list[np.ndarray]:
    """Bootstrap replicates of mean latencies of models timed on the same 200 inputs, resampled with shared
    indices (as a paired timing run is): each model's sample mean is exactly the given mean."""
    gen = rng(seed)
    per_input = gen.normal(0.0, 0.1, 200)  # input length: shared by every model
    indices = bootstrap_indices(200, gen)
    out = []
    for mean in means:
        samples = mean * (1.0 + per_input + gen.normal(0.0, 0.02, 200))
        out.append(mean_replicates(samples - samples.mean() + mean, indices))
    return out


def _measured(
    value: float, unit: str, replicates: np.ndarray | None = None, interval: tuple[float, float] | None = None
) -> Measurement:
    if replicates is not None:
        interval = percentile_interval(replicates)
    return Measurement(
        value, unit, interval=interval, replicates=replicates, evidence={"path": "planted by the test", "smoke": True}
    )


#: claim records, the measurements planted for them (in the measuring unit), the verdict each must get
ENGINE_CLAIMS = [
    claim("params.small", value=66, unit="million parameters", precision=1, tolerance={"kind": "precision", **TOL}),
    claim(
        "params.large",
        value=110,
        unit="million parameters",
        precision=1,
        tolerance={"kind": "relative", "value": 0.01, **TOL},
    ),
    claim("params.small_out", value=66, unit="million parameters", precision=1, tolerance={"kind": "precision", **TOL}),
    claim("size.mb", value=207, unit="MB", precision=1, tolerance={"kind": "relative", "value": 0.01, **TOL}),
    claim("size.mb_out", value=207, unit="MB", precision=1, tolerance={"kind": "relative", "value": 0.01, **TOL}),
    claim("size.mib", value=207, unit="MB", precision=1, tolerance={"kind": "relative", "value": 0.01, **TOL}),
    claim("time.ms", value=410, unit="milliseconds", precision=1, tolerance={"kind": "upper_bound", "value": 5, **TOL}),
    claim(
        "time.ms_out", value=410, unit="milliseconds", precision=1, tolerance={"kind": "upper_bound", "value": 5, **TOL}
    ),
    claim("score.points", value=91.3, unit="points", precision=0.1, tolerance={"kind": "absolute", "value": 1, **TOL}),
    claim(
        "score.points_out", value=91.3, unit="points", precision=0.1, tolerance={"kind": "absolute", "value": 1, **TOL}
    ),
    claim("score.nan", value=91.3, unit="points", precision=0.1, tolerance={"kind": "absolute", "value": 1, **TOL}),
    claim(
        "speed.large", value=0.668, unit="seconds", precision=0.001, tolerance={"kind": "relative", "value": 0.5, **TOL}
    ),
    claim(
        "speed.small", value=0.410, unit="seconds", precision=0.001, tolerance={"kind": "relative", "value": 0.5, **TOL}
    ),
    claim(
        "speed.slowed_small",
        value=0.410,
        unit="seconds",
        precision=0.001,
        tolerance={"kind": "relative", "value": 0.5, **TOL},
    ),
    # measured through formulas over the planted components, replicate by replicate
    claim(
        "speed.speedup",
        value=1.6,
        unit="ratio",
        precision=0.1,
        formula="speed.large / speed.small",
        tolerance={"kind": "lower_bound", "value": 0.05, **TOL},
        measure=None,
    ),
    claim(
        "speed.speedup_out",
        value=1.6,
        unit="ratio",
        precision=0.1,
        formula="speed.large / speed.slowed_small",
        tolerance={"kind": "lower_bound", "value": 0.05, **TOL},
        measure=None,
    ),
    claim(
        "params.reduction",
        value=40,
        unit="percent",
        precision=1,
        formula="1 - params.small / params.large",
        tolerance={"kind": "absolute", "value": 1, **TOL},
        measure=None,
    ),
    claim(
        "params.reduction_out",
        value=40,
        unit="percent",
        precision=1,
        formula="1 - params.small_out / params.large",
        tolerance={"kind": "absolute", "value": 1, **TOL},
        measure=None,
    ),
]
# the small model 1.7x faster (well above 1.6 - 0.05), and the same model slowed down to 1.4x
SPEED_LARGE, SPEED_SMALL, SPEED_SLOWED = _paired_replicates((0.668, 0.668 / 1.7, 0.668 / 1.4))
LARGE_PARAMETERS = 109_482_240
PLANTED_MEASUREMENTS = {
    "params.small": (_measured(66_362_880, "parameters"), Verdict.REPRODUCED),
    "params.large": (_measured(LARGE_PARAMETERS, "parameters"), Verdict.REPRODUCED),
    # 66.80 M: outside 66 ± 0.5, and it makes the reduction 40% - 1.01 x its 1-point tolerance
    "params.small_out": (_measured(LARGE_PARAMETERS * (1 - (0.40 - OUT * 0.01)), "parameters"), Verdict.NOT_REPRODUCED),
    "size.mb": (_measured(207e6 * (1 + IN * 0.01), "bytes"), Verdict.REPRODUCED),
    "size.mb_out": (_measured(207e6 * (1 - OUT * 0.01), "bytes"), Verdict.NOT_REPRODUCED),
    "size.mib": (_measured(207e6 / 2**20, "MiB"), Verdict.REPRODUCED),  # 197.4 MiB is 207 MB
    "time.ms": (_measured(0.409, "seconds", interval=(0.405, 0.410 + IN * 0.005)), Verdict.REPRODUCED),
    "time.ms_out": (_measured(0.42, "seconds", interval=(0.410 + OUT * 0.005, 0.43)), Verdict.NOT_REPRODUCED),
    "score.points": (_measured(0.913 - IN * 0.01, "ratio"), Verdict.REPRODUCED),  # a fraction, claimed x100
    "score.points_out": (_measured(0.913 - OUT * 0.01, "ratio"), Verdict.NOT_REPRODUCED),
    "score.nan": (_measured(math.nan, "ratio"), Verdict.NOT_REPRODUCED),
    "speed.large": (_measured(0.668, "seconds", SPEED_LARGE), Verdict.REPRODUCED),
    "speed.small": (_measured(0.668 / 1.7, "seconds", SPEED_SMALL), Verdict.REPRODUCED),
    "speed.slowed_small": (_measured(0.668 / 1.4, "seconds", SPEED_SLOWED), Verdict.REPRODUCED),
}
FORMULA_VERDICTS = {
    "speed.speedup": Verdict.REPRODUCED,
    "speed.speedup_out": Verdict.NOT_REPRODUCED,  # the small model slowed: speedup 1.4 < 1.6 - 0.05
    "params.reduction": Verdict.REPRODUCED,  # 1 - 66.36/109.48 = 39.4%: inside 40 ± 1
    "params.reduction_out": Verdict.NOT_REPRODUCED,  # 38.99%: 1.01 x the tolerance below 40
}


def _engine_verdicts(tmp_path: Path) -> dict[str, tuple[Verdict, Verdict, Any]]:
    path = tmp_path / "planted.toml"
    path.write_text(claims_toml(*ENGINE_CLAIMS), encoding="utf-8")
    loaded = load(path)
    assert loaded.invalid == (), [str(r.error) for r in loaded.invalid]
    context = PlantedContext(loaded, {cid: m for cid, (m, _) in PLANTED_MEASUREMENTS.items()})
    expected = {cid: v for cid, (_, v) in PLANTED_MEASUREMENTS.items()} | FORMULA_VERDICTS
    out = {}
    for c in loaded.claims:
        result = evaluate(c, context, f"planted.toml::{c.id}", "pytest")
        out[c.id] = (expected[c.id], Verdict(result.verdict), result)
    return out


def test_the_engine_gives_planted_measurements_their_verdicts(tmp_path: Path) -> None:
    verdicts = _engine_verdicts(tmp_path)
    wrong = {cid: f"{got.value} ({r.reason})" for cid, (want, got, r) in verdicts.items() if got is not want}
    print(f"engine-level planted cases: {len(verdicts)}; wrong verdicts: {len(wrong)}")
    assert wrong == {}


def test_a_planted_ratio_is_judged_on_its_paired_interval(tmp_path: Path) -> None:
    verdicts = _engine_verdicts(tmp_path)
    speedup = verdicts["speed.speedup"][2]
    slowed = verdicts["speed.speedup_out"][2]
    assert speedup.interval is not None and speedup.interval[0] > 1.55
    assert slowed.interval is not None and slowed.interval[1] < 1.55
    assert slowed.measured == pytest.approx(1.4)
    reduction = verdicts["params.reduction_out"][2]
    assert reduction.measured == pytest.approx(40 - OUT * 1.0)


def test_a_consistent_source_is_not_called_inconsistent_when_a_bound_is_unbounded(tmp_path: Path) -> None:
    """0 x an unbounded interval has NaN corners; the reach of the formula must stay unbounded, not NaN
    (a NaN reach meets nothing, which called a self-consistent source INCONSISTENT)."""
    path = tmp_path / "unbounded.toml"
    path.write_text(
        claims_toml(
            claim("a.x", value=10.0, precision=1),
            claim("a.y", value=0.0, precision=0.1),  # a.y + 0.01 straddles 0: a.x / (a.y + 0.01) is unbounded
            claim("a.z", value=5.0, precision=1, formula="a.x / (a.y + 0.01) * 0 + 5"),
        ),
        encoding="utf-8",
    )
    loaded = load(path)
    assert loaded.invalid == ()
    z = loaded.claim("a.z")
    consistency = check_consistency(z, {n: loaded.claim(n) for n in ("a.x", "a.y")})
    assert consistency is not None
    assert consistency.consistent, consistency.reason
    assert not any(math.isnan(x) for x in consistency.interval)


# ---------------------------------------------------------------- end to end: a pytest session

#: relative tolerance 1%: (stated value, the outcome it must get); the tiny model has TINY_PARAMETERS
RELATIVE = {"kind": "relative", "value": 0.01, "rationale": "an exact count; 1% covers rounding"}
E2E = [
    ("params.exact", TINY_PARAMETERS, RELATIVE, "passed"),
    ("params.ten_percent_high", round(TINY_PARAMETERS * 1.10), RELATIVE, "failed"),
    ("params.two_percent_low", round(TINY_PARAMETERS * 0.98), RELATIVE, "failed"),
    ("params.just_out_high", TINY_PARAMETERS / (1 - OUT * 0.01), RELATIVE, "failed"),
    ("params.just_out_low", TINY_PARAMETERS / (1 + OUT * 0.01), RELATIVE, "failed"),
    ("params.just_in_high", TINY_PARAMETERS / (1 - IN * 0.01), RELATIVE, "passed"),
    ("params.just_in_low", TINY_PARAMETERS / (1 + IN * 0.01), RELATIVE, "passed"),
    ("params.off_by_one", TINY_PARAMETERS + 1, {"kind": "precision", "rationale": "exact"}, "failed"),
    ("params.at_least_more", TINY_PARAMETERS + 100, {"kind": "lower_bound", "rationale": "a floor"}, "failed"),
    ("params.at_least_fewer", TINY_PARAMETERS - 100, {"kind": "lower_bound", "rationale": "a floor"}, "passed"),
    ("params.at_most_fewer", TINY_PARAMETERS - 100, {"kind": "upper_bound", "rationale": "a ceiling"}, "failed"),
]


def test_planted_parameter_counts_end_to_end(pytester: pytest.Pytester) -> None:
    records = [
        claim(
            cid,
            value=value,
            unit="parameters",
            precision=1,
            tolerance=tol,
            measure={"kind": "parameter_count", "model": "tiny"},
        )
        for cid, value, tol, _ in E2E
    ]
    # a derived claim whose stated component is 10% high: measured by its formula, it must fail too
    records.append(
        claim(
            "size.derived_from_high",
            value=None,
            unit="bytes",
            formula="params.ten_percent_high * 4",
            tolerance=RELATIVE,
            measure=None,
        )
    )
    expected = {cid: outcome for cid, _, _, outcome in E2E} | {"size.derived_from_high": "failed"}
    folder = pytester.path / "claims"
    folder.mkdir()
    (folder / "planted.toml").write_text(claims_toml(*records), encoding="utf-8")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\n')
    run = pytester.runpytest("-p", "no:cacheprovider", "--claims-out=out")
    in_process = run.reprec  # type: ignore[attr-defined]  (in-process runs have it)
    reports = {
        r.nodeid.split("::")[1]: r for r in in_process.getreports("pytest_runtest_logreport") if r.when == "call"
    }
    got = {cid: r.outcome for cid, r in reports.items()}
    results = {
        r["id"]: r for r in json.loads((pytester.path / "out" / "latest" / "results.json").read_text())["results"]
    }
    wrong = {cid: got.get(cid) for cid in expected if got.get(cid) != expected[cid]}
    print(f"end-to-end planted cases: {len(expected)}; wrong outcomes: {len(wrong)}")
    assert wrong == {}
    for cid, outcome in expected.items():
        verdict = results[cid]["verdict"]
        assert verdict == ("REPRODUCED" if outcome == "passed" else "NOT_REPRODUCED"), cid
        if outcome == "failed":
            assert f"NOT_REPRODUCED: {cid}" in reports[cid].longreprtext
            assert "Traceback" not in reports[cid].longreprtext
        assert results[cid]["measured"] == (TINY_PARAMETERS * 4 if cid.startswith("size.") else TINY_PARAMETERS)


def test_planted_case_count() -> None:
    """The figure to quote: planted cases over the three levels (Hypothesis examples not counted)."""
    total = len(PLANTED) + len(PLANTED_MEASUREMENTS) + len(FORMULA_VERDICTS) + len(E2E) + 1
    print(
        f"planted cases: {total} (verdict table {len(PLANTED)}, engine "
        f"{len(PLANTED_MEASUREMENTS) + len(FORMULA_VERDICTS)}, end to end {len(E2E) + 1})"
    )
    assert total >= 100
