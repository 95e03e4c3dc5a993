"""Never online by accident: the claims session runs under ``harness.ml.offline.offline_guard``.

From ``pytest_sessionstart`` to ``pytest_unconfigure`` (in the controller and in every xdist worker) the Hugging
Face libraries are held offline, whatever the environment says and whoever's conftest.py runs, so a measurement
only ever reads what is on this machine. The one exception is the opt-in ``--claims-fetch``: after collection
(the selection, ``-k`` included, is known then) the controller runs the fetch plan of the selected claims
(``harness.measure.fetching``, the same output as ``python -m harness fetch``) and only then goes offline.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest


class NetworkGuard:
    """The session's offline guard, and the opt-in fetch before it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.fetch = bool(config.getoption("claims_fetch"))
        self._stack = contextlib.ExitStack()
        self._guarded = False
        if self.fetch and hasattr(config, "workerinput"):
            self.fetch = False  # the controller fetches; workers only read
        elif self.fetch and getattr(config.option, "numprocesses", None):
            raise pytest.UsageError(
                "--claims-fetch cannot run under pytest-xdist (-n): workers would measure before the download. "
                "Fetch first with `python -m harness fetch claims/<file>.toml -k <selection>`, then run with -n."
            )

    def _guard(self) -> None:
        if not self._guarded:
            from harness.ml.offline import offline_guard

            self._stack.enter_context(offline_guard())
            self._guarded = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.fetch:
            self._guard()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.fetch:
            return
        try:
            self._fetch(session)
        finally:
            self._guard()

    def _fetch(self, session: pytest.Session) -> None:
        from harness.core.errors import HarnessError
        from harness.measure.artifacts import plan
        from harness.measure.fetching import plan_lines, run_plan
        from harness.pytest_plugin.options import measurement_options

        selected: dict[str, list[str]] = {}
        files: dict[str, Any] = {}
        for item in session.items:
            claims_file, claim = getattr(item, "claims_file", None), getattr(item, "claim", None)
            if claims_file is None or claim is None:
                continue
            files[claims_file.path] = claims_file
            selected.setdefault(claims_file.path, []).append(claim.id)
        if not files:
            return
        options = measurement_options(self.config)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")

        def echo(line: str) -> None:
            if reporter is not None:
                reporter.write_line(line)
            else:
                print(line)

        try:
            chosen = plan(list(files.values()), None, options.task_evidence, chosen=selected)
            for line in plan_lines(chosen):
                echo(line)
            run_plan(chosen, lock=options.lock_path, root=self.config.rootpath, echo=echo)
        except HarnessError as exc:
            raise pytest.UsageError(f"--claims-fetch: {exc}") from None

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stack.close()
