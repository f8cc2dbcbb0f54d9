"""The real simulator over loopback for the lifecycle's direct tests: a fresh simulator per
test (faults and runs never leak between tests), a client, and a session with a journal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.scenarios import model, scenario, step, steps

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.lifecycle.journal import Journal
from pytest_dai.lifecycle.session import DAISession
from pytest_dai.simulator import DAISimulator

# time_scale 3000: a step of 100 simulated seconds takes 0.033 s; "Long" runs for 10 minutes.
SCENARIO: dict[str, Any] = scenario(
    "client:dai:agent:lifecycle",
    "s3cret-life",
    time_scale=3000,
    agents=[{"id": "a1", "name": "agent one"}, {"id": "a2", "name": "agent two"}],
    models=[
        model("m-quick", "Quick", *steps(100, "Open shop", "Search", "Pay")),
        model(
            "m-fail",
            "Failing",
            step("Open shop", 50),
            step("Pay", 50, "failed", "Card declined"),
            step("Never", 50),
        ),
        model(
            "m-error", "Erroring", step("Open shop", 50), step("Connect", 50, "error", "SUT lost")
        ),
        model("m-cancel", "Cancelled", step("Open shop", 50), final_status="cancelled"),
        model("m-long", "Long", step("Warm up", 100), step("Soak", 1_800_000)),
    ],
    test_configs=[
        {"id": "tc-nightly", "name": "Nightly", "agent": "a2", "runs": [{"model": "Long"}]},
    ],
)


@pytest.fixture
def sim() -> Iterator[DAISimulator]:
    """A fresh simulator for this test."""
    with DAISimulator(SCENARIO, port=0) as simulator:
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
