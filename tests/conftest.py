"""Fixtures shared by the tests: a pytester project that has the test-only measurement kind."""

from __future__ import annotations

import numpy  # noqa: F401  (imported once here: in-process pytester runs restore sys.modules afterwards)
import pytest
from claimsfile import FIXED_KIND


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project with the ``fixed`` measurement kind and strict markers."""
    pytester.makeconftest(FIXED_KIND)
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\n'
        # the plugin is imported before pytester's in-process session starts
        'filterwarnings = ["ignore::pytest.PytestAssertRewriteWarning"]\n'
    )
    return pytester
