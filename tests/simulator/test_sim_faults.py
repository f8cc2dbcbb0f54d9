"""Every fault, set at run time or in the scenario; never applied to the Python-side API."""

from __future__ import annotations

import random
import time

import pytest
import requests

from pytest_dai.simulator import DAISimulator, Faults
from pytest_dai.simulator.state import SimState

EXECUTIONS = "/execution_service/api/v1/executions"


def test_latency(sim, api) -> None:
    sim.set_faults(latency=0.2)
    began = time.monotonic()
    assert api.get("/ai/models").status_code == 200
    assert time.monotonic() - began >= 0.2
    sim.set_faults(latency_paths=["/ai/runs"])
    began = time.monotonic()
    api.get("/ai/models")
    assert time.monotonic() - began < 0.15
    began = time.monotonic()
    api.get("/ai/runs")
    assert time.monotonic() - began >= 0.2


def test_error_rate(sim, api) -> None:
    sim.set_faults(error_rate=1.0, error_statuses=[502], seed=1)
    response = api.get("/ai/models")
    assert response.status_code == 502
    assert "Simulated fault" in response.json()["detail"]
    sim.set_faults(error_rate=0.5, error_statuses=[500, 429])
    statuses = [api.get("/ai/models").status_code for _ in range(60)]
    assert set(statuses) == {200, 500, 429}


def test_error_rate_is_reproducible_with_a_seed(sim, api) -> None:
    def sample() -> list[int]:
        sim.set_faults(error_rate=0.5, seed=42)
        return [api.get("/ai/agents").status_code for _ in range(20)]

    assert sample() == sample()


def test_burst_and_retry_after(sim, api) -> None:
    sim.set_faults(burst=2, retry_after=3)
    first, second, third = (api.get("/ai/models") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "3"
    assert sim.faults.burst == 0
    sim.set_faults(burst=1, burst_status=429, retry_after=0.5)
    response = api.get("/ai/models")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.5"
    sim.set_faults(burst=1, burst_status=500)
    assert "Retry-After" not in api.get("/ai/models").headers


def test_mutating_the_live_faults(sim, api) -> None:
    sim.faults.burst = 1
    assert api.get("/ai/models").status_code == 503
    assert api.get("/ai/models").status_code == 200


def test_drop_next(sim, api) -> None:
    sim.set_faults(drop_next=1)
    with pytest.raises(requests.ConnectionError):
        api.get("/ai/models")
    assert api.get("/ai/models").status_code == 200
    # in order of arrival: the dropped request may be logged after the next one is answered
    seen = sorted((r for r in sim.request_log() if r.path == "/ai/models"), key=lambda r: r.time)
    assert [r.status for r in seen] == [0, 200]


def test_drop_rate(sim, api) -> None:
    sim.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.url + "/ai/agents", timeout=5)
    sim.set_faults(drop_rate=0.0)
    assert api.get("/ai/agents").status_code == 200


def test_token_endpoint_is_in_scope_by_default(sim) -> None:
    sim.set_faults(burst=1)
    response = requests.post(sim.token_url, data={}, timeout=5)
    assert response.status_code == 503
    assert sim.token_requests() == 0  # it never reached the endpoint


def test_fault_paths_and_exclude_paths(sim, api) -> None:
    sim.set_faults(error_rate=1.0, fault_paths=["/ai/runs"])
    assert api.get("/ai/models").status_code == 200
    assert api.get("/ai/runs").status_code >= 429
    api.refresh()  # the token endpoint is out of scope now
    sim.set_faults(fault_paths=None, exclude_paths=["/auth/"])
    api.refresh()
    assert api.get("/ai/models").status_code >= 429


