"""The pytest wiring: claims files become test items, verdicts become outcomes, results are written.

Registered through the ``pytest11`` entry point. Importing this module imports neither torch nor
transformers; measurement code is loaded when a claim item runs.

Verdict -> pytest outcome: REPRODUCED passes; NOT_REPRODUCED fails; INCONCLUSIVE xfails (fails with
``--claims-strict``); INCONSISTENT xfails; NOT_COMPARABLE and NOT_RUN skip, with the numbers or the remedy.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.claims import Claim, ClaimsFile, InvalidRecord, load
from harness.data import DATA_SOURCES
from harness.errors import ClaimError, HarnessError
from harness.measurement import Context, Options, env_path
from harness.measures.tasks import TASK_EVIDENCE
from harness.results import ClaimResult

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


def _options(config: pytest.Config) -> Options:
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
    from harness.timing import BenchmarkRecorder  # light: no torch at import

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


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.pluginmanager.register(ClaimsSession(config, _options(config)), "claims-session")


class ClaimsSession:
    """Per-process state: loaded files, shared measurement cache, and (on the controller) the results."""

    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self.shared: dict[Any, Any] = {}
        self.contexts: dict[str, Context] = {}
        self.results: list[ClaimResult] = []
        self.files: dict[str, str] = {}

    def context(self, claims_file: ClaimsFile) -> Context:
        if claims_file.path not in self.contexts:
            self.contexts[claims_file.path] = Context(claims_file, self.options, self.shared)
        return self.contexts[claims_file.path]

    def reproduce(self, nodeid: str) -> str:
        """The exact command that reruns one claim with this run's harness options."""
        args = ["pytest", nodeid]
        for option in (
            "claims_models_dir",
            "claims_data_dir",
            "claims_cache_dir",
            "claims_device",
            "claims_speed_profile",
            "claims_data_source",
            "claims_task_evidence",
            "claims_strict",
        ):
            value = self.config.getoption(option)
            default = {"claims_device": "cpu", "claims_speed_profile": "quick"}.get(option)
            if value and value != default:
                flag = "--" + option.replace("_", "-")
                args.append(flag if value is True else f"{flag}={value}")
        return shlex.join(args)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == "claim_result":
                self.results.append(ClaimResult.from_dict(json.loads(str(value))))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput") or not self.results:
            return
        from harness import environment
        from harness.results import write_results

        out = Path(self.config.getoption("claims_out") or self.config.rootpath / DEFAULT_OUT)
        files = {}
        for path in sorted({r.claims_file for r in self.results}):
            full = self.config.rootpath / path
            if full.is_file():
                files[path] = {"sha256": environment.file_digest(full), **environment.git_commit(full)}
        command = shlex.join(["pytest", *self.config.invocation_params.args])
        self.written = out / "results.json"
        write_results(self.written, self.results, environment.capture(), files, command)
        from harness.report import write_report

        self.report = write_report(self.written)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results or hasattr(self.config, "workerinput"):
            return
        from harness.reporting import terminal_lines

        terminalreporter.section("claims: verdicts")
        for line in terminal_lines(self.results, verbose=self.config.getoption("verbose") >= 0):
            terminalreporter.write_line(line)
        written = getattr(self, "written", None)
        if written is not None:
            terminalreporter.write_line(f"claims results: {written}")
            terminalreporter.write_line(f"claims report: {self.report}")


def _session_state(config: pytest.Config) -> ClaimsSession:
    state = config.pluginmanager.get_plugin("claims-session")
    assert isinstance(state, ClaimsSession), "the claims plugin was not configured"
    return state


def _is_claims_file(config: pytest.Config, file_path: Path) -> bool:
    if file_path.suffix != ".toml":
        return False
    for entry in config.getini("claims_dirs"):
        directory = (config.rootpath / entry).resolve()
        if file_path.resolve().parent == directory:
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_claims_file(parent.config, file_path):
        return ClaimsFileNode.from_parent(parent, path=file_path)
    return None


def _markers(claim: Claim, claims_file: ClaimsFile) -> set[str]:
    """The claim's markers: its kind's, and those of the claims its formula uses (transitively)."""
    from harness.measures import KINDS

    if claim.measure is not None:
        return set(KINDS[claim.measure.kind].markers)
    out: set[str] = set()
    for name in claim.formula.names if claim.formula else ():
        out |= _markers(claims_file.claim(name), claims_file)
    return out


