"""Test-configuration endpoints (E7 to E11, E13, E14, the task-instance abort): bodies, paths,
tolerance, errors."""

from __future__ import annotations

import json

import pytest
import responses

from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIHTTPError, DAINotFoundError, DAIProtocolError
from pytest_dai.client.safety import path_id
from pytest_dai.client.status import RunState
from pytest_dai.client.test_configs import (
    DAIBodyRefused,
    TestConfigAPI,
    TestConfigResultRecord,
    TestResultRecord,
)

from .support import BASE, Reply, ScriptedServer, assert_dai_message, assert_no_secret

TASKS = BASE + "/task_scheduler_service/api/v1/task_instances"
RESULTS = BASE + "/api/v2/test_config_results"
TEST_RESULTS = BASE + "/api/v2/test_results"
CONFIGS = BASE + "/test_config_service/api/v1/test_configurations"


@pytest.fixture
def api(client: DAIClient) -> TestConfigAPI:
    return TestConfigAPI(client)


def test_start_without_options_sends_no_body(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.POST, TASKS + "/tc-1", json={"task_instance_id": "ti-9"}, status=201)
    assert api.start("tc-1") == "ti-9"
    sent = [c for c in rsps.calls if c.request.url.startswith(TASKS)]
    assert len(sent) == 1
    assert not sent[0].request.body


def test_start_with_parameters_and_filters(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.POST, TASKS + "/7", json={"task_instance_id": 12}, status=200)
    got = api.start(
        "7",
        parameters={"username": "Lily"},
        filters={"step_status_include": ["Failed", "Error"]},
    )
    assert got == "12"
    body = json.loads(next(c for c in rsps.calls if "task_instances" in c.request.url).request.body)
    assert body == {
        "parameters": [{"name": "username", "value": "Lily"}],
        "filters": {"step_status_include": ["Failed", "Error"]},
    }


