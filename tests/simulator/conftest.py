"""Fixtures for the simulator tests: a fast scenario and a small authenticated HTTP helper."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from harness.scenarios import changed
from harness.simulators import Simulators

from pytest_dai.simulator import DAISimulator

EXECUTIONS = "/execution_service/api/v1/executions"

# time_scale 1000: a 100 s step takes 0.1 s.
FAST_SCENARIO: dict[str, Any] = {
    "realm": "testrealm",
    "credentials": {"client_id": "client:dai:agent:test", "client_secret": "s3cret-test"},
    "token_lifetime": 300,
    "time_scale": 1000,
    "abort_delay": 0.05,
    "agents": [
        {"id": "a1", "name": "agent one"},
        {"id": "a2", "name": "agent two", "hosted": True},
        {"id": "off", "name": "offline agent", "online": False},
    ],
    "models": [
        {
            "id": "m-quick",
            "name": "Quick",
            "steps": [
                {"name": "one", "duration": 100},
                {"name": "two", "duration": 100},
                {"name": "three", "duration": 100},
            ],
        },
        {
            "id": "m-fail",
            "name": "Failing",
            "steps": [
                {"name": "ok", "duration": 50},
                {"name": "bad", "duration": 50, "outcome": "failed", "message": "Boom: saw X"},
                {"name": "never", "duration": 50},
            ],
        },
        {
            "id": "m-flaky",
            "name": "Flaky",
            "attempts": ["failed", "passed"],
            "steps": [
                {"name": "a", "duration": 50},
                {"name": "b", "duration": 50, "message": "flaked"},
            ],
        },
        {
            "id": "m-cases",
            "name": "With cases",
            "steps": [{"name": "explore", "duration": 100}],
            "test_cases": [
                {
                    "id": 12,
                    "name": "Case twelve",
                    "steps": [
                        {"name": "c1", "duration": 50},
                        {"name": "c2", "duration": 50},
                    ],
                },
                {
                    "id": 13,
                    "name": "Case thirteen",
                    "attempts": ["error"],
                    "steps": [{"name": "c1", "duration": 50}],
                },
            ],
        },
        {
            "id": "m-long",
            "name": "Long",
            "steps": [{"name": f"long {i}", "duration": 300} for i in range(10)],
        },
    ],
}


def fast_scenario(**changes: Any) -> dict[str, Any]:
    """A deep copy of the fast scenario with top-level keys replaced."""
    return changed(FAST_SCENARIO, **changes)


class Api:
    """A requests.Session bound to one simulator, with a token."""

    def __init__(self, sim: DAISimulator) -> None:
        self.sim = sim
        self.session = requests.Session()
        self.refresh()

    def refresh(self) -> str:
        response = self.session.post(
            self.sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.sim.client_id,
                "client_secret": self.sim.client_secret,
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        return token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.sim.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def start(self, model_id: str, agent: str | None = None, **fields: Any) -> str:
        body: dict[str, Any] = {"execution_type": "executing", "model_id": model_id, **fields}
        if agent is not None:
            body["agent"] = {"agent_id": agent, "is_hosted_agent": False}
        response = self.post(EXECUTIONS, json=body)
        assert response.status_code in (200, 201), response.text
        data = response.json()
        for key in ("id", "execution_id", "execution_status_id"):
            if key in data:
                return str(data[key])
        raise AssertionError(f"no id in {data}")

    def abort(self, execution_id: str) -> requests.Response:
        return self.delete(f"{EXECUTIONS}/{execution_id}")

    def run(self, execution_id: str) -> dict[str, Any]:
        response = self.get("/ai/runs", params={"execution_id": execution_id})
        assert response.status_code == 200, response.text
        records = [r for r in response.json() if str(r.get("execution_id")) == execution_id]
        assert len(records) == 1, response.json()
        return records[0]

    def wait_final(self, execution_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            record = self.run(execution_id)
            if record["endtime"] is not None:
                return record
            assert time.monotonic() < deadline, f"not final in {timeout} s: {record}"
            time.sleep(0.02)

    def logs(self, run_id: int, **params: Any) -> dict[str, Any]:
        response = self.get(f"/ai/runlogs/{run_id}", params=params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def sim():
    """A started simulator running the fast scenario."""
    with DAISimulator(fast_scenario()) as simulator:
        yield simulator


@pytest.fixture
def api(sim: DAISimulator) -> Api:
    """An authenticated helper for ``sim``."""
    return Api(sim)


@pytest.fixture
def make_api():
    """Build an :class:`Api` for any simulator."""
    return Api


@pytest.fixture
def scenario_data():
    """Build a fast scenario dict: ``scenario_data(time_scale=..., ...)``."""
    return fast_scenario


@pytest.fixture
def start_sim():
    """Start simulators that are stopped at the end of the test: ``start_sim(scenario, **kw)``."""
    simulators = Simulators(default=fast_scenario)
    yield simulators.start
    simulators.stop_all()