class ClaimsFileNode(pytest.File):
    """A claims file: one item per claim, and one failing item per invalid record."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            shown = str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            shown = str(self.path)
        claims_file = load(self.path)
        claims_file = _with_path(claims_file, shown)
        for record in claims_file.invalid:
            invalid = InvalidClaimItem.from_parent(self, name=record.name, record=record)
            invalid.add_marker("claims")
            yield invalid
        for claim in claims_file.claims:
            item = ClaimItem.from_parent(self, name=claim.id, claim=claim, claims_file=claims_file)
            item.add_marker("claims")
            for marker in sorted(_markers(claim, claims_file)):
                item.add_marker(marker)
            yield item


def _with_path(claims_file: ClaimsFile, shown: str) -> ClaimsFile:
    """The file as loaded, with paths shown relative to the rootdir in every message."""
    import attrs

    def fix_error(err: ClaimError) -> ClaimError:
        return ClaimError(shown, err.claim_id, err.field, err.expected, err.found, err.fix)

    return attrs.evolve(
        claims_file,
        path=shown,
        claims=tuple(attrs.evolve(c, path=shown) for c in claims_file.claims),
        invalid=tuple(InvalidRecord(r.name, fix_error(r.error)) for r in claims_file.invalid),
    )


class VerdictOutcome(Exception):
    """Raised by a claim item whose verdict fails the test; carries the result for the report."""

    def __init__(self, result: ClaimResult) -> None:
        self.result = result
        super().__init__(result.verdict)


class InvalidClaimItem(pytest.Item):
    """A record that could not be loaded: it fails with the loader's message, no traceback."""

    def __init__(self, *, record: InvalidRecord, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record = record

    def runtest(self) -> None:
        err = self.record.error
        result = ClaimResult(
            id=err.claim_id or self.name,
            nodeid=self.nodeid,
            verdict="ERROR",
            reason=str(err),
            unit="",
            claimed=None,
            band=None,
            tolerance={},
            claims_file=err.path,
            reproduce=_session_state(self.config).reproduce(self.nodeid),
        )
        self.user_properties.append(("verdict", "ERROR"))
        self.user_properties.append(("claim_result", json.dumps(result.to_dict())))
        raise err

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ClaimError):
            return f"invalid claims record\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"claims record {self.name}"


class ClaimItem(pytest.Item):
    """One claim: measure, decide, and turn the verdict into a pytest outcome."""

    def __init__(self, *, claim: Claim, claims_file: ClaimsFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.claim = claim
        self.claims_file = claims_file

    def runtest(self) -> None:
        from harness.engine import evaluate
        from harness.reporting import outcome_text

        state = _session_state(self.config)
        try:
            result = evaluate(self.claim, state.context(self.claims_file), self.nodeid, state.reproduce(self.nodeid))
        except HarnessError as exc:
            self.user_properties.append(("verdict", "ERROR"))
            error = ClaimResult(
                id=self.claim.id,
                nodeid=self.nodeid,
                verdict="ERROR",
                reason=str(exc),
                unit=self.claim.unit,
                claimed=self.claim.value,
                band=None,
                tolerance={},
                claims_file=self.claim.path,
                reproduce=state.reproduce(self.nodeid),
            )
            self.user_properties.append(("claim_result", json.dumps(error.to_dict())))
            raise
        for key in ("verdict", "claimed", "measured", "interval", "unit", "reason", "reproduce"):
            value = getattr(result, key)
            self.user_properties.append((key, "" if value is None else str(value)))
        self.user_properties.append(("claim_result", json.dumps(result.to_dict())))
        text = outcome_text(result)
        if result.verdict == "REPRODUCED":
            return
        if result.verdict == "NOT_REPRODUCED":
            raise VerdictOutcome(result)
        if result.verdict == "INCONCLUSIVE":
            if self.config.getoption("claims_strict"):
                raise VerdictOutcome(result)
            pytest.xfail(text)
        if result.verdict == "INCONSISTENT":
            pytest.xfail(text)
        pytest.skip(text)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        from harness.reporting import outcome_text

        if isinstance(excinfo.value, VerdictOutcome):
            return outcome_text(excinfo.value.result)
        if isinstance(excinfo.value, HarnessError):
            return f"{self.claim.id}: the measurement failed: {excinfo.value}\n{self.claim.provenance}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"claim {self.claim.id}"