@pytest.mark.parametrize("status", [400, 422])
def test_start_body_refused_is_one_clear_line(
    api: TestConfigAPI, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.add(responses.POST, TASKS + "/7", json={"detail": "extra fields"}, status=status)
    with pytest.raises(DAIBodyRefused) as info:
        api.start("7", parameters={"a": "1"})
    assert_dai_message(
        info.value, f"starting the test configuration (POST {TASKS}/7)", "does not accept parameter"
    )
    assert_no_secret(info.value)
    # never retried without the body
    assert len([c for c in rsps.calls if "task_instances" in c.request.url]) == 1


def test_start_unknown_config_is_not_found(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.POST, TASKS + "/nope", json={"detail": "no such config"}, status=404)
    with pytest.raises(DAINotFoundError) as info:
        api.start("nope")
    assert_dai_message(info.value, f"starting the test configuration (POST {TASKS}/nope): 404")


def test_start_answer_without_id_names_the_field(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.POST, TASKS + "/7", json={"ok": True}, status=201)
    with pytest.raises(DAIProtocolError) as info:
        api.start("7")
    assert_dai_message(info.value, "starting the test configuration (POST ", "task_instance_id")


@pytest.mark.parametrize("bad", ["a/b", "..", "x?y", "x#y", "", "a\\b", "a\nb"])
def test_ids_in_paths_are_refused(bad: str) -> None:
    with pytest.raises(DAIProtocolError):
        path_id(bad, endpoint="E10", field="id")


def test_ids_in_paths_are_percent_encoded() -> None:
    assert path_id("a b%c", endpoint="E10", field="id") == "a%20b%25c"
    assert path_id(42, endpoint="E10", field="id") == "42"


@pytest.mark.parametrize("envelope", [None, "items", "results", "data"])
def test_results_bare_or_enveloped(
    api: TestConfigAPI, rsps: responses.RequestsMock, envelope: str | None
) -> None:
    items = [
        {
            "id": 501,
            "test_config_id": "7",
            "status": "RUNNING",
            "start_time": "2026-11-28 10:00:00.5+01",
            "task_instance_id": "ti-1",
            "unknown": {"nested": [1]},
        }
    ]
    payload: object = items if envelope is None else {envelope: items, "total": 1}
    rsps.add(responses.GET, RESULTS, json=payload)
    (record,) = api.results("7")
    assert record.id == "501"
    assert record.status.state is RunState.RUNNING
    assert record.task_instance_id == "ti-1"
    assert record.started_at is not None
    assert record.started_at.utcoffset() is not None
    assert rsps.calls[-1].request.params["test_config_id"] == "7"


def test_result_without_status_names_endpoint_and_field() -> None:
    with pytest.raises(DAIProtocolError) as info:
        TestConfigResultRecord.parse({"id": 1})
    assert_dai_message(info.value, "reading the test configuration's results (GET ", "status")
    with pytest.raises(DAIProtocolError) as info:
        TestResultRecord.parse({"status": "Passed"})
    assert_dai_message(info.value, "reading the test case results (GET ", "id")


def test_unknown_word_with_end_time_is_final_error() -> None:
    record = TestConfigResultRecord.parse(
        {"id": 1, "status": "Weird", "end_time": "2026-11-28T10:00:00Z"}
    )
    assert record.status.state is RunState.ERROR
    assert not record.status.known


def test_test_results_fields_and_duration(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    rsps.add(
        responses.GET,
        TEST_RESULTS,
        json={
            "items": [
                {
                    "id": "tr-1",
                    "status": "Failed",
                    "test_case_name": "Login",
                    "model_name": "Shop",
                    "execution_id": "ex-1",
                    "start_time": "2026-11-28T10:00:00Z",
                    "end_time": "2026-11-28T10:00:30Z",
                }
            ]
        },
    )
    (tr,) = api.test_results("501")
    assert (tr.id, tr.name, tr.model, tr.execution_id) == ("tr-1", "Login", "Shop", "ex-1")
    assert tr.status.state is RunState.FAILED
    assert tr.duration == 30.0


def test_logs_screenshots_junit(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    rsps.add(
        responses.GET,
        TEST_RESULTS + "/tr%201/logs",
        json={"items": [{"message": "Card declined", "severity": "ERROR"}], "total_count": 1},
    )
    rsps.add(responses.GET, TEST_RESULTS + "/tr%201/screenshots", json=[{"id": "img-1"}, {}])
    rsps.add(responses.GET, RESULTS + "/501/junit", body="<testsuites/>", status=200)
    rsps.add(responses.GET, RESULTS + "/502/junit", json={"detail": "none"}, status=404)
    (entry,) = api.test_result_logs("tr 1")
    assert entry.message == "Card declined"
    assert api.test_result_screenshots("tr 1") == [{"id": "img-1"}]
    assert api.junit("501") == "<testsuites/>"
    assert api.junit("502") is None


def test_list_test_configs(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    rsps.add(
        responses.GET,
        CONFIGS,
        json=[
            {"id": "7", "name": "Nightly", "model_name": "Shop"},
            {"id": 8, "name": "Nightly", "suite": {"name": "Suites/Shop.suite"}},
        ],
    )
    configs = api.list_test_configs()
    assert [(c.id, c.name, c.model, c.suite) for c in configs] == [
        ("7", "Nightly", "Shop", None),
        ("8", "Nightly", None, "Suites/Shop.suite"),
    ]


def test_abort_answers(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    rsps.add(responses.DELETE, TASKS + "/ti-1", status=204)
    rsps.add(responses.DELETE, TASKS + "/ti-2", json={"detail": "Not Found"}, status=404)
    rsps.add(responses.DELETE, TASKS + "/ti-3", json={"detail": "Method Not Allowed"}, status=405)
    rsps.add(responses.DELETE, TASKS + "/ti-4", json={"detail": "already finished"}, status=422)
    rsps.add(responses.DELETE, TASKS + "/ti-5", json={"detail": "nope"}, status=403)
    assert api.abort("ti-1") is True
    assert api.abort("ti-2") is None
    assert api.abort("ti-3") is None
    assert api.abort("ti-4") is False
    with pytest.raises(DAIHTTPError):
        api.abort("ti-5")


def test_start_retries_one_500_only(server: ScriptedServer) -> None:
    path = "/task_scheduler_service/api/v1/task_instances/7"
    server.add("POST", path, Reply(500, {"detail": "boom"}), Reply(201, {"task_instance_id": "t"}))
    client = DAIClient(server.url, server.credentials(), attempts=3, backoff_factor=0, timeout=5)
    assert TestConfigAPI(client).start("7") == "t"
    assert len(server.requests("POST", path)) == 2

    other = "/task_scheduler_service/api/v1/task_instances/8"
    server.add("POST", other, Reply(500, {"detail": "boom"}))
    with pytest.raises(DAIHTTPError) as info:
        TestConfigAPI(client).start("8")
    assert info.value.status == 500
    assert len(server.requests("POST", other)) == 2
