"""Four pytest-xdist workers on one shared cache (minutes on two cores): each model is trained once."""

from __future__ import annotations

import pytest
from test_tasks_chain import check_each_model_trained_once
from test_tasks_chain import world as world  # the fixture, used by name below

pytestmark = pytest.mark.slow


def test_four_xdist_workers_on_one_cache_train_each_model_once(pytester, world, tmp_path, monkeypatch):
    check_each_model_trained_once(pytester, world, tmp_path, monkeypatch, workers=4)
