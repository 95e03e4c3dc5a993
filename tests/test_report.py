"""The HTML report: written by the plugin, regenerated from a results file, self-contained, escaped;
and the verdicts carried into JUnit XML for CI dashboards."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from claimsfile import claim, fixed, write

from harness.cli import main
from harness.report.charts import chart
from harness.report.html import render_results
from harness.report.ordering import group_of, groups, severity_key, tolerance_width
from harness.verdict import ClaimResult

pytestmark = pytest.mark.fast

PLANTED = '<script>alert("pwned")</script> & <b>bold</b>'


class Page(HTMLParser):
    """The parts of a page the tests look at: tags, attributes, text per section, table rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.section: str | None = None
        self.sections: dict[str, list[str]] = {}
        self.rows: dict[str, list[list[str]]] = {}
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self.section = a.get("id")
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.setdefault(self.section or "", []).append(self._row)
            self._row = None
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
            return
        self.text.append(data)
        if self.section:
            self.sections.setdefault(self.section, []).append(data)
        if self._cell is not None:
            self._cell.append(data)

    def section_text(self, name: str) -> str:
        return " ".join("".join(self.sections.get(name, [])).split())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def assert_self_contained(page: Page, html: str) -> None:
    """No external resources and at most the one inline script that sorts and filters tables: the page
    works offline and fetches nothing."""
    tags = [t for t, _ in page.tags]
    assert tags.count("script") <= 1 and "link" not in tags and "img" not in tags and "iframe" not in tags
    script = html.split("<script>", 1)[1].split("</script>", 1)[0] if "<script>" in html else ""
    for word in ("fetch", "XMLHttpRequest", "http", "import", "eval", "innerHTML"):
        assert word not in script, word
    for _, attrs in page.tags:
        assert "src" not in attrs
        assert not any(k.startswith("on") for k in attrs), attrs  # no inline event handlers
        href = attrs.get("href") or ""
        assert href == "" or href.startswith("#"), href
    assert "url(" not in page.style and "@import" not in page.style


@pytest.fixture
def run(project: pytest.Pytester) -> tuple[pytest.Pytester, pytest.RunResult]:  # noqa: F811
    write(
        project,
        claim("size.small", value=1.0, measure=fixed(1.2)),
        claim("size.large", value=1.0, quote=PLANTED, measure=fixed(3.0)),
        claim("size.close", value=1.0, measure=fixed(2.0)),
        claim("speed.ratio", value=1.0, measure=fixed(1.4, low=1.3, high=1.7)),
        claim(
            "speed.device",
            value=1.0,
            conditions={"device": "cpu"},
            comparable_on=["device"],
            measure=fixed(1.0, conditions={"device": "cuda"}),
        ),
        claim("task.score", value=1.0),
    )
    outcome = project.runpytest("-m", "claims", "--claims-out=out")
    return project, outcome


