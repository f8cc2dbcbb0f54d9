"""Fixtures for the CI-report tests: simulators (free ports) with the inner pytest pointed at
them through DAI_URL, DAI_CLIENT_ID and DAI_CLIENT_SECRET, and the JUnit schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import xmlschema
from harness.env import point_env_at

import pytest_dai.glue.process.state

# Imported before any in-process inner session: pytester restores sys.modules after each
# in-process run, so a module the plugin imports lazily (requests, the client) would be imported
# again by the next run and clash with the copies other modules kept ("You can only merge into
# CookieJar").
import pytest_dai.glue.report.junit_steps
import pytest_dai.lifecycle.journal
import pytest_dai.lifecycle.session
import pytest_dai.lifecycle.steps  # noqa: F401
from pytest_dai.simulator import DAISimulator

from .support import SCENARIO, SCHEMA_PATH


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator with the fast scenario (free port), with the inner pytest pointed at it."""
    with DAISimulator(SCENARIO, port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator


@pytest.fixture
def default_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator with the packaged default scenario (the examples'), pointed at."""
    with DAISimulator(None, port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator


@pytest.fixture(scope="session")
def schema() -> xmlschema.XMLSchema:
    """The JUnit schema pytest's own tests validate against (a copy in tests/data)."""
    return xmlschema.XMLSchema(str(SCHEMA_PATH))
