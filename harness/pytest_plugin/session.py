"""Per-process session state: loaded files, the shared measurement cache, results, and what is written at the end."""

from __future__ import annotations

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
            "claims_lock",
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
        from harness.core import environment
        from harness.report.results import write_results

        out = Path(self.config.getoption("claims_out") or self.config.rootpath / DEFAULT_OUT)
        files = {}
        for path in sorted({r.claims_file for r in self.results}):
            full = self.config.rootpath / path
            if full.is_file():
                files[path] = {"sha256": environment.file_digest(full), **environment.git_commit(full)}
        command = shlex.join(["pytest", *self.config.invocation_params.args])
        self.written = out / "results.json"
        write_results(self.written, self.results, environment.capture(), files, command)
        from harness.report.html import write_report

        self.report = write_report(self.written)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results or hasattr(self.config, "workerinput"):
            return
        from harness.report.terminal import terminal_lines

        terminalreporter.section("claims: verdicts")
        for line in terminal_lines(self.results, verbose=self.config.getoption("verbose") >= 0):
            terminalreporter.write_line(line)
        written = getattr(self, "written", None)
        if written is not None:
            terminalreporter.write_line(f"claims results: {written}")
            terminalreporter.write_line(f"claims report: {self.report}")


def session_state(config: pytest.Config) -> ClaimsSession:
    state = config.pluginmanager.get_plugin("claims-session")
    assert isinstance(state, ClaimsSession), "the claims plugin was not configured"
    return state
