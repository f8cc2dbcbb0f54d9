"""Server life: start, stop, restart on the same port, concurrency, the request log."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from pytest_dai.simulator import DAISimulator, RequestRecord

EXECUTIONS = "/execution_service/api/v1/executions"


def test_addresses(sim) -> None:
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    assert not sim.url.endswith("/")
    assert sim.realm == "testrealm"
    assert sim.client_id == "client:dai:agent:test"
    assert sim.client_secret == "s3cret-test"
    assert sim.running


def test_port_unknown_before_start(scenario_data) -> None:
    sim = DAISimulator(scenario_data())
    with pytest.raises(RuntimeError, match="not been started"):
        _ = sim.url
    sim.stop()  # stopping a never-started simulator is fine


def test_default_scenario_serves() -> None:
    with DAISimulator() as sim:
        assert sim.realm == "eggplant"
        response = requests.post(
            sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
            },
            timeout=5,
        )
        assert response.json()["expires_in"] == 300


def test_stop_is_idempotent_and_refuses_connections(scenario_data) -> None:
    sim = DAISimulator(scenario_data()).start()
    url = sim.url
    sim.stop()
    sim.stop()
    assert not sim.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/ai/models", timeout=2)


def test_restart_keeps_state_and_port(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(time_scale=3000))  # Long: 10 steps of 0.1 s
    api = make_api(sim)
    port = sim.port
    execution_id = api.start("m-long", agent="a1")
    time.sleep(0.05)
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        api.get("/ai/models")  # the kept-alive connection was closed too
    time.sleep(0.2)  # the run goes on by time while the server is down
    sim.start()
    assert sim.port == port
    record = api.run(execution_id)  # the old token is still valid
    assert record["status"] == "Running"
    assert record["steps_done"] >= 2
    assert len(sim.executions()) == 1
    assert api.abort(execution_id).status_code == 204


def test_start_twice_is_a_no_op(sim) -> None:
    port = sim.port
    assert sim.start() is sim
    assert sim.port == port


def test_fixed_port(scenario_data) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with DAISimulator(scenario_data(), port=port) as sim:
        assert sim.url == f"http://127.0.0.1:{port}"


@pytest.mark.slow
def test_32_concurrent_pollers(sim, api) -> None:
    execution_ids = [api.start("m-long") for _ in range(4)]
    token = api.session.headers["Authorization"]
    errors: list[str] = []
    counts: list[int] = []
    stop_at = time.monotonic() + 1.5

    def poll(index: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = token
        done = 0
        try:
            while time.monotonic() < stop_at:
                execution_id = execution_ids[index % len(execution_ids)]
                response = session.get(
                    sim.url + "/ai/runs", params={"execution_id": execution_id}, timeout=10
                )
                if response.status_code != 200 or len(response.json()) != 1:
                    errors.append(f"{response.status_code} {response.text[:100]}")
                done += 1
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        counts.append(done)

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(counts) == 32
    assert all(count > 0 for count in counts)


def test_request_log(sim, api) -> None:
    sim.clear_log()
    api.get("/ai/runs", params={"execution_id": "x", "limit": "5"})
    api.start("m-quick")
    log = sim.request_log()
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/ai/runs", 200),
        ("POST", EXECUTIONS, 201),
    ]
    assert log[0].query == {"execution_id": "x", "limit": "5"}
    assert log[0].body is None
    assert log[1].body["model_id"] == "m-quick"
    assert isinstance(log[0], RequestRecord)
    assert abs(log[0].time - time.time()) < 5
    log.clear()  # a copy
    assert len(sim.request_log()) == 2
    sim.clear_log()
    assert sim.request_log() == []


def test_token_form_body_is_not_logged(sim, api) -> None:
    token_records = [r for r in sim.request_log() if r.path.startswith("/auth/")]
    assert token_records
    assert all(r.body is None for r in token_records)


def test_python_api_is_independent_of_the_client() -> None:
    import pytest_dai.simulator as package

    source = "".join(
        path.read_text()
        for path in __import__("pathlib").Path(package.__file__).parent.glob("*.py")
    )
    for layer in ("client", "lifecycle", "glue", "plugin"):
        assert f"pytest_dai.{layer}" not in source
    assert "import pytest" not in source
