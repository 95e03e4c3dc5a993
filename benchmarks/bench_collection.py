"""How long `pytest -m claims --collect-only` takes, with the model-check memo cold (the baseline) and warm.

Each run is a fresh `pytest` process on this checkout's claims files, the same command a user types; the cold
run has an empty `--claims-cache-dir` (every model table checked against transformers, which imports torch),
the warm runs reuse that cache's `model-checks/` memo. Prints each run's wall time and pytest's own
"collected in" time, and the warm/cold ratios. Both measured in this process, one after the other, so the
ratio is what to quote on a shared machine.

    python benchmarks/bench_collection.py
    python benchmarks/bench_collection.py --repeats 5 -- -p no:hypothesispytest
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def collect(cache: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, pytest's "collected in" seconds) of one collection."""
    env = {**os.environ, "CLAIMS_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's machine writes bytecode: measure that
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "claims", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    found = re.search(r"collected in ([0-9.]+)s", done.stdout)
    if done.returncode != 0 or found is None:
        sys.exit(f"collection failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm runs (default 3); the cold run is one")
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args()
    collect(Path(tempfile.mkdtemp(prefix="claims-warmup-")), args.extra)  # bytecode written: not the memo's effect
    with tempfile.TemporaryDirectory(prefix="claims-cache-") as cache:
        cold = collect(Path(cache), args.extra)
        warm = [collect(Path(cache), args.extra) for _ in range(args.repeats)]
    warm_wall = statistics.median(w for w, _ in warm)
    warm_collect = statistics.median(c for _, c in warm)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"cold memo:  wall {cold[0]:.2f} s, collected in {cold[1]:.2f} s")
    print(f"warm memo:  wall {warm_wall:.2f} s, collected in {warm_collect:.2f} s (median of {args.repeats})")
    print(f"warm/cold:  wall {warm_wall / cold[0]:.2f}, collection {warm_collect / cold[1]:.2f}")


if __name__ == "__main__":
    main()
