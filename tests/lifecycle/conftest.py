"""The real simulator over loopback for the lifecycle's direct tests: a fresh simulator per
test (faults and runs never leak between tests), a client, and a session with a journal."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.lifecycle.journal import Journal
from pytest_dai.lifecycle.session import DAISession
from pytest_dai.simulator import DAISimulator

# time_scale 1000: a step of 100 simulated seconds takes 0.1 s; "Long" runs for 10 minutes.
SCENARIO: dict[str, Any] = {
    "credentials": {"client_id": "client:dai:agent:lifecycle", "client_secret": "s3cret-life"},
    "time_scale": 1000,
    "abort_delay": 0.05,
    "agents": [{"id": "a1", "name": "agent one"}, {"id": "a2", "name": "agent two"}],
    "models": [
        {
            "id": "m-quick",
            "name": "Quick",
            "steps": [
                {"name": "Open shop", "duration": 100},
                {"name": "Search", "duration": 100},
                {"name": "Pay", "duration": 100},
            ],
        },
        {
            "id": "m-fail",
            "name": "Failing",
            "steps": [
                {"name": "Open shop", "duration": 50},
                {"name": "Pay", "duration": 50, "outcome": "failed", "message": "Card declined"},
                {"name": "Never", "duration": 50},
            ],
        },
        {
            "id": "m-error",
            "name": "Erroring",
            "steps": [
                {"name": "Open shop", "duration": 50},
                {"name": "Connect", "duration": 50, "outcome": "error", "message": "SUT lost"},
            ],
        },
        {
            "id": "m-cancel",
            "name": "Cancelled",
            "final_status": "cancelled",
            "steps": [{"name": "Open shop", "duration": 50}],
        },
        {
            "id": "m-long",
            "name": "Long",
            "steps": [{"name": "Warm up", "duration": 100}, {"name": "Soak", "duration": 600_000}],
        },
    ],
    "test_configs": [
        {"id": "tc-nightly", "name": "Nightly", "agent": "a2", "runs": [{"model": "Long"}]},
    ],
}


def scenario(**changes: Any) -> dict[str, Any]:
    """A deep copy of :data:`SCENARIO` with top-level keys replaced."""
    data = copy.deepcopy(SCENARIO)
    data.update(changes)
    return data


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``predicate`` comes true within ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def sim() -> Iterator[DAISimulator]:
    """A fresh simulator for this test."""
    with DAISimulator(scenario(), port=0) as simulator:
        yield simulator


def client_of(simulator: DAISimulator) -> DAIClient:
    """A client of ``simulator`` with few, quick retries."""
    credentials = Credentials(simulator.client_id, simulator.client_secret, simulator.token_url)
    return DAIClient(simulator.url, credentials, timeout=5, attempts=2, backoff_factor=0)


@pytest.fixture
def client(sim: DAISimulator) -> Iterator[DAIClient]:
    """A client of the test's simulator."""
    with client_of(sim) as made:
        yield made


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    """A journal in the test's own folder."""
    return Journal(tmp_path / "journal")


@pytest.fixture
def session(client: DAIClient, journal: Journal) -> Iterator[DAISession]:
    """A session polling every 50 ms, journalling its starts; what it left going is aborted."""
    made = DAISession(client, poll_interval=0.05, journal=journal)
    yield made
    made.abort_unfinished()
