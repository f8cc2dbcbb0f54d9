"""Shared setup of the example suite: a hook that reports each run, and one that changes the
outcome mapping (a run cancelled on the server, not by us, counts as skipped)."""

from __future__ import annotations

import logging

import pytest

from pytest_dai import Execution

log = logging.getLogger("examples")


def pytest_dai_execution_finished(item: pytest.Item, execution: Execution) -> None:
    """Log every finished run; with ``junit_logging = all`` it lands in the JUnit file."""
    log.info(
        "%s: %s ended %s after %ss",
        item.nodeid,
        execution.model,
        execution.status,
        execution.duration,
    )


def pytest_dai_map_outcome(item: pytest.Item, execution: Execution) -> str | None:
    """Treat a run cancelled on the server (by a person, not by this session) as a skip."""
    if execution.state == "cancelled" and not execution.aborted:
        return "skipped"
    return None  # everything else: the default mapping
