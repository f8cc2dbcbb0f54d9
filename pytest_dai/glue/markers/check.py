"""The marker check at the end of collection: every selected test's ``dai_model`` or
``dai_test_config`` marker parsed, a bad one a collection error of its test."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.base.keys import CONFIG_MARKER, MODEL_MARKER
from pytest_dai.glue.markers.model import parse_marker
from pytest_dai.glue.markers.test_config import parse_test_config_marker
from pytest_dai.glue.settings.values import SETTINGS_KEY, Settings


def check_marked_items(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Parse the markers of every marked test now: a bad one becomes a collection error of
    that test (pytest then stops before running anything, unless
    ``--continue-on-collection-errors``), and the test is taken out of ``items``."""
    settings = config.stash.get(SETTINGS_KEY, None) or Settings()
    bad: list[tuple[pytest.Item, str]] = []
    for item in items:
        if item.get_closest_marker(MODEL_MARKER) or item.get_closest_marker(CONFIG_MARKER):
            problem = marker_problem(item, settings)
            if problem is not None:
                bad.append((item, problem))
    if not bad:
        return
    for item, problem in bad:
        report = pytest.CollectReport(item.nodeid, "failed", problem, [])
        config.hook.pytest_collectreport(report=report)
    failed = {id(item) for item, _ in bad}
    items[:] = [item for item in items if id(item) not in failed]


def marker_problem(item: pytest.Item, settings: Any) -> str | None:
    """The one line a test's ``dai_model`` or ``dai_test_config`` marker fails with, if any."""
    model = item.get_closest_marker(MODEL_MARKER)
    config = item.get_closest_marker(CONFIG_MARKER)
    try:
        if model is not None and config is not None:
            raise DAIError(f"{item.nodeid}: a test takes dai_model or dai_test_config, not both")
        if model is not None:
            parse_marker(model, settings, item.nodeid)
        elif config is not None:
            parse_test_config_marker(config, settings, item.nodeid)
    except DAIError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class MarkerCheck:
    """Checks the markers of the selected tests at the end of collection (last, after ``-k``,
    ``-m`` and ``--dai-rerun-failed`` deselected what will not run)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """A bad ``dai_model`` or ``dai_test_config`` marker: a collection error of its test."""
        check_marked_items(config, items)
