"""Fixtures shared by the tests (a pytester project that has the test-only measurement kind) and Hypothesis's
profiles (``HYPOTHESIS_PROFILE=dev|ci|thorough``; ``ci`` when ``CI`` is set)."""

from __future__ import annotations

import os

import numpy  # noqa: F401  (imported once here: in-process pytester runs restore sys.modules afterwards)
import pytest
from claimsfile import FIXED_KIND
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


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
