"""The pytest wiring: claims files become test items, verdicts become outcomes, results are written.

Registered through the ``pytest11`` entry point (disable it with ``-p no:claims``). It registers its own
markers (``claims``, ``speed``, ``task``) and collects only files that identify themselves as claims files
(``harness.spec.identity``). Importing this module
imports neither torch nor transformers; measurement code is loaded when a claim item runs. Each concept is a
module of ``harness.pytest_plugin``: ``options`` (command line, ini settings, markers), ``items`` (collection,
one item per claim) and ``session`` (shared state, results and reports at the end); this module only hands
their hooks to pytest; ``network`` keeps the session offline unless ``--claims-fetch`` opts in to a fetch first.

Verdict -> pytest outcome: REPRODUCED passes; NOT_REPRODUCED fails; INCONCLUSIVE xfails (fails with
``--claims-strict``); INCONSISTENT xfails; NOT_COMPARABLE and NOT_RUN skip, with the numbers or the remedy.
"""

from __future__ import annotations

import pytest

from harness.measure import check_memo
from harness.pytest_plugin.items import pytest_collect_file, pytest_collection, pytest_ignore_collect
from harness.pytest_plugin.network import NetworkGuard
from harness.pytest_plugin.options import (
    MARKERS,
    configure_output,
    measurement_options,
    pytest_addoption,
    pytest_load_initial_conftests,
    pytest_report_header,
)
from harness.pytest_plugin.outputs import check_output_paths
from harness.pytest_plugin.session import ClaimsSession

__all__ = [
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_collection",
    "pytest_configure",
    "pytest_ignore_collect",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_unconfigure",
]


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    configure_output(config)
    config.pluginmanager.register(NetworkGuard(config), "claims-network-guard")
    state = ClaimsSession(config, measurement_options(config))
    check_memo.set_memo_dir(state.options.cache_dir / check_memo.MEMO_SUBDIR)  # before any file is collected
    if not hasattr(config, "workerinput") and not config.option.help:
        check_output_paths(config, state.out)  # before anything is measured
    config.pluginmanager.register(state, "claims-session")


def pytest_unconfigure(config: pytest.Config) -> None:
    from harness.core import progress

    progress.configure(None)
    check_memo.set_memo_dir(None)
