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
    "speed": "a timing claim: run serially, never under pytest-xdist workers",
    "task": "a task-score claim: needs fine-tuned weights and data",
}
DEFAULT_OUT = "claims-results"
#: the options that take a value (written ``--option=VALUE``; see ``check_separate_values``)
VALUE_OPTIONS = (
    "--claims-out",
    "--claims-models-dir",
    "--claims-data-dir",
    "--claims-cache-dir",
    "--claims-device",
    "--claims-speed-profile",
    "--claims-data-source",
    "--claims-task-evidence",
)
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
        "--claims-fetch",
        action="store_true",
        default=False,
        help="before measuring, download what the selected claims need (as `python -m harness fetch`, same "
        "output and lock file). Without it the session never touches the network, whatever the environment.",
    )
    group.addoption(
        "--claims-lock",
        default=None,
        metavar="PATH",
        help="the lock file local artifacts are verified against (and --claims-fetch writes); "
        "default: claims.lock.json next to each claims file.",
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
    from harness.pytest_plugin.notices import TerminalNotice

    return Options(
        models_dir=models_dir,
        data_dir=_option_path(config, "claims_data_dir", ENV["data_dir"]),
        cache_dir=cache_dir,
        device=device,
        speed_profile=profile,
        xdist_workers=workers,
        data_source=_choice(config, "claims_data_source", "CLAIMS_DATA_SOURCE", DATA_SOURCES),
        task_evidence=_choice(config, "claims_task_evidence", "CLAIMS_TASK_EVIDENCE", TASK_EVIDENCE),
        lock_path=Path(config.getoption("claims_lock")) if config.getoption("claims_lock") else None,
        root=config.rootpath,
        extra={"benchmark_recorder": BenchmarkRecorder(config), "notify": TerminalNotice(config)},
    )


def check_separate_values(args: list[str], cwd: Path) -> None:
    """Refuse ``--claims-out DIR`` (a separate value) where DIR exists: pytest decides its rootdir, and so
    its configuration file and test paths, from the existing paths among the arguments before it knows this
    plug-in's options, so such a run would collect the wrong files. ``--claims-out=DIR`` always works, and so
    does a separate value that is not an existing path."""
    for option, value in zip(args, args[1:], strict=False):
        if option in VALUE_OPTIONS and not value.startswith("-") and (cwd / value).exists():
            raise pytest.UsageError(
                f"{option} {value}: write the value with '=': {option}={value} (pytest decides its rootdir "
                f"and test paths before it knows the claims options, and would take {value} for a test path)"
            )


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    check_separate_values(list(args), early_config.invocation_params.dir)


def pytest_report_header(config: pytest.Config) -> str:
    from harness import __version__

    dirs = ", ".join(config.getini("claims_dirs"))
    return f"claims-harness {__version__} (claims files from: {dirs}; -p no:claims turns the plug-in off)"


#: the libraries' own logging, quiet unless -v (set before they are imported; a value already set wins)
QUIET_LOGS = {
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def configure_output(config: pytest.Config) -> None:
    """Progress bars on the terminal (not under -q, not when it is no terminal, not on an xdist worker);
    transformers' and datasets' logs quiet by default (-v restores them)."""
    from harness.core import progress

    verbose = config.getoption("verbose")
    worker = hasattr(config, "workerinput")
    progress.configure(None if worker else progress.terminal_stream(quiet=verbose < 0))
    if verbose <= 0:
        for name, value in QUIET_LOGS.items():
            os.environ.setdefault(name, value)
