"""HTTP routes of test configurations in the DAI simulator: E7 to E11, E13, E14 and the
task-instance abort (contract section 2.6). The state and the scenario schema are in
:mod:`pytest_dai.simulator.test_configs`; :func:`route` is called by the server for every
request before its own routes, and answers None for paths that are not these.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.answers import (
    Response,
    detail,
    extra,
    iso_time,
    json_response,
    method_not_allowed,
)
from pytest_dai.simulator.engine import NotFound
from pytest_dai.simulator.public_api import listing
from pytest_dai.simulator.screenshots import screenshot_records, with_images
from pytest_dai.simulator.test_configs import SEVERITY

if TYPE_CHECKING:
    from pytest_dai.simulator.dialects import Dialect
    from pytest_dai.simulator.runs import SimRun
    from pytest_dai.simulator.specs import RunRef, SimTestConfigSpec
    from pytest_dai.simulator.state import SimState
    from pytest_dai.simulator.test_configs import TestConfigRun

__all__ = ["route"]

TASKS_PREFIX = "/task_scheduler_service/api/v1/task_instances/"
RESULTS_PATH = "/api/v2/test_config_results"
TEST_RESULTS_PATH = "/api/v2/test_results"
CONFIGS_PATH = "/test_config_service/api/v1/test_configurations"


def route(
    state: SimState, method: str, path: str, query: dict[str, str], raw: bytes, auth: str | None
) -> Response | None:
    """Answer a test-config request, or None when ``path`` is not one of ours."""
    if path.startswith(TASKS_PREFIX) and path.count("/") == 5:
        allowed: tuple[str, ...] = ("POST", "DELETE")
    elif path in (RESULTS_PATH, TEST_RESULTS_PATH, CONFIGS_PATH) or (
        path.startswith((RESULTS_PATH + "/", TEST_RESULTS_PATH + "/"))
    ):
        allowed = ("GET",)
    else:
        return None
    if method not in allowed:
        return method_not_allowed(*allowed)
    problem = state.auth_problem(auth)
    if problem is not None:
        return detail(401, problem, [("WWW-Authenticate", "Bearer")])
    with state.lock:
        dialect = state.dialect
        state.engine.advance(time.time())
        return _answer(state, method, path, query, raw, dialect)


def _answer(
    state: SimState, method: str, path: str, query: dict[str, str], raw: bytes, dialect: Dialect
) -> Response:
    configs = state.test_configs
    if path.startswith(TASKS_PREFIX):
        key = path[len(TASKS_PREFIX) :]
        return _start(state, key, raw) if method == "POST" else _abort(state, key)
    if path == CONFIGS_PATH:
        return listing([_config_record(c) for c in configs.configs], query, dialect)
    if path == RESULTS_PATH:
        now = time.time()
        wanted = query.get("test_config_id")
        runs = [
            r
            for r in reversed(configs.runs)
            if now >= r.visible_at and (wanted is None or r.spec.id == wanted)
        ]
        records = [_result_record(r, dialect) for r in runs]
        return listing(records, query, dialect, newest_first=True)
    if path == TEST_RESULTS_PATH:
        found = configs.by_result(query.get("test_config_result_id", ""))
        if found is None:
            return listing([], query, dialect)
        records = [_test_result(ref, ex, dialect) for ref, ex in found.executions]
        return listing(records, query, dialect)
    parts = path.split("/")  # "", "api", "v2", kind, id, what
    if len(parts) == 5 and parts[3] == "test_config_results":  # one result (DAI 7.5+)
        run = configs.by_result(parts[4])
        if run is None or time.time() < run.visible_at or not dialect.one_result:
            return detail(404, f"Test config result {parts[4]} not found")
        return json_response(200, _result_record(run, dialect))
    if len(parts) != 6:
        return detail(404, "Not Found")
    kind, key, what = parts[3], parts[4], parts[5]
    if kind == "test_config_results" and what == "junit":
        run = configs.by_result(key)
        if run is None or not run.spec.junit or run.status() not in SEVERITY:
            return detail(404, f"No JUnit report for result {key}")
        return _junit(run)
    execution = configs.by_test_result(key) if kind == "test_results" else None
    if execution is None or what not in ("logs", "screenshots"):
        return detail(404, f"Test result {key} not found")
    if what == "logs":
        return _logs(state, execution, query, dialect)
    return listing(screenshot_records(execution, time.time()), query, dialect)


def _config_record(config: SimTestConfigSpec) -> dict[str, Any]:
    """A test configuration as E14 lists it."""
    return {
        "id": config.id,
        "name": config.name,
        **({"model_name": config.model} if config.model else {}),
        **({"suite_name": config.suite} if config.suite else {}),
        **({"space_name": config.space} if config.space else {}),
    }


def _logs(state: SimState, execution: SimRun, query: dict[str, str], dialect: Dialect) -> Response:
    """E10: a test result's log."""
    from pytest_dai.simulator.runlog import render_log

    now = time.time()
    entries = with_images(execution, state.engine.log_entries(execution, now), now)
    limit = int(query["limit"]) if query.get("limit", "").isdigit() else len(entries)
    if dialect.public_paged:  # the paging is the listing's
        limit = len(entries)
    items = [
        extra(item, dialect)
        for item in render_log(entries, run_id=execution.run_id, dialect=dialect, limit=limit)
    ]
    return listing(items, query, dialect, key=dialect.envelope or "items")


