"""Per-process session state: loaded files, the shared measurement cache, results, and what is written at the end."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from harness.measure.measurement import Context, Options
from harness.pytest_plugin.options import DEFAULT_OUT
from harness.spec import ClaimsFile
from harness.verdict import ClaimResult


class ClaimsSession:
    """Per-process state: loaded files, shared measurement cache, and (on the controller) the results."""

    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self.shared: dict[Any, Any] = {}
        self.contexts: dict[str, Context] = {}
        self.results: list[ClaimResult] = []
        self.files: dict[str, str] = {}
        self.started = dt.datetime.now(dt.UTC)
        self.deselected = 0
        self.collected = 0
        self.written: Path | None = None
        self.report: Path | None = None
        self.diff: Path | None = None

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

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += sum(1 for item in items if item.get_closest_marker("claims"))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected = sum(1 for item in items if item.get_closest_marker("claims"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == "claim_result":
                self.results.append(ClaimResult.from_dict(json.loads(str(value))))

    def run_info(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> dict[str, Any]:
        """The run's identity for results.json: when, what was selected, whether it is complete."""
        from harness import __version__
        from harness.core import environment

        args = [str(a) for a in self.config.invocation_params.args]
        option = self.config.option
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop or session.shouldfail)
        named = any("::" in a for a in args)
        return {
            "id": "",  # filled in with the run directory's name
            "started": self.started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "partial": bool(self.deselected or named or len(self.results) < self.collected),
            "selection": {
                "args": args,
                "markexpr": getattr(option, "markexpr", "") or "",
                "keyword": getattr(option, "keyword", "") or "",
                "selected": self.collected,
                "deselected": self.deselected,
                "run": len(self.results),
            },
            "interrupted": interrupted,
            "harness_version": __version__,
            "git": environment.repo_commit(self.config.rootpath),
        }

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
        if hasattr(self.config, "workerinput") or not self.results:
            return
        from harness.core import environment
        from harness.report import runs
        from harness.report.diff import diff, text_lines
        from harness.report.html import write_report
        from harness.report.results import read_results, write_results

        out = Path(self.config.getoption("claims_out") or self.config.rootpath / DEFAULT_OUT)
        files = {}
        for path in sorted({r.claims_file for r in self.results}):
            full = self.config.rootpath / path
            if full.is_file():
                files[path] = {"sha256": environment.file_digest(full), **environment.git_commit(full)}
        command = shlex.join(["pytest", *self.config.invocation_params.args])
        run_dir = runs.new_run_dir(out, self.started)
        run = {**self.run_info(session, exitstatus), "id": run_dir.name}
        self.written = run_dir / runs.RESULTS_NAME
        write_results(self.written, self.results, environment.capture(), files, command, run)
        previous = runs.previous_complete(out, run_dir)
        if previous is not None:
            old_dir, old = previous
            lines = text_lines(
                diff(old, read_results(self.written), str(old_dir / runs.RESULTS_NAME), str(self.written))
            )
            self.diff = run_dir / runs.DIFF_NAME
            self.diff.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.report = write_report(self.written)
        runs.point_latest(out, run_dir)
        _benchmark_table_only_when_verbose(self.config)

    @pytest.hookimpl(trylast=True)  # after other plug-ins' sections (pytest-benchmark's table): the paths end it
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results or hasattr(self.config, "workerinput"):
            return
        from harness.report.terminal import terminal_lines

        verbose = self.config.getoption("verbose") > 0
        terminalreporter.section("claims: verdicts")
        # a terminal's own width; a log (no terminal) gets longer lines rather than cut reasons
        width = terminalreporter._tw.fullwidth if terminalreporter.isatty else 120
        for line in terminal_lines(self.results, verbose=verbose, width=width):
            terminalreporter.write_line(line)
        if self.written is not None:
            terminalreporter.write_line(f"claims results: {self.written}")
            terminalreporter.write_line(f"claims report: {self.report}")
            if self.diff is not None:
                terminalreporter.write_line(f"claims diff vs the previous complete run: {self.diff}")
        _short_summary_without_claims(terminalreporter)


def _benchmark_table_only_when_verbose(config: pytest.Config) -> None:
    """pytest-benchmark's timing table (10 lines for the speed claims) only under -v: the claims' own lines
    already give the numbers, and the timings are saved with --benchmark-autosave / --benchmark-json either way."""
    session = getattr(config, "_benchmarksession", None)  # pytest-benchmark's session object, when installed
    if session is not None and config.getoption("verbose") <= 0 and hasattr(session, "quiet"):
        session.quiet = True


def _is_claim_report(report: Any) -> bool:
    return any(name == "claim_result" for name, _ in getattr(report, "user_properties", ()))


def _short_summary_without_claims(terminalreporter: Any) -> None:
    """Leave claim items out of ``-ra``'s skipped and xfailed lines: their verdicts are listed just above
    (once each, with the reason); the counts in pytest's last line are kept."""
    original = terminalreporter.short_test_summary

    def short_test_summary() -> None:
        saved = {key: terminalreporter.stats.get(key) for key in ("skipped", "xfailed")}
        for key, reports in saved.items():
            if reports:
                terminalreporter.stats[key] = [r for r in reports if not _is_claim_report(r)]
        try:
            original()
        finally:
            for key, reports in saved.items():
                if reports is not None:
                    terminalreporter.stats[key] = reports

    terminalreporter.short_test_summary = short_test_summary


def session_state(config: pytest.Config) -> ClaimsSession:
    state = config.pluginmanager.get_plugin("claims-session")
    assert isinstance(state, ClaimsSession), "the claims plugin was not configured"
    return state
