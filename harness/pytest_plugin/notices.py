"""Notices a person must see while a claim runs (a wait for another process's lock), past pytest's capture."""

from __future__ import annotations

import sys

import pytest

from harness.core.text import printable


class TerminalNotice:
    """``notice(text)`` writes one line to the terminal now, with output capture suspended for it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def __call__(self, text: str) -> None:
        line = printable(text)
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if capture is None or reporter is None:  # an xdist worker has no terminal: its stderr reaches it
            print(line, file=sys.stderr, flush=True)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