def test_cancel_after(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(time_scale=3000))  # Long: 10 steps of 0.1 s
    api = make_api(sim)
    sim.set_faults(cancel_after=500)  # simulated seconds: in step 2, 0.167 s real
    execution_id = api.start("m-long", agent="a1")
    record = api.wait_final(execution_id)
    assert record["status"] == "Cancelled"
    assert record["steps_done"] == 1
    snap = sim.execution(execution_id)
    assert snap["end_reason"] == "server_cancelled"
    assert snap["ended_at"] - snap["started_at"] == pytest.approx(500 / 3000, abs=1e-6)
    assert snap["aborted"] is False


def test_no_record_grace(sim, api) -> None:
    sim.set_faults(no_record_grace=0.3)
    execution_id = api.start("m-quick")
    assert api.get("/ai/runs", params={"execution_id": execution_id}).json() == []
    time.sleep(0.3)
    assert api.run(execution_id)["execution_id"] == execution_id


def test_faults_never_touch_the_python_api(sim, api) -> None:
    api.start("m-quick")
    sim.set_faults(error_rate=1.0, drop_rate=1.0, latency=1.0, burst=5)
    began = time.monotonic()
    assert len(sim.executions()) == 1
    assert sim.running_count() in (0, 1)
    sim.request_log()
    sim.issued_tokens()
    assert time.monotonic() - began < 0.5
    assert sim.faults.burst == 5


def test_clear_faults(sim, api) -> None:
    sim.set_faults(error_rate=1.0, burst=3, licence_exhausted=True)
    sim.clear_faults()
    assert sim.faults == Faults()
    assert api.get("/ai/models").status_code == 200


def test_set_faults_validates(sim) -> None:
    with pytest.raises(ValueError, match="error_rate: expected a number >= 0 and <= 1"):
        sim.set_faults(error_rate=3)
    with pytest.raises(ValueError, match="nonsense: unknown field"):
        sim.set_faults(nonsense=1)
    with pytest.raises(ValueError, match="error_statuses"):
        sim.set_faults(error_statuses=[200])
    assert sim.faults == Faults()


def test_faults_from_the_scenario(scenario_data) -> None:
    with DAISimulator(scenario_data(faults={"burst": 1, "burst_status": 502})) as sim:
        assert requests.get(sim.url + "/ai/models", timeout=5).status_code == 502
        assert requests.get(sim.url + "/ai/models", timeout=5).status_code == 401
    # the scenario's faults object is copied, not consumed
    assert sim.scenario.faults.burst == 1


def test_faults_keyword(scenario_data) -> None:
    with DAISimulator(scenario_data(), faults=Faults(licence_exhausted=True)) as sim:
        response = requests.post(
            sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
            },
            timeout=5,
        )
        assert response.status_code == 403


# -- fault_draw: per-execution draws (common random numbers) -----------------------------------


def statuses_of(api, execution_id: str, count: int) -> list[int]:
    return [
        api.get("/ai/runs", params={"execution_id": execution_id}).status_code for _ in range(count)
    ]


def test_per_execution_draws_depend_only_on_the_seed_and_the_count(sim, api) -> None:
    """Each execution meets the same faults at the same request count, whatever other
    requests (for other executions, or naming none) came in between."""
    first, second = api.start("m-quick"), api.start("m-quick")
    sim.set_faults(
        error_rate=0.3,
        error_statuses=[503],
        fault_draw="per_execution",
        seed=7,
        fault_paths=["/ai/runs"],
    )
    seen = statuses_of(api, first, 25)
    for _ in range(7):
        api.get("/ai/runs")  # names no execution: the shared generator, no count moved
    interleaved = []
    for _ in range(25):
        interleaved += statuses_of(api, second, 1)
        statuses_of(api, first, 1)
    assert interleaved == seen
    assert set(seen) == {200, 503}
    third = api.start("m-quick")
    sim.set_faults(seed=8)
    assert statuses_of(api, third, 25) != seen  # another seed, other faults


