"""The plugin's command-line options, ini settings and markers, and the measurement Options they give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.measure.kinds.task_evidence import TASK_EVIDENCE
from harness.measure.measurement import Options, env_path
from harness.ml.data import DATA_SOURCES

MARKERS = {
    "claims": "a paper claim from claims/*.toml, measured and judged by the harness",
    "fast": "the harness's own quick tests (CPU, tiny models)",
    "slow": "tests or claims that take minutes",
    "gpu": "needs a CUDA device; skipped without one",
    "speed": "a timing claim: run serially, never under pytest-xdist workers",
    "task": "a task-score claim: needs fine-tuned weights and data",
}
DEFAULT_OUT = "claims-results"
SPEED_PROFILES = ("quick", "full")
ENV = {"models_dir": "CLAIMS_MODELS_DIR", "data_dir": "CLAIMS_DATA_DIR", "cache_dir": "CLAIMS_CACHE_DIR"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claims", "paper claims (reproducibility harness)")
    group.addoption(
        "--claims-strict",
        action="store_true",
        default=False,
        help="make INCONCLUSIVE claims fail (for strict CI); by default they xfail.",
    )
    group.addoption(
        "--claims-out",
        default=None,
        metavar="DIR",
        help=f"where results.json and report.html are written (default: <rootdir>/{DEFAULT_OUT}).",
    )
    group.addoption(
        "--claims-models-dir",
        default=None,
        metavar="DIR",
        help=f"local checkpoints, as DIR/<hub id> or DIR/<model name> (env {ENV['models_dir']}).",
    )
    group.addoption(
        "--claims-data-dir",
        default=None,
        metavar="DIR",
        help=f"local data sets, e.g. DIR/glue/<TASK>/dev.tsv (env {ENV['data_dir']}).",
    )
    group.addoption(
        "--claims-cache-dir",
        default=None,
        metavar="DIR",
        help=f"cache of fine-tuned models and runs (env {ENV['cache_dir']}; default <rootdir>/.claims-cache).",
    )
    group.addoption(
        "--claims-device",
        default="cpu",
        metavar="DEVICE",
        help="device for task evaluation, fine-tuning and speed claims: cpu or cuda[:N] (default cpu).",
    )
    group.addoption(
        "--claims-speed-profile",
        default="quick",
        metavar="NAME",
        help="speed-claim profile: quick (everyday) or full (the paper's full pass).",
    )
    group.addoption(
        "--claims-data-source",
        default=None,
        choices=DATA_SOURCES,
        help="task data: local files under --claims-data-dir, the hub dataset id (datasets cache when "
        "offline), or auto: local when there, else hub (env CLAIMS_DATA_SOURCE; default auto).",
    )
    group.addoption(
        "--claims-task-evidence",
        default=None,
        choices=TASK_EVIDENCE,
        help="task scores: evaluate a published fine-tuned checkpoint, fine-tune the base checkpoint "
        "with the claim's recipe, or auto: published when found, else fine-tune "
        "(env CLAIMS_TASK_EVIDENCE; default auto).",
    )
    group.addoption(
        "--claims-familywise",
        default=None,
        choices=("holm", "bonferroni", "bh"),
        help="adjust each band verdict's interval level for the run's family of claims (Holm, Bonferroni: "
        "family-wise error; bh: false discovery rate); applied once all claims are measured, to results.json, "
        "the summary and the report (docs/statistics.md).",
    )
    parser.addini(
        "claims_dirs",
        type="args",
        default=[DEFAULT_DIR],
        help="directories (relative to rootdir) whose *.toml files are claims files.",
    )


DEFAULT_DIR = "claims"


def _option_path(config: pytest.Config, option: str, env: str) -> Path | None:
    raw = config.getoption(option)
    path = Path(raw) if raw else env_path(env)
    flag = "--" + option.replace("_", "-")
    if path is not None and path.exists() and not path.is_dir():
        raise pytest.UsageError(f"{flag} {path}: not a directory. Give a directory (or unset {env}).")
    return path


def _choice(config: pytest.Config, option: str, env: str, choices: tuple[str, ...]) -> str:
    value = config.getoption(option) or os.environ.get(env, "").strip() or choices[0]
    if value not in choices:
        raise pytest.UsageError(f"{env}={value!r}: expected one of {', '.join(choices)}.")
    return str(value)


def measurement_options(config: pytest.Config) -> Options:
    profile = config.getoption("claims_speed_profile")
    if profile not in SPEED_PROFILES:
        raise pytest.UsageError(
            f"--claims-speed-profile {profile!r}: expected one of {', '.join(SPEED_PROFILES)}. "
            "Use quick for everyday runs, full for the paper's full pass."
        )
    device = config.getoption("claims_device")
    if not (device == "cpu" or device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit())):
        raise pytest.UsageError(f"--claims-device {device!r}: expected cpu, cuda or cuda:N.")
    models_dir = _option_path(config, "claims_models_dir", ENV["models_dir"])
    if models_dir is not None and not models_dir.is_dir():
        raise pytest.UsageError(f"--claims-models-dir {models_dir}: no such directory. Create it or fix the path.")
    cache_dir = _option_path(config, "claims_cache_dir", ENV["cache_dir"]) or config.rootpath / ".claims-cache"
    workerinput = getattr(config, "workerinput", None)
    workers = int(workerinput.get("workercount", 1)) if workerinput else 0
    from harness.ml.timing import BenchmarkRecorder  # light: no torch at import

    return Options(
        models_dir=models_dir,
        data_dir=_option_path(config, "claims_data_dir", ENV["data_dir"]),
        cache_dir=cache_dir,
        device=device,
        speed_profile=profile,
        xdist_workers=workers,
        data_source=_choice(config, "claims_data_source", "CLAIMS_DATA_SOURCE", DATA_SOURCES),
        task_evidence=_choice(config, "claims_task_evidence", "CLAIMS_TASK_EVIDENCE", TASK_EVIDENCE),
        extra={"benchmark_recorder": BenchmarkRecorder(config)},
    )
