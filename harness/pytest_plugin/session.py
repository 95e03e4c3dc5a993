"""Per-process session state: loaded files, the shared measurement cache, results, and what is written at the end."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.measure.measurement import Context, Options
from harness.pytest_plugin.options import DEFAULT_OUT
from harness.pytest_plugin.selection import Selection, now_iso
from harness.spec import ClaimsFile
from harness.verdict import ClaimResult


class ClaimsSession:
    """Per-process state: loaded files, shared measurement cache, and (on the controller) the results."""

    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self.shared: dict[Any, Any] = {}
        self.contexts: dict[str, Context] = {}
        self.by_nodeid: dict[str, ClaimResult] = {}
        self.skipped_by_marker: set[str] = set()
        self.files: dict[str, str] = {}
        self.selection = Selection()
        self.started = now_iso()
        self.out = Path(config.getoption("claims_out") or config.rootpath / DEFAULT_OUT)
        self.run: dict[str, Any] = {}
        self.written: Path | None = None
        self.report: Path | None = None
        self.write_error: str | None = None
        self.diff: Path | None = None

    @property
    def results(self) -> list[ClaimResult]:
        """One result per claim (pytest-xdist's ``--dist each`` runs a claim on every worker: counted once)."""
        return list(self.by_nodeid.values())

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

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selection.select(i.nodeid for i in session.items if getattr(i, "is_claim_item", False))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """A claim item skipped by a marker (skip, skipif, --benchmark-only ...) before it was measured is
        NOT_RUN, never absent: its result rides on the setup report (so it also reaches the xdist controller)."""
        report = yield
        claim = getattr(item, "claim", None)
        if call.when == "setup" and report.skipped and claim is not None:
            import attrs

            from harness.measure.failure import error_result

            result = attrs.evolve(
                error_result(claim, item.nodeid, self.reproduce(item.nodeid), ""),
                verdict="NOT_RUN",
                reason=f"skipped before it was measured: {_skip_reason(report)}",
                remedy="remove the skip marker, or the option or hook that adds it, and rerun",
            )
            report.user_properties.append(("claim_result", json.dumps(result.to_dict())))
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when not in ("setup", "call"):
            return
        for name, value in report.user_properties:
            if name == "claim_result" and (report.when == "call" or report.skipped):
                if report.when == "setup" and report.nodeid not in self.by_nodeid:
                    self.skipped_by_marker.add(report.nodeid)
                self.by_nodeid.setdefault(report.nodeid, ClaimResult.from_dict(json.loads(str(value))))

    def pytest_report_collectionfinish(self, config: pytest.Config, items: Sequence[pytest.Item]) -> list[str]:
        """Power before spending: each collected claim's expected budget and what its band can show."""
        claims = [item for item in items if hasattr(item, "claim") and hasattr(item, "claims_file")]
        if not claims or hasattr(config, "workerinput"):
            return []
        from harness.measure.plan import plan
        from harness.verdict.multiplicity import expected_false_not_reproduced

        lines = ["claims plan (expected budget before measuring; MDD = minimum detectable deviation at 80% power):"]
        false = []
        for item in claims:
            p = plan(item.claim, item.claims_file, self.options.task_evidence)  # type: ignore[attr-defined]
            if p.power is not None:
                false.append(p.power.false_not_reproduced)
                lines.append(f"  {p.claim_id}: {p.line}")
        without = len(claims) - len(false)
        if not (config.option.collectonly or config.getoption("verbose") > 0):
            # the short terminal: one line; every claim's plan under -v or --collect-only (and in results.json)
            unreachable = sum(1 for line in lines[1:] if "unreachable" in line)
            lines = [
                f"claims plan: {len(false)} claims with an expected budget, {unreachable} of them cannot reach "
                "REPRODUCED with this evidence (each claim's MDD and what would reach it: -v or --collect-only)"
            ]
        lines.append(
            f"  expected false NOT_REPRODUCED under exact replication (before measuring): "
            f"{expected_false_not_reproduced(false):.3g} over {len(false)} claims with an expected budget "
            f"({without} claims have none before a run: timing, counts, not measurable)"
        )
        return lines + self._cost_lines(claims, bool(config.option.collectonly or config.getoption("verbose") > 0))

    def _cost_lines(self, claims: Sequence[Any], each: bool) -> list[str]:
        """The cost plan: an estimate per task claim (under -v / --collect-only) and the total with its tiers."""
        from harness.measure.cost import claim_cost, summary

        device = self.options.device
        costs = [claim_cost(i.claim, i.claims_file, self.options.task_evidence, device) for i in claims]
        found = [c for c in costs if c is not None]
        if not found:
            return []
        return [summary(found, device, each)] + ([f"  {c.claim_id}: {c.line}" for c in found] if each else [])

    def adjusted_results(self) -> list[ClaimResult]:
        """The results, with ``--claims-familywise`` applied once (Holm and BH need every p-value)."""
        if not hasattr(self, "_adjusted"):
            from harness.report.multiplicity import apply_familywise

            self._adjusted = apply_familywise(self.results, self.config.getoption("claims_familywise"))
        return self._adjusted

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        interrupted = bool(exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail)
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["claims_selection"] = json.dumps(self.selection.to_workeroutput())
            return
        if self.config.option.collectonly or (not self.selection.selected and not self.by_nodeid):
            return  # no claim in this session: nothing to write
        try:
            self._write(interrupted)
        except Exception as exc:  # the session's summary must still be shown; results.json is written first
            self.write_error = f"claims results could not be written under {self.out}: {type(exc).__name__}: {exc}"

    def _write(self, interrupted: bool) -> None:
        from harness import __version__
        from harness.core import environment
        from harness.core.files import atomic_write_text
        from harness.report.diff import diff, text_lines
        from harness.report.html import write_report
        from harness.report.results import read_results, write_results
        from harness.report.runs import DIFF_NAME, RESULTS_NAME, new_run_dir, point_latest, previous_complete

        files = {}
        for path in sorted({r.claims_file for r in self.results if r.claims_file}):
            full = self.config.rootpath / path
            if full.is_file():
                files[path] = {"sha256": environment.file_digest(full), **environment.git_commit(full)}
        command = shlex.join(["pytest", *self.config.invocation_params.args])
        run_dir = new_run_dir(self.out)
        self.run = self.selection.run_object(
            self.config,
            run_id=run_dir.name,
            started=self.started,
            measured=len(set(self.by_nodeid) - self.skipped_by_marker),
            interrupted=interrupted,
        )
        self.run = {
            **self.run,
            "harness_version": __version__,
            "git": environment.repo_commit(self.config.rootpath),
        }
        self.written = run_dir / RESULTS_NAME
        write_results(self.written, self.adjusted_results(), environment.capture(), files, command, run=self.run)
        previous = previous_complete(self.out, run_dir)
        if previous is not None:
            old_dir, old = previous
            lines = text_lines(diff(old, read_results(self.written), str(old_dir / RESULTS_NAME), str(self.written)))
            self.diff = run_dir / DIFF_NAME
            atomic_write_text(self.diff, "\n".join(lines) + "\n")
        self.report = write_report(self.written)
        point_latest(self.out, run_dir)
        _benchmark_table_only_when_verbose(self.config)

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: without xdist (-p no:xdist) it must not be an error
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        raw = getattr(node, "workeroutput", {}).get("claims_selection")
        if raw:
            self.selection.merge(json.loads(raw))

    @pytest.hookimpl(trylast=True)  # after other plug-ins' sections (pytest-benchmark's table): the paths end it
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not (self.results or self.written or self.write_error):
            return
        from harness.report.multiplicity import expected_false, summary_line
        from harness.report.runs import describe_partial
        from harness.report.terminal import terminal_lines

        verbose = self.config.getoption("verbose") > 0
        results = self.adjusted_results()
        terminalreporter.section("claims: verdicts")
        # a terminal's own width; a log (no terminal) gets longer lines rather than cut reasons
        width = terminalreporter._tw.fullwidth if terminalreporter.isatty else 120
        lines = terminal_lines(results, verbose=verbose, width=width)
        # the multiplicity statement just above the counts, so that the counts and the paths end the output
        lines.insert(
            len(lines) - 1 - sum(1 for x in lines[-2:] if x.startswith("harness-derived")),
            summary_line(expected_false(results)),
        )
        for line in lines:
            terminalreporter.write_line(line)
        partial = describe_partial(self.run)
        if partial:
            terminalreporter.write_line(partial, red=True, bold=True)
        if self.write_error:
            terminalreporter.write_line(self.write_error, red=True, bold=True)
        if self.written is not None:
            terminalreporter.write_line(f"claims results: {self.written}")
            terminalreporter.write_line(f"claims report: {self.report}")
            terminalreporter.write_line(f"claims latest: {self.out / 'latest'} -> {self.written.parent.name}")
            if self.diff is not None:
                terminalreporter.write_line(f"claims diff vs the previous complete run: {self.diff}")
        _short_summary_without_claims(terminalreporter)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


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
