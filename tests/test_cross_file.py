"""Cross-file references (``harness.spec.references``): a formula naming ``other_file::claim.id`` uses a claim of
another claims file of the same directory, with that claim's own provenance and measured by its own file; a
missing file, a missing or invalid id and a cycle are load errors on the referring claim's formula."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from claimsfile import HEADER, TINY_PARAMETERS, claim, claims_toml

from harness.measure.engine import evaluate
from harness.measure.measurement import Context, Options
from harness.spec import load

pytestmark = pytest.mark.fast

COUNT = claim(
    "params.tiny",
    TINY_PARAMETERS,
    unit="parameters",
    precision=1,
    tolerance={"kind": "absolute", "value": 0, "rationale": "an exact count"},
    measure={"kind": "parameter_count", "model": "tiny"},
)


def write(directory: Path, stem: str, *records: dict[str, Any], source_key: str, models: bool = True) -> Path:
    header = {**HEADER, "source": {**HEADER["source"], "key": source_key, "title": f"paper {source_key}"}}
    if not models:
        header = {k: v for k, v in header.items() if k != "models"}
    path = directory / f"{stem}.toml"
    path.write_text(claims_toml(*records, header=header), encoding="utf-8")
    return path


def test_a_formula_over_another_files_claim_keeps_its_provenance_and_is_measured_by_that_file(tmp_path: Path) -> None:
    write(tmp_path, "base_paper", COUNT, source_key="base")
    half = claim(
        "size.half_of_base",
        TINY_PARAMETERS / 2,
        unit="parameters",
        precision=1,
        formula="base_paper::params.tiny / 2",
        tolerance={"kind": "absolute", "value": 1, "rationale": "half an exact count"},
        measure=None,
    )
    quoting = write(tmp_path, "quoting", half, source_key="quoting", models=False)  # no models of its own
    loaded = load(quoting)
    assert not loaded.invalid, [str(r.error) for r in loaded.invalid]
    assert [c.id for c in loaded.claims] == ["size.half_of_base"]  # the referenced claim is no claim of this file
    component = loaded.claim("base_paper::params.tiny")
    assert component.source.key == "base" and component.path.endswith("base_paper.toml")
    assert component.quote == "the quote of params.tiny" and component.value == TINY_PARAMETERS
    context = Context(loaded, Options())
    measured = context.measure(loaded.claim("size.half_of_base"))
    assert measured.value == TINY_PARAMETERS / 2  # counted from base_paper's [models.tiny]
    result = evaluate(loaded.claim("size.half_of_base"), context, "n", "r")
    assert result.verdict == "REPRODUCED"


@pytest.mark.parametrize(
    ("formula", "found", "fix"),
    [
        ("no_such_paper::params.tiny / 2", "no such file", "Did you mean 'base_paper'"),
        ("base_paper::params.tiy / 2", "has no claim 'params.tiy'", "Did you mean 'params.tiny'"),
        ("base_paper::params.broken / 2", "which is invalid there", "fix params.broken in"),
    ],
)
def test_a_missing_file_or_id_is_a_load_error_of_the_referring_claim(
    tmp_path: Path, formula: str, found: str, fix: str
) -> None:
    broken = claim("params.broken", 1, unit="parameters", measure={"kind": "parameter_count", "model": "nope"})
    write(tmp_path, "base_paper", COUNT, broken, source_key="base")
    good = claim("ok", 1.0, formula="base_paper::params.tiny / base_paper::params.tiny", measure=None)
    bad = claim("size.half", 1.0, unit="parameters", formula=formula, measure=None)
    loaded = load(write(tmp_path, "quoting", good, bad, source_key="quoting"))
    errors = {r.name: r.error for r in loaded.invalid}
    assert set(errors) == {"size.half"}
    assert errors["size.half"].field == "formula"
    assert found in errors["size.half"].found
    assert fix in errors["size.half"].fix
    assert [c.id for c in loaded.claims] == ["ok"]


def test_a_cycle_of_references_is_a_load_error(tmp_path: Path) -> None:
    a = claim("x", 1.0, formula="paper_b::y * 1", measure=None)
    b = claim("y", 1.0, formula="paper_a::x * 1", measure=None)
    write(tmp_path, "paper_a", a, source_key="a", models=False)
    write(tmp_path, "paper_b", b, source_key="b", models=False)
    loaded = load(tmp_path / "paper_a.toml")
    (record,) = loaded.invalid
    assert record.name == "x"
    assert "invalid there" in record.error.found and "a cycle through" in record.error.found