def test_per_execution_draws_count_the_executions_own_path(sim, api) -> None:
    execution_id = api.start("m-long")
    sim.set_faults(error_rate=0.5, fault_draw="per_execution", seed=1)
    faults = Faults(error_rate=0.5, fault_draw="per_execution", seed=1)
    reference = SimState(sim.scenario, faults, None, None)
    expected = [reference.fault_action(EXECUTIONS, "x") or 200 for _ in range(3)]
    got = [api.delete(f"{EXECUTIONS}/{execution_id}").status_code for _ in range(2)]
    got += statuses_of(api, execution_id, 1)
    assert [status if status >= 429 else 200 for status in got] == expected


def test_per_execution_draws_meet_the_rate(sim) -> None:
    """About ``error_rate`` of the requests fail, over the counts of one execution and over
    seeds at one count; every execution meets the same draw at the same count."""
    faults = Faults(error_rate=0.05, error_statuses=[503], fault_draw="per_execution", seed=16)
    state = SimState(sim.scenario, faults, None, None)
    one = [state.fault_action("/ai/runs", "e-1") for _ in range(4000)]
    assert 0.04 <= one.count(503) / 4000 <= 0.06
    assert set(one) == {None, 503}
    others = [state.fault_action("/ai/runs", f"e-{k}") for k in range(2, 40)]
    assert others == [one[0]] * 38  # each execution's first request meets the same draw
    again = [state.fault_action("/ai/runs", "e-2") for _ in range(3999)]
    assert again == one[1:]  # and its next ones e-1's next ones
    firsts = []
    for seed in range(4000):
        state.set_faults(seed=seed)
        firsts.append(state.fault_action("/ai/runs", f"s-{seed}"))
    assert 0.04 <= firsts.count(503) / 4000 <= 0.06


def test_fault_draw_is_shared_by_default_as_before(sim) -> None:
    """Off by default: one generator in order of arrival, as seeded (execution or not)."""
    assert Faults().fault_draw == "shared"
    state = SimState(
        sim.scenario,
        Faults(error_rate=0.5, error_statuses=[500, 503], seed=42),
        None,
        None,
    )
    got = [state.fault_action("/ai/runs", f"e-{k % 3}") for k in range(200)]
    rng = random.Random(42)
    expected = [rng.choice([500, 503]) if rng.random() < 0.5 else None for _ in range(200)]
    assert got == expected


def test_fault_draw_is_validated(sim, scenario_data) -> None:
    with pytest.raises(ValueError, match='fault_draw: expected one of "shared", "per_execution"'):
        sim.set_faults(fault_draw="per_request")
    assert sim.faults.fault_draw == "shared"
    with DAISimulator(scenario_data(faults={"fault_draw": "per_execution"})) as other:
        assert other.faults.fault_draw == "per_execution"


def test_per_execution_draws_follow_the_agents_fault_stream(
    start_sim, scenario_data, make_api
) -> None:
    """Runs on agents of one ``fault_stream`` meet the same faults at the same count; runs on
    agents of another stream (or of none) other ones: paired comparisons whose runs differ."""
    agents = [
        {"id": "plugin-1", "fault_stream": "row-1"},
        {"id": "fixed-1", "fault_stream": "row-1"},
        {"id": "plugin-2", "fault_stream": "row-2"},
        {"id": "plain"},
    ]
    sim = start_sim(scenario_data(agents=agents))
    sim.set_faults(
        error_rate=0.3, error_statuses=[503], fault_draw="per_execution", seed=5,
        fault_paths=["/ai/runs"],
    )  # fmt: skip
    api = make_api(sim)
    draws = {
        agent["id"]: statuses_of(api, api.start("m-long", agent["id"]), 40) for agent in agents
    }
    assert set(draws["plugin-1"]) == {200, 503}
    assert draws["fixed-1"] == draws["plugin-1"]
    assert draws["plugin-2"] != draws["plugin-1"]
    assert draws["plain"] not in (draws["plugin-1"], draws["plugin-2"])


def test_fault_stream_is_validated(scenario_data) -> None:
    with pytest.raises(ValueError, match=r"agents\[0\]\.fault_stream"):
        DAISimulator(scenario_data(agents=[{"id": "a", "fault_stream": 3}]))
