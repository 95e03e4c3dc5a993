#!/usr/bin/env bash
# Screenshots of a report in headless Chromium at 1400, 1024 and 800 px wide (first screen and full page).
#
#   scripts/screenshot_report.sh [REPORT.html] [OUT_DIR]
#
# REPORT defaults to claims-results/latest/report.html, OUT_DIR to claims-results/screenshots. Writes
# report-<width>.png (the first screen: <width> x 900) and report-<width>-full.png (the page's first
# 6000 px). Needs chromium (Debian: apt-get install chromium) or google-chrome on PATH; CHROMIUM=... overrides.
# The slow test tests/test_screenshots.py runs this script when a browser is present.
set -euo pipefail
report="${1:-claims-results/latest/report.html}"
out="${2:-claims-results/screenshots}"
browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
if [ -z "$browser" ]; then
  echo "screenshot_report.sh: no chromium on PATH: install it (apt-get install chromium) or set CHROMIUM=/path/to/it" >&2
  exit 3
fi
if [ ! -f "$report" ]; then
  echo "screenshot_report.sh: $report: no such report; run pytest -m claims first, or give the report's path" >&2
  exit 2
fi
mkdir -p "$out"
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
shoot() {  # width height file
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions \
    --user-data-dir="$(mktemp -d)" --window-size="$1,$2" --screenshot="$3" "$url" >/dev/null 2>&1
  [ -s "$3" ] || { echo "screenshot_report.sh: $browser wrote no $3" >&2; exit 1; }
  echo "$3"
}
for width in 1400 1024 800; do
  shoot "$width" 900 "$out/report-$width.png"
  shoot "$width" 6000 "$out/report-$width-full.png"
done
