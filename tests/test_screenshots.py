"""The report in a real browser: scripts/screenshot_report.sh takes headless-Chromium screenshots at 1400,
1024 and 800 px. Skipped where no chromium is installed (Debian: apt-get install chromium)."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from harness.report.html import render_results
from harness.verdict import ClaimResult

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "screenshot_report.sh"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.skipif(BROWSER is None, reason="no chromium on PATH (apt-get install chromium)")
def test_the_report_is_screenshot_at_three_widths(tmp_path: Path) -> None:
    rows = [
        ClaimResult(
            "h.size", "c::h.size", "REPRODUCED", "inside the band", "percent", 40.0, (39.0, 41.0),
            {"kind": "absolute", "value": 1.0}, measured=39.4, interval=(39.1, 39.7),
            provenance={"headline": True, "quote": "40% smaller", "source": "arXiv:1", "version": "v1"},
        ),
        ClaimResult(
            "t.score", "c::t.score", "NOT_RUN", "the checkpoint is not here", "points", 90.0, (89.0, 91.0),
            {"kind": "absolute", "value": 1.0}, remedy="get it", needs={"checkpoint base": "get base"},
        ),
    ]  # fmt: skip
    report = tmp_path / "report.html"
    report.write_text(render_results({"schema": 1, "results": [r.to_dict() for r in rows]}), encoding="utf-8")
    done = subprocess.run(
        ["bash", str(SCRIPT), str(report), str(tmp_path / "shots")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    for width in (1400, 1024, 800):
        assert png_size(tmp_path / "shots" / f"report-{width}.png") == (width, 900)
        assert png_size(tmp_path / "shots" / f"report-{width}-full.png")[0] == width


def test_the_script_says_what_is_missing(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path / "none.html"), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode in (2, 3)
    assert "no such report" in done.stderr or "no chromium" in done.stderr