def test_the_plugin_writes_the_report_next_to_the_results(run: tuple[pytest.Pytester, pytest.RunResult]) -> None:
    p, outcome = run
    outcome.stdout.fnmatch_lines(["*claims results: out/2*Z/results.json", "*claims report: out/2*Z/report.html"])
    html = (p.path / "out" / "latest" / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    assert_self_contained(page, html)
    summary = page.section_text("summary")
    assert "6 claims" in summary
    for count, verdict in (
        (2, "NOT_REPRODUCED"),
        (1, "INCONCLUSIVE"),
        (1, "NOT_COMPARABLE"),
        (1, "NOT_RUN"),
        (1, "REPRODUCED"),
    ):
        assert f"{count} {verdict}" in summary


def test_deviations_come_most_severe_first_with_numbers_in_unit_and_widths(
    run: tuple[pytest.Pytester, pytest.RunResult],
) -> None:
    p, _ = run
    page = parse((p.path / "out" / "latest" / "report.html").read_text(encoding="utf-8"))
    header, *rows = page.rows["deviations"]
    assert header == ["Verdict", "Claim", "Claimed", "Measured [interval]", "Deviation", "Widths", "Reason"]
    assert [r[1] for r in rows] == ["size.large", "size.close", "speed.ratio", "speed.device", "task.score"]
    assert [r[0] for r in rows] == [
        "NOT_REPRODUCED SMOKE",
        "NOT_REPRODUCED SMOKE",
        "INCONCLUSIVE SMOKE",
        "NOT_COMPARABLE SMOKE",
        "NOT_RUN",
    ]
    large = rows[0]
    # band 1 +- 0.5: measured 3 is +2 in the unit and +4 tolerance widths
    assert large[2:6] == ["1 ratio", "3 ratio", "+2", "+4.00"]
    assert "outside the band [0.5, 1.5]" in large[6]
    assert rows[2][3] == "1.4 ratio[1.3, 1.7]"  # the interval on its own line (<br>)
    # NOT_RUN points at the section that says what to supply, where the remedy is printed once
    assert "(what to supply)" in rows[4][6] and "supply the thing" not in rows[4][6]
    assert "supply the thing" in page.section_text("not-run")
    # the quote is shown once per claim (its card), not in the table
    assert PLANTED not in " ".join(" ".join(r) for r in rows)


def test_user_strings_are_escaped(run: tuple[pytest.Pytester, pytest.RunResult]) -> None:
    p, _ = run
    html = (p.path / "out" / "latest" / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    assert [t for t, _ in page.tags].count("script") == 1  # the report's own table script, nothing planted
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert PLANTED in "".join(page.text)  # shown to the reader as text, verbatim
    assert "<b>bold</b>" not in html


def test_charts_draw_each_measured_claim_on_its_own_band(run: tuple[pytest.Pytester, pytest.RunResult]) -> None:
    p, _ = run
    page = parse((p.path / "out" / "latest" / "report.html").read_text(encoding="utf-8"))
    figures = [a["id"] for t, a in page.tags if t == "figure"]
    assert figures == ["chart-size", "chart-speed"]
    assert sum(1 for t, _ in page.tags if t == "svg") == 2
    # one band per measured claim; the NOT_RUN claim is listed, not drawn
    assert sum(1 for t, a in page.tags if t == "rect" and a.get("class") == "band") == 5
    assert "task (task.score)" in page.section_text("charts")
    # rows keep the results' order; each is coloured by its verdict
    labels = [a for t, a in page.tags if t == "g" and (a.get("class") or "").startswith("row")]
    assert [a["class"] for a in labels[:3]] == ["row v-NOT_REPRODUCED", "row v-NOT_REPRODUCED", "row v-REPRODUCED"]


def test_every_claim_has_provenance_conditions_evidence_and_the_rerun_command(
    run: tuple[pytest.Pytester, pytest.RunResult],
) -> None:
    p, _ = run
    html = (p.path / "out" / "latest" / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    details = [a["id"] for t, a in page.tags if t == "details"]
    assert details == [
        f"claim-claims-toy.toml--{c}"
        for c in ("size.close", "size.large", "size.small", "speed.device", "speed.ratio", "task.score")
    ]
    text = page.section_text("claims")
    assert "pytest claims/toy.toml::speed.device" in text
    assert "fixed by the test" in text  # the evidence path
    assert "SMOKE evidence: a tiny stand-in model" in text
    assert "it is not evidence about the paper" in text
    device_rows = [r for r in page.rows["claims"] if r and r[0].startswith("device")]
    assert device_rows == [["device (differs)", "cpu", "cuda"]]
    assert "A toy paper" in text and "Table 1" in text


def test_the_report_is_regenerated_from_the_results_file_alone(
    run: tuple[pytest.Pytester, pytest.RunResult],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    p, _ = run
    original = (p.path / "out" / "latest" / "report.html").read_text(encoding="utf-8")
    results_file = p.path / "out" / "latest" / "results.json"
    moved = tmp_path / "elsewhere" / "results.json"
    moved.parent.mkdir()
    moved.write_text(results_file.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["report", str(moved), "-o", str(tmp_path / "again.html")]) == 0
    assert f"report: {tmp_path / 'again.html'}" in capsys.readouterr().out
    again = (tmp_path / "again.html").read_text(encoding="utf-8")
    written = next(d for d in (p.path / "out").iterdir() if not d.is_symlink()).relative_to(p.path)
    assert again.replace(str(moved), f"{written}/results.json") == original
    assert main(["report", str(moved)]) == 0  # default: next to the results file
    assert (moved.parent / "report.html").is_file()


def test_report_of_something_that_is_not_a_results_file_says_so(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a results file" in err and "pytest -m claims" in err
    with pytest.raises(SystemExit) as exc:
        main(["report"])
    assert exc.value.code == 2


def result(
    claim_id: str,
    verdict: str,
    claimed: float | None = 10.0,
    measured: float | None = None,
    band: tuple[float, float] | None = (9.0, 11.0),
    **extra: object,
) -> ClaimResult:
    return ClaimResult(
        id=claim_id,
        nodeid=f"c.toml::{claim_id}",
        verdict=verdict,
        reason="r",
        unit="ratio",
        claimed=claimed,
        band=band,
        tolerance=extra.pop("tolerance", {"kind": "absolute", "value": 1.0}),
        measured=measured,
        **extra,
    )  # type: ignore[arg-type]


def test_severity_order_puts_errors_first_and_bigger_misses_before_smaller() -> None:
    rows = [
        result("a", "NOT_RUN"),
        result("b", "NOT_REPRODUCED", measured=12.0),
        result("c", "ERROR", claimed=None, band=None),
        result("d", "NOT_REPRODUCED", measured=30.0),
        result("e", "INCONSISTENT", measured=10.0),
    ]
    assert [r.id for r in sorted(rows, key=severity_key)] == ["c", "d", "b", "e", "a"]


def test_tolerance_width_of_one_sided_claims_is_their_margin_or_precision() -> None:
    assert tolerance_width(result("a", "REPRODUCED", band=(9.0, 11.0))) == 1.0
    lower = result("b", "REPRODUCED", band=(9.5, math.inf), tolerance={"kind": "lower_bound", "value": 0.5})
    assert tolerance_width(lower) == 0.5
    bare = result(
        "c",
        "REPRODUCED",
        band=(-math.inf, 10.0),
        tolerance={"kind": "upper_bound", "value": 0.0},
        provenance={"precision": 0.1},
    )
    assert tolerance_width(bare) == 0.1
    assert tolerance_width(result("d", "ERROR", claimed=None, band=None)) is None


def test_large_groups_split_by_their_second_word() -> None:
    ids = [f"task.model_{m}.t{i}" for m in "ab" for i in range(6)] + ["task.ratio", "size.a", "size.b.c"]
    grouping = groups(ids)
    assert grouping["task.model_a.t0"] == "task.model_a" and grouping["task.ratio"] == "task"
    assert grouping["size.b.c"] == "size"
    assert group_of("x.y.z", split=False) == "x"


def test_a_value_far_off_the_band_is_clipped_at_the_edge_and_says_so() -> None:
    c = chart(
        "g",
        [
            ("far", result("far", "NOT_REPRODUCED", measured=100.0)),
            ("near", result("near", "REPRODUCED", measured=10.5)),
            ("none", result("none", "NOT_RUN")),
        ],
    )
    far, near = c.rows
    assert c.span == 8 and far.clipped == "right" and near.clipped == ""
    assert far.measured_x == max(x for x, _ in c.ticks)
    assert "+90.00 w" in far.text
    assert near.band[0] < near.measured_x < near.band[1]
    assert c.unmeasured == ("none",)


def test_smoke_results_are_labelled_as_not_evidence_about_the_paper() -> None:
    smoke = result("a", "REPRODUCED", measured=10.0, smoke=True, evidence={"path": "tiny", "smoke": True})
    data = {"schema": 1, "command": "pytest", "environment": {}, "claims_files": {}, "results": [smoke.to_dict()]}
    page = parse(render_results(data))
    assert "1 result rests on SMOKE evidence" in " ".join("".join(page.text).split())
    assert "tiny stand-in model, not evidence about the paper" in page.section_text("claims")


def test_junit_xml_carries_each_claims_verdict_and_values(project: pytest.Pytester) -> None:  # noqa: F811
    write(
        project,
        claim("j.pass", value=1.0, measure=fixed(1.2)),
        claim("j.fail", value=1.0, measure=fixed(3.0)),
        claim("j.skip", value=1.0),
        claim("j.xfail", value=1.0, measure=fixed(1.4, low=1.3, high=1.7)),
    )
    project.runpytest("-m", "claims", "--claims-out=out", "--junitxml=junit.xml").assert_outcomes(
        passed=1, failed=1, skipped=1, xfailed=1
    )
    tree = ET.parse(project.path / "junit.xml")
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    assert set(cases) == {"j.pass", "j.fail", "j.skip", "j.xfail"}
    props = {name: {p.get("name"): p.get("value") for p in case.iter("property")} for name, case in cases.items()}
    expected_keys = {"verdict", "claimed", "measured", "interval", "unit", "reason", "reproduce", "claim_result"}
    for name in cases:
        assert expected_keys <= set(props[name]), name
    assert props["j.pass"]["verdict"] == "REPRODUCED" and props["j.pass"]["measured"] == "1.2"
    assert props["j.fail"]["verdict"] == "NOT_REPRODUCED" and "outside the band" in props["j.fail"]["reason"]
    assert props["j.skip"]["verdict"] == "NOT_RUN" and props["j.skip"]["measured"] == ""
    assert props["j.xfail"]["interval"] == "(1.3, 1.7)"
    assert props["j.fail"]["reproduce"] == "pytest claims/toy.toml::j.fail"
    assert json.loads(props["j.fail"]["claim_result"])["deviation"] == 2.0
    assert props["j.pass"]["unit"] == "ratio" and props["j.pass"]["claimed"] == "1.0"