def _start(state: SimState, key: str, raw: bytes) -> Response:
    spec = state.test_configs.config(key)
    if spec is None:
        return detail(404, f"Test configuration '{key}' not found")
    body: dict[str, Any] | None = None
    if raw.strip():
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return detail(422, [{"type": "json_invalid", "loc": ["body"], "msg": "bad JSON"}])
        if not spec.accepts_options or (
            isinstance(data, dict)
            and "previous_task_instance_id" in data
            and not spec.accepts_previous
        ):
            return detail(422, "Extra inputs are not permitted")
        problem = _check_body(data)
        if problem:
            return detail(422, [{"type": "value_error", "loc": ["body"], "msg": problem}])
        body = data
    try:
        run = state.test_configs.start(state.engine, spec, body, state.faults)
    except NotFound as exc:
        return detail(404, exc.detail)
    return json_response(201, {"task_instance_id": run.task_instance_id})


def _check_body(data: Any) -> str:
    if not isinstance(data, dict) or set(data) - {
        "parameters",
        "filters",
        "previous_task_instance_id",
    }:
        return "expected an object with parameters, filters and/or previous_task_instance_id"
    previous = data.get("previous_task_instance_id")
    if previous is not None and (not isinstance(previous, str) or not previous):
        return "previous_task_instance_id: expected a task instance id"
    params = data.get("parameters", [])
    if not isinstance(params, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) and "value" in p for p in params
    ):
        return "parameters: expected a list of {name, value}"
    filters = data.get("filters", {})
    if not isinstance(filters, dict) or not all(
        isinstance(v, list) and all(isinstance(w, str) for w in v) for v in filters.values()
    ):
        return "filters: expected an object of lists of strings"
    return ""


def _abort(state: SimState, key: str) -> Response:
    run = state.test_configs.find(key)
    if run is not None and run.spec.task_abort == "405":
        return method_not_allowed("POST")
    if run is None or run.spec.task_abort == "404":
        return detail(404, f"Task instance '{key}' not found")
    if run.status() in SEVERITY:
        return detail(404, f"Task instance '{key}' has already finished")
    run.abort_requested = True
    now = time.time()
    for _, execution in run.executions:
        if execution.ended_at is None:
            state.engine.abort(execution.uuid, now)
    return Response(204)


def _result_record(run: TestConfigRun, dialect: Dialect) -> dict[str, Any]:
    start, end = run.times()
    record: dict[str, Any] = {
        "id": run.result_id,
        "test_config_id": run.spec.id,
        "status": dialect.status_word(run.status()).upper(),
        "start_time": iso_time(start),
        "end_time": iso_time(end),
    }
    if run.spec.task_instance_in_results:
        record["task_instance_id"] = run.task_instance_id
    return extra(record, dialect)


def _test_result(ref: RunRef, execution: SimRun, dialect: Dialect) -> dict[str, Any]:
    return extra(
        {
            "id": execution.run_id,
            "status": dialect.status_word(execution.status),
            "test_case_name": ref.name,
            "model_name": execution.model.name,
            "execution_id": execution.uuid,
            "agent_name": execution.agent.spec.name if execution.agent is not None else None,
            "start_time": iso_time(execution.started_at),
            "end_time": iso_time(execution.ended_at),
        },
        dialect,
    )


def _junit(run: TestConfigRun) -> Response:
    suite = ET.Element("testsuite", {"name": run.spec.name, "tests": str(len(run.executions))})
    for ref, execution in run.executions:
        case = ET.SubElement(suite, "testcase", {"classname": run.spec.name, "name": ref.name})
        if execution.status == "Failed":
            ET.SubElement(case, "failure", {"message": "test case failed"})
        elif execution.status != "Passed":
            ET.SubElement(case, "error", {"message": execution.status})
    body = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return Response(200, body, "application/xml")
