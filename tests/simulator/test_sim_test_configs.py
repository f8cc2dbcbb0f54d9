"""Test configurations in the simulator: scenario, E7 to E11, E13, E14, the task-instance
abort, filters, late results and faults."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pytest_dai.simulator import DAISimulator, Scenario, ScenarioError

Api = Any  # the conftest's helper, given by the fixtures make_api and scenario_data

TASKS = "/task_scheduler_service/api/v1/task_instances"
RESULTS = "/api/v2/test_config_results"
TEST_RESULTS = "/api/v2/test_results"
CONFIGS = "/test_config_service/api/v1/test_configurations"

CONFIGS_DATA: list[dict[str, Any]] = [
    {
        "id": "tc-pass",
        "name": "Nightly",
        "model": "Quick",
        "agent": "a1",
        "runs": [{"model": "Quick"}, {"model": "m-cases", "test_case": 12}],
    },
    {"id": "tc-fail", "name": "Nightly", "suite": "S.suite", "runs": [{"model": "Failing"}]},
    {
        "id": "tc-late",
        "name": "Late",
        "runs": [{"model": "Quick"}],
        "result_delay": 0.3,
        "task_instance_in_results": False,
    },
    {
        "id": "tc-405",
        "name": "No task abort",
        "runs": [{"model": "Long"}],
        "task_abort": "405",
        "accepts_options": False,
        "junit": False,
    },
    {"id": "tc-flaky", "name": "Flaky", "runs": [{"model": "Quick"}, {"model": "Flaky"}]},
]


@pytest.fixture
def tsim(scenario_data: Any) -> Any:
    with DAISimulator(scenario_data(test_configs=CONFIGS_DATA)) as simulator:
        yield simulator


@pytest.fixture
def tapi(tsim: DAISimulator, make_api: Any) -> Any:
    return make_api(tsim)


def start(api: Api, config: str, **body: Any) -> str:
    response = api.post(f"{TASKS}/{config}", json=body or None)
    assert response.status_code == 201, response.text
    return str(response.json()["task_instance_id"])


def results(api: Api, config: str) -> list[dict[str, Any]]:
    response = api.get(RESULTS, params={"test_config_id": config})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()
    return data


def wait_result(api: Api, config: str, task: str | None = None, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in results(api, config) if task is None or r["task_instance_id"] == task]
        if found and found[0]["end_time"] is not None:
            return found[0]
        assert time.monotonic() < deadline, found
        time.sleep(0.02)


def test_listing_names_models_and_suites(tapi: Api) -> None:
    listed = tapi.get(CONFIGS).json()
    assert {"id": "tc-pass", "name": "Nightly", "model_name": "Quick"} in listed
    assert {"id": "tc-fail", "name": "Nightly", "suite_name": "S.suite"} in listed


def test_passing_config_and_its_test_results(tapi: Api) -> None:
    task = start(tapi, "tc-pass")
    record = wait_result(tapi, "tc-pass", task)
    assert record["status"] == "PASSED"
    assert record["start_time"] is not None
    tests = tapi.get(TEST_RESULTS, params={"test_config_result_id": record["id"]}).json()
    assert [t["test_case_name"] for t in tests] == ["Quick", "Case twelve"]
    assert all(t["status"] == "Passed" for t in tests)
    logs = tapi.get(f"{TEST_RESULTS}/{tests[0]['id']}/logs", params={"limit": 1000}).json()
    assert logs["items"]
    junit = tapi.get(f"{RESULTS}/{record['id']}/junit")
    assert junit.status_code == 200
    assert len(ET.fromstring(junit.content).findall("testcase")) == 2


def test_failing_config_has_a_failed_test_result_and_screenshot(tapi: Api) -> None:
    record = wait_result(tapi, "tc-fail", start(tapi, "tc-fail"))
    assert record["status"] == "FAILED"
    (test,) = tapi.get(TEST_RESULTS, params={"test_config_result_id": record["id"]}).json()
    assert test["status"] == "Failed"
    shots = tapi.get(f"{TEST_RESULTS}/{test['id']}/screenshots").json()
    assert shots
    assert shots[0]["id"]
    # The log names the same images, and E12 serves each one.
    logs = tapi.get(f"{TEST_RESULTS}/{test['id']}/logs", params={"limit": 1000}).json()
    named = [entry["image_id"] for entry in logs["items"] if entry.get("image_id")]
    assert named == [shot["id"] for shot in shots]
    image = tapi.get(f"/api/v2/screenshots/{shots[-1]['id']}")
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_late_result_without_task_instance_id(tapi: Api) -> None:
    start(tapi, "tc-late")
    assert results(tapi, "tc-late") == []
    record = wait_result(tapi, "tc-late")
    assert "task_instance_id" not in record


def test_task_instance_abort_cancels(tapi: Api, tsim: DAISimulator) -> None:
    task = start(tapi, "tc-pass")
    assert tapi.delete(f"{TASKS}/{task}").status_code == 204
    assert wait_result(tapi, "tc-pass", task)["status"] == "CANCELLED"
    assert tapi.delete(f"{TASKS}/{task}").status_code == 404
    assert tapi.delete(f"{TASKS}/unknown").status_code == 404


def test_no_task_abort_no_options_no_junit(tapi: Api) -> None:
    task = start(tapi, "tc-405")
    assert tapi.delete(f"{TASKS}/{task}").status_code == 405
    refused = tapi.post(f"{TASKS}/tc-405", json={"parameters": [{"name": "a", "value": 1}]})
    assert refused.status_code == 422
    (record,) = results(tapi, "tc-405")
    (test,) = tapi.get(TEST_RESULTS, params={"test_config_result_id": record["id"]}).json()
    # the fallback: E3 on the test result's execution
    execution = test["execution_id"]
    assert tapi.delete(f"/execution_service/api/v1/executions/{execution}").status_code == 204
    final = wait_result(tapi, "tc-405")
    assert final["status"] == "CANCELLED"
    assert tapi.get(f"{RESULTS}/{final['id']}/junit").status_code == 404


def test_rerun_of_failed_steps_filter(tapi: Api) -> None:
    first = wait_result(tapi, "tc-flaky", start(tapi, "tc-flaky"))
    assert first["status"] == "FAILED"
    task = start(tapi, "tc-flaky", filters={"step_status_include": ["Failed", "Error"]})
    second = wait_result(tapi, "tc-flaky", task)
    assert second["status"] == "PASSED"
    tests = tapi.get(TEST_RESULTS, params={"test_config_result_id": second["id"]}).json()
    assert [t["test_case_name"] for t in tests] == ["Flaky"]


def test_parameters_are_accepted_and_recorded(tapi: Api, tsim: DAISimulator) -> None:
    start(tapi, "tc-pass", parameters=[{"name": "username", "value": "Lily"}])
    (sent,) = [r for r in tsim.request_log() if r.method == "POST" and r.path.startswith(TASKS)]
    assert sent.body == {"parameters": [{"name": "username", "value": "Lily"}]}
    bad = tapi.post(f"{TASKS}/tc-pass", json={"parameters": "x"})
    assert bad.status_code == 422


def test_unknown_config_and_auth(tapi: Api, tsim: DAISimulator) -> None:
    assert tapi.post(f"{TASKS}/nope").status_code == 404
    import requests

    assert requests.get(tsim.url + RESULTS, timeout=5).status_code == 401
    assert tapi.request("PUT", RESULTS).status_code == 405


def test_faults_apply_to_test_config_routes(tsim: DAISimulator, tapi: Api) -> None:
    tsim.set_faults(burst=1, burst_status=503, fault_paths=[TASKS])
    assert tapi.post(f"{TASKS}/tc-pass").status_code == 503
    assert tapi.post(f"{TASKS}/tc-pass").status_code == 201


def test_envelope_dialect(tsim: DAISimulator, tapi: Api) -> None:
    tsim.set_dialect(envelope="items")
    assert "items" in tapi.get(CONFIGS).json()


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"id": "x", "name": "X", "runs": [{"model": "nope"}]}, "runs[0].model: unknown model"),
        ({"id": "x", "name": "X", "runs": [{"model": "Quick", "test_case": 99}]}, "test_case"),
        ({"id": "x", "name": "X", "runs": [], "bogus": 1}, "bogus"),
        ({"id": "x", "name": "X", "runs": [{"model": "Quick"}], "agent": "zz"}, "agent"),
    ],
)
def test_scenario_errors_name_the_field(
    config: dict[str, Any], problem: str, scenario_data: Any
) -> None:
    with pytest.raises(ScenarioError, match=r"test_configs\[0\]") as info:
        Scenario.from_dict(scenario_data(test_configs=[config]))
    assert problem in str(info.value)


def test_default_scenario_has_test_configs() -> None:
    names = [config.name for config in Scenario.default().test_configs]
    assert "Nightly shop" in names
    assert names.count("Smoke") == 2
