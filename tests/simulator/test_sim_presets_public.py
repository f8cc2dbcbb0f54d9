"""The public API in the simulator's DAI presets (contract 2.7): ``dai74`` (public API v1 only,
no test-config results), ``dai26`` (its own auth, no Keycloak), paged lists with ``total_count``
that honour ``limit``, ``offset`` and pytest-dai's sort parameters (or not: ``public_unsorted``),
RFC 7807 error bodies, spaces on configs and the previous task instance of a re-run. Then the
real client against them over loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIError
from pytest_dai.client.test_configs import TestConfigAPI
from pytest_dai.simulator import DAISimulator

TASKS = "/task_scheduler_service/api/v1/task_instances"
CONFIGS = "/test_config_service/api/v1/test_configurations"

CONFIGS_DATA: list[dict[str, Any]] = [
    {"id": "tc-1", "name": "Nightly", "space": "Shared space", "runs": [{"model": "Quick"}]},
    {"id": "tc-2", "name": "Nightly", "space": "QA", "runs": [{"model": "Quick"}] * 2},
    {
        "id": "tc-old",
        "name": "Old runner",
        "runs": [{"model": "Quick"}, {"model": "Failing"}],
        "accepts_previous": False,
    },
]


@pytest.fixture
def sim_of(scenario_data: Any) -> Any:
    made: list[DAISimulator] = []

    def make(dialect: str) -> DAISimulator:
        sim = DAISimulator(scenario_data(test_configs=CONFIGS_DATA), dialect=dialect).start()
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.stop()


def session_of(sim: DAISimulator, *, v1: bool = False) -> requests.Session:
    session = requests.Session()
    url = sim.v2_auth_url.replace("/api/v2/", "/api/v1/") if v1 else sim.v2_auth_url
    answer = session.post(
        url, json={"client_id": sim.client_id, "client_secret": sim.client_secret}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    session.headers["Authorization"] = "Bearer " + answer.json()["access_token"]
    return session


def start_and_wait(session: requests.Session, sim: DAISimulator, config: str) -> str:
    answer = session.post(f"{sim.url}{TASKS}/{config}", timeout=5)
    assert answer.status_code == 201, answer.text
    task: str = answer.json()["task_instance_id"]
    deadline = time.monotonic() + 10
    while any(ex["ended_at"] is None for ex in sim.executions()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return task


# -- dai74 -------------------------------------------------------------------------------------


def test_dai74_serves_public_api_v1_only(sim_of: Any) -> None:
    sim = sim_of("dai74")
    assert requests.post(sim.v2_auth_url, json={}, timeout=5).status_code == 404
    session = session_of(sim, v1=True)
    start_and_wait(session, sim, "tc-1")
    for path in ("/api/v1/test_config_results", "/api/v2/test_config_results"):
        answer = session.get(sim.url + path, params={"test_config_id": "tc-1"}, timeout=5)
        assert answer.status_code == 404
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": None,
        }
    run_id = sim.executions()[0]["run_id"]
    listed = session.get(
        sim.url + "/api/v1/test_results", params={"test_config_result_id": "9001"}, timeout=5
    ).json()
    assert listed["total_count"] == 1
    assert [r["id"] for r in listed["items"]] == [run_id]
    assert session.get(sim.url + "/api/v2/test_results", timeout=5).status_code == 404
    logs = session.get(f"{sim.url}/api/v1/test_results/{run_id}/logs", timeout=5)
    assert logs.status_code == 200
    assert logs.json()["total_count"] >= 1


def test_dai74_401_is_an_rfc_7807_problem(sim_of: Any) -> None:
    sim = sim_of("dai74")
    answer = requests.get(sim.url + "/api/v1/test_results", timeout=5)
    assert answer.status_code == 401
    body = answer.json()
    assert body["title"] == "Unauthorized"
    assert body["status"] == 401
    assert set(body) == {"type", "title", "status", "detail"}


# -- dai26 -------------------------------------------------------------------------------------


def test_dai26_expects_its_own_auth(sim_of: Any) -> None:
    sim = sim_of("dai26")
    form = {"grant_type": "client_credentials", "client_id": sim.client_id}
    assert requests.post(sim.token_url, data=form, timeout=5).status_code == 404
    session = session_of(sim)
    assert session.get(sim.url + CONFIGS, timeout=5).status_code == 200


def test_paged_lists_honour_limit_offset_and_the_sort_asked(sim_of: Any) -> None:
    sim = sim_of("dai26")
    session = session_of(sim)
    tasks = [start_and_wait(session, sim, "tc-1") for _ in range(3)]
    url = sim.url + "/api/v2/test_config_results"
    newest = {"test_config_id": "tc-1", "sort_by": "start_time", "sort_order": "desc"}
    pages = [
        session.get(url, params={**newest, "limit": 2, "offset": offset}, timeout=5).json()
        for offset in (0, 2)
    ]
    assert [p["total_count"] for p in pages] == [3, 3]
    got = [r["task_instance_id"] for p in pages for r in p["items"]]
    assert got == tasks[::-1]
    oldest = session.get(url, params={"test_config_id": "tc-1"}, timeout=5).json()
    assert [r["task_instance_id"] for r in oldest["items"]] == tasks  # its own order
    listed = session.get(sim.url + CONFIGS, params={"limit": 1, "offset": 1}, timeout=5).json()
    assert listed["total_count"] == 3
    assert listed["items"] == [{"id": "tc-2", "name": "Nightly", "space_name": "QA"}]


def test_public_unsorted_ignores_the_sort_and_pages_by_five(sim_of: Any, make_api: Any) -> None:
    sim = sim_of("public_unsorted")
    api = make_api(sim)
    for _ in range(7):
        assert api.post(f"{TASKS}/tc-1").status_code == 201
    params = {"test_config_id": "tc-1", "sort_by": "start_time", "sort_order": "desc"}
    first = api.get("/api/v2/test_config_results", params={**params, "limit": 100}).json()
    assert first["total_count"] == 7
    assert [r["id"] for r in first["items"]] == [9001, 9002, 9003, 9004, 9005]


def test_a_rerun_reads_the_named_previous_task_instance(sim_of: Any) -> None:
    sim = sim_of("dai26")
    session = session_of(sim)
    first = start_and_wait(session, sim, "tc-old")
    body = {"filters": {"step_status_include": ["Failed"]}, "previous_task_instance_id": first}
    refused = session.post(f"{sim.url}{TASKS}/tc-old", json=body, timeout=5)
    assert refused.status_code == 422  # this config's server refuses it
    answer = session.post(f"{sim.url}{TASKS}/tc-2", json={**body}, timeout=5)
    assert answer.status_code == 201
    bad = session.post(f"{sim.url}{TASKS}/tc-2", json={"previous_task_instance_id": 7}, timeout=5)
    assert bad.status_code == 422


# -- the real client against them --------------------------------------------------------------


def client_of(sim: DAISimulator, *, scheme: str = "v2", version: str = "auto") -> DAIClient:
    url = sim.v2_auth_url if scheme == "v2" else sim.token_url
    creds = Credentials(sim.client_id, sim.client_secret, url, scheme=scheme)
    return DAIClient(sim.url, creds, attempts=2, backoff_factor=0, timeout=5, api_version=version)


@pytest.mark.parametrize("scheme", ["v2", "keycloak"])
def test_the_client_settles_on_v1_with_dai74_and_refuses_configs(sim_of: Any, scheme: str) -> None:
    sim = sim_of("dai74")
    with client_of(sim, scheme=scheme) as client:
        api = TestConfigAPI(client)
        start_and_wait_client(api, sim)
        run_id = sim.executions()[0]["run_id"]
        assert [e.message for e in api.test_result_logs(str(run_id))]
        assert client.api.version == "v1"
        with pytest.raises(DAIError) as info:
            api.check_results_api("tc-1")
    assert "needs DAI 7.5 or later" in str(info.value)
    assert not [r for r in sim.request_log() if r.path.startswith("/api/v2/test_results")][1:]


def start_and_wait_client(api: TestConfigAPI, sim: DAISimulator) -> None:
    api.start("tc-1")
    deadline = time.monotonic() + 10
    while any(ex["ended_at"] is None for ex in sim.executions()):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_the_client_reads_every_page_on_dai26(sim_of: Any) -> None:
    sim = sim_of("dai26")
    sim.set_dialect(public_page_size=2)
    with client_of(sim) as client:
        api = TestConfigAPI(client)
        tasks = [api.start("tc-2") for _ in range(5)]
        got = api.results("tc-2")
        assert sorted(r.task_instance_id or "" for r in got) == sorted(tasks)
        assert client.api.version == "v2"
        configs = api.list_test_configs()
        assert [(c.id, c.space) for c in configs] == [
            ("tc-1", "Shared space"),
            ("tc-2", "QA"),
            ("tc-old", None),
        ]
    reads = [r for r in sim.request_log() if r.path == "/api/v2/test_config_results"]
    assert len(reads) == 3  # five results, two a page
    assert all(r.query.get("sort_order") == "desc" for r in reads)
