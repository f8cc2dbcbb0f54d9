"""The test id to agent map that xdist workers publish for ``--dai-dist=agent``.

The controller of an xdist session does not collect, so it cannot read the ``dai_model``
markers itself. Each worker writes, when its collection is finished and before it tells the
controller so, a small JSON file into a folder the controller made and handed it through
``workerinput``: ``{test id: [agent or null, expected seconds or null]}`` for every marked test.
When all workers have collected, the scheduler reads the folder (the collections are identical,
so any complete file will do). Tests missing from the map are plain tests: no agent, no wait.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_dai.glue.base.keys import WORKERINPUT_TEST_MAP, worker_input
from pytest_dai.glue.markers.model import marker_agent
from pytest_dai.glue.report.history import expected_duration
from pytest_dai.glue.xdist.handover import leave_json

if TYPE_CHECKING:
    import pytest

__all__ = ["PlannedTest", "publish_test_map", "read_test_map"]

log = logging.getLogger("pytest_dai")

#: A map file larger than this is not read (the server's and the user's data stay bounded).
MAX_MAP_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class PlannedTest:
    """What the scheduler knows of one marked test."""

    agent: str | None
    expected: float | None  # seconds, from the model's earlier runs; None: unknown


def _planned(item: pytest.Item) -> PlannedTest | None:
    """The agent and expected duration of a ``dai_model`` test; None for other tests."""

    marker = item.get_closest_marker("dai_model")
    if marker is None:
        return None

    model = marker.args[0] if marker.args else marker.kwargs.get("model")
    expected = expected_duration(item.config, str(model)) if model is not None else None
    return PlannedTest(marker_agent(item), expected)


def publish_test_map(config: pytest.Config, items: list[pytest.Item]) -> None:
    """(Worker) write this worker's map into the controller's folder, atomically."""
    folder = worker_input(config).get(WORKERINPUT_TEST_MAP)
    if not folder:
        return
    data: dict[str, list[Any]] = {}
    for item in items:
        planned = _planned(item)
        if planned is not None:
            data[item.nodeid] = [planned.agent, planned.expected]
    worker = str(worker_input(config).get("workerid", os.getpid()))
    try:
        leave_json(folder, f"{worker}-{os.getpid()}.json", data)
    except OSError as exc:
        log.warning("pytest-dai: could not publish the test map for --dai-dist: %s", exc)


def _entry(value: object) -> PlannedTest | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    agent, expected = value
    if agent is not None and not isinstance(agent, str):
        return None
    if expected is not None and (
        not isinstance(expected, (int, float)) or isinstance(expected, bool) or expected < 0
    ):
        expected = None
    return PlannedTest(agent, None if expected is None else float(expected))


def read_test_map(folder: str) -> dict[str, PlannedTest] | None:
    """(Controller) the union of the workers' maps; None when no worker left one."""
    found: dict[str, PlannedTest] | None = None
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        path = os.path.join(folder, name)
        if not name.endswith(".json"):
            continue
        try:
            if os.path.getsize(path) > MAX_MAP_BYTES:
                continue
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
        except (OSError, ValueError):
            continue
        if not isinstance(loaded, dict):
            continue
        found = {} if found is None else found
        for nodeid, value in loaded.items():
            entry = _entry(value)
            if entry is not None:
                found.setdefault(str(nodeid), entry)
    return found
