"""A test-config run's lifecycle, with ``responses``: finding our result (by task instance id,
else by start time with clock skew), the queued grace, the wait, and the abort's fallback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import responses

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIProtocolError
from pytest_dai.client.test_configs import TestConfig, TestConfigAPI
from pytest_dai.lifecycle.outcome import DAIRunTimeout
from pytest_dai.lifecycle.test_config_run import TestConfigResult

BASE = "http://dai.test:8000"
TOKEN_URL = BASE + "/auth/realms/eggplant/protocol/openid-connect/token"
RESULTS = BASE + "/api/v2/test_config_results"
TEST_RESULTS = BASE + "/api/v2/test_results"
TASK = BASE + "/task_scheduler_service/api/v1/task_instances/ti-1"
RUN_ABORTS = BASE + "/execution_service/api/v1/executions/"
CONFIG = TestConfig(id="tc-1", name="Nightly")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, json={"access_token": "tok-x1234", "expires_in": 300})
        # No one-result read here (E8 /{id}): polls read the list (see the test of that read).
        mock.add(responses.GET, re.compile(re.escape(RESULTS) + "/[^/]+$"), status=404)
        yield mock


@pytest.fixture
def api(rsps: responses.RequestsMock) -> Iterator[TestConfigAPI]:
    creds = Credentials("client-x", "secret-x1234", TOKEN_URL)
    with DAIClient(BASE, creds, attempts=2, backoff_factor=0, timeout=5) as client:
        yield TestConfigAPI(client)


def when(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def result(**fields: Any) -> dict[str, Any]:
    return {"test_config_id": "tc-1", "status": "RUNNING", **fields}


def make(api: TestConfigAPI, **kwargs: Any) -> TestConfigResult:
    return TestConfigResult(api, CONFIG, "ti-1", poll_interval=0.05, **kwargs)


def test_ours_is_the_one_with_our_task_instance_id(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(
        responses.GET,
        RESULTS,
        json=[
            result(id=3, task_instance_id="ti-other", start_time=when(0)),
            result(id=2, task_instance_id="ti-1", start_time=when(-1)),
        ],
    )
    assert make(api).refresh().id == "2"


def test_without_ids_the_newest_started_after_our_start_allowing_skew(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(
        responses.GET,
        RESULTS,
        json=[
            result(id=12, start_time=when(-5)),  # our clock 5 s ahead of the server's: ours
            result(id=11, start_time=when(-3600)),  # an hour old: someone else's
        ],
    )
    run = make(api).refresh()
    assert run.id == "12"
    # A second run of the same config started at the same time does not take the same result.
    assert make(api).refresh().id is None


def test_an_old_result_is_never_ours(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, RESULTS, json=[result(id=21, start_time=when(-60))])
    assert make(api).refresh().id is None


def test_no_result_within_the_grace_is_a_protocol_error(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.GET, RESULTS, json=[])
    run = make(api, record_grace=0.0)
    with pytest.raises(DAIProtocolError, match="no result for task instance ti-1"):
        run.refresh()


def test_wait_until_final_then_test_results(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.GET, RESULTS, json=[])
    rsps.add(responses.GET, RESULTS, json=[result(id=5, task_instance_id="ti-1", status="QUEUED")])
    rsps.add(
        responses.GET,
        RESULTS,
        json=[result(id=5, task_instance_id="ti-1", status="PASSED", end_time=when(0))],
    )
    rsps.add(
        responses.GET,
        TEST_RESULTS,
        json=[{"id": "tr-1", "status": "Passed", "test_case_name": "A"}],
    )
    ended: list[TestConfigResult] = []
    run = make(api, on_end=ended.append).wait(timeout=30)
    assert run.passed
    assert [tr.name for tr in run.test_results] == ["A"]
    assert ended == [run]
    assert run.polls == 3


def test_deadline_aborts_with_the_task_instance_delete(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.GET, RESULTS, json=[result(id=5, task_instance_id="ti-1")])
    rsps.add(responses.DELETE, TASK, status=204)
    run = make(api)
    with pytest.raises(DAIRunTimeout, match="passed its deadline"):
        run.wait(timeout=0.2)
    assert run.aborted
    assert run.abort_report == "aborted with DELETE task_instances/ti-1"
    assert [c.request.method for c in rsps.calls].count("DELETE") == 1


def test_abort_falls_back_to_e3_for_running_test_results(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.GET, RESULTS, json=[result(id=5, task_instance_id="ti-1")])
    rsps.add(responses.DELETE, TASK, status=405)
    rsps.add(
        responses.GET,
        TEST_RESULTS,
        json=[
            {"id": "a", "status": "Passed", "execution_id": "ex-a", "end_time": when(0)},
            {"id": "b", "status": "Running", "execution_id": "ex-b"},
        ],
    )
    rsps.add(responses.DELETE, RUN_ABORTS + "ex-b", status=204)
    run = make(api).refresh()
    assert run.abort() is True
    assert "aborted 1 running model execution(s) one by one" in run.abort_report
    deleted = [c.request.url for c in rsps.calls if c.request.method == "DELETE"]
    assert deleted == [TASK, RUN_ABORTS + "ex-b"]
    assert run.abort() is False  # once


def test_abort_that_cannot_reach_the_result_says_so(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.DELETE, TASK, status=404)
    run = make(api)
    assert run.abort() is False
    assert "could not abort" in run.abort_report


def test_a_start_whose_answer_was_lost_finds_its_run_and_aborts_it(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    import requests

    from pytest_dai.client.errors import DAIConnectionError
    from pytest_dai.lifecycle.session import DAISession

    configs = BASE + "/test_config_service/api/v1/test_configurations"
    rsps.add(responses.GET, configs, json=[{"id": "tc-1", "name": "Nightly"}])
    rsps.add(
        responses.POST,
        BASE + "/task_scheduler_service/api/v1/task_instances/tc-1",
        body=requests.exceptions.ConnectionError("Connection aborted"),
    )
    rsps.add(
        responses.GET,
        RESULTS,
        json=[
            result(id=31, task_instance_id="ti-lost", start_time=when(0)),
            result(id=30, task_instance_id="ti-old", start_time=when(-3600)),
            result(id=29, task_instance_id="ti-done", status="PASSED", end_time=when(-1)),
        ],
    )
    lost = BASE + "/task_scheduler_service/api/v1/task_instances/ti-lost"
    rsps.add(responses.DELETE, lost, status=204)
    session = DAISession(api.client)
    with pytest.raises(DAIConnectionError) as info:
        session.start_test_config("Nightly")
    message = str(info.value)
    assert message.startswith(f"starting the test configuration (POST {BASE}/task_scheduler")
    assert "result 31: aborted with DELETE task_instances/ti-lost" in message
    deleted = [c.request.url for c in rsps.calls if c.request.method == "DELETE"]
    assert deleted == [lost]


def test_a_start_refused_with_a_4xx_is_not_looked_for(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    from pytest_dai.client.errors import DAINotFoundError
    from pytest_dai.lifecycle.session import DAISession

    configs = BASE + "/test_config_service/api/v1/test_configurations"
    rsps.add(responses.GET, configs, json=[{"id": "tc-1", "name": "Nightly"}])
    rsps.add(
        responses.POST,
        BASE + "/task_scheduler_service/api/v1/task_instances/tc-1",
        json={"detail": "no"},
        status=404,
    )
    rsps.add(responses.GET, RESULTS, json=[])  # asked once before the start: E8 is there
    with pytest.raises(DAINotFoundError):
        DAISession(api.client).start_test_config("Nightly")
    urls = [c.request.url for c in rsps.calls]
    start = next(i for i, url in enumerate(urls) if url.startswith(TASK.rsplit("/", 1)[0]))
    assert not [url for url in urls[start:] if url.startswith(RESULTS)]
