"""Success and error answers of E1 to E6, and HTTP/1.1 basics."""

from __future__ import annotations

import http.client
import json
import re

import pytest

EXECUTIONS = "/execution_service/api/v1/executions"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_start_response(sim, api) -> None:
    response = api.post(EXECUTIONS, json={"execution_type": "executing", "model_id": "m-quick"})
    assert response.status_code == 201
    body = response.json()
    assert body["model_id"] == "m-quick"
    assert body["status"] == "Queued"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"])
    snap = sim.execution(body["id"])
    assert snap is not None
    assert snap["agent_id"] is None  # agent null: no agent (contract 2.1), not "the server picks"
    record = sim.request_log()[-1]
    assert record.method == "POST"
    assert record.path == EXECUTIONS
    assert record.status == 201
    assert record.body == {"execution_type": "executing", "model_id": "m-quick"}


def test_start_with_every_field(sim, api) -> None:
    body = {
        "execution_type": "executing",
        "model_id": "m-cases",
        "agent": {"agent_id": "a2", "is_hosted_agent": True},
        "test_case_id": 12,
        "sut": {"sut_id": "sut-1", "criteria": ["web", "chrome"]},
        "step_pause_time": 0,
    }
    response = api.post(EXECUTIONS, json=body)
    assert response.status_code == 201
    snap = sim.execution(response.json()["id"])
    assert snap["agent_id"] == "a2"
    assert snap["test_case_id"] == 12


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"model_id": "m-quick"}, ["body", "execution_type"], "missing"),
        (
            {"execution_type": "exploring", "model_id": "m-quick"},
            ["body", "execution_type"],
            "literal_error",
        ),
        ({"execution_type": "executing"}, ["body", "model_id"], "missing"),
        ({"execution_type": "executing", "model_id": 5}, ["body", "model_id"], "string_type"),
        (
            {"execution_type": "executing", "model_id": "m-quick", "agent": "a1"},
            ["body", "agent"],
            "model_attributes_type",
        ),
        (
            {"execution_type": "executing", "model_id": "m-quick", "agent": {}},
            ["body", "agent", "agent_id"],
            "missing",
        ),
        (
            {"execution_type": "executing", "model_id": "m-quick", "test_case_id": "twelve"},
            ["body", "test_case_id"],
            "int_type",
        ),
        (
            {"execution_type": "executing", "model_id": "m-quick", "step_pause_time": -1},
            ["body", "step_pause_time"],
            "greater_than_equal",
        ),
        ([1, 2], ["body"], "model_attributes_type"),
    ],
)
def test_start_422(sim, api, body, loc, kind) -> None:
    response = api.post(EXECUTIONS, json=body)
    assert response.status_code == 422
    details = response.json()["detail"]
    assert isinstance(details, list)
    assert {"loc": loc, "type": kind} in [{"loc": d["loc"], "type": d["type"]} for d in details]
    assert all("msg" in d for d in details)
    assert sim.executions() == []


def test_start_not_json(sim, api) -> None:
    response = api.post(EXECUTIONS, data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"model_id": "nope"}, "Model with id 'nope' not found"),
        (
            {"model_id": "m-quick", "agent": {"agent_id": "ghost"}},
            "Agent with id 'ghost' not found",
        ),
        ({"model_id": "m-cases", "test_case_id": 99}, "Test case 99 not found"),
        ({"model_id": "m-quick", "rerun_id": 1}, "Run 1 not found"),
    ],
)
def test_start_404(sim, api, fields, detail) -> None:
    response = api.post(EXECUTIONS, json={"execution_type": "executing", **fields})
    assert response.status_code == 404
    assert detail in response.json()["detail"]


def test_runs_filter_and_paging(sim, api) -> None:
    ids = [api.start("m-quick") for _ in range(3)]
    everything = api.get("/ai/runs").json()
    assert [r["execution_id"] for r in everything] == ids[::-1]  # newest first
    one = api.get("/ai/runs", params={"execution_id": ids[1]}).json()
    assert [r["execution_id"] for r in one] == [ids[1]]
    page = api.get("/ai/runs", params={"limit": 1, "offset": 1}).json()
    assert [r["execution_id"] for r in page] == [ids[1]]
    assert api.get("/ai/runs", params={"execution_id": "unknown"}).json() == []
    bad = api.get("/ai/runs", params={"limit": "ten"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "limit"]


def test_run_record_fields(sim, api) -> None:
    execution_id = api.start("m-quick", agent="a1")
    record = api.run(execution_id)
    assert set(record) >= {
        "id",
        "execution_id",
        "model_id",
        "modelname",
        "agentname",
        "initiator",
        "status",
        "starttime",
        "endtime",
        "steps_total",
        "steps_done",
        "steps_failed",
    }
    assert record["modelname"] == "Quick"
    assert record["agentname"] == "agent one"
    assert record["initiator"] == "api"
    assert record["steps_total"] == 3
    assert isinstance(record["id"], int)
    assert ISO.match(record["starttime"])
    assert record["endtime"] is None
    final = api.wait_final(execution_id)
    assert ISO.match(final["endtime"])
    assert final["status"] == "Passed"
    assert (final["steps_done"], final["steps_failed"]) == (3, 0)


def test_agents(sim, api) -> None:
    agents = api.get("/ai/agents").json()
    assert agents == [
        {"id": "a1", "name": "agent one", "status": "Online", "hosted": False},
        {"id": "a2", "name": "agent two", "status": "Online", "hosted": True},
        {"id": "off", "name": "offline agent", "status": "Offline", "hosted": False},
    ]
    api.start("m-long", agent="a2")
    statuses = {a["id"]: a["status"] for a in api.get("/ai/agents").json()}
    assert statuses == {"a1": "Online", "a2": "Busy", "off": "Offline"}
    # POST creates an agent (as a real server does), and the simulator records it
    created = api.post("/ai/agents", json={"name": "made by POST"})
    assert created.status_code == 201
    assert created.json()["name"] == "made by POST"
    assert sim.created_agents() == [created.json()["id"]]
    assert len(api.get("/ai/agents").json()) == 4


def test_models(sim, api) -> None:
    models = api.get("/ai/models").json()
    assert models[0] == {"id": 1, "name": "Quick", "modeluuid": "m-quick"}
    assert [m["name"] for m in models] == ["Quick", "Failing", "Flaky", "With cases", "Long"]
    # a start names the model by its modeluuid; the listing's numeric id is unknown to E1
    response = api.post(EXECUTIONS, json={"execution_type": "executing", "model_id": "1"})
    assert response.status_code == 404
    sim.dialect = "no_modeluuid"
    assert api.get("/ai/models").json()[0] == {"id": "m-quick", "name": "Quick"}


def test_runlogs(sim, api) -> None:
    execution_id = api.start("m-fail", agent="a1")
    run_id = api.wait_final(execution_id)["id"]
    logs = api.logs(run_id)
    assert set(logs) == {"items", "total_count", "date_as_of"}
    assert logs["total_count"] == len(logs["items"])
    assert ISO.match(logs["date_as_of"])
    items = logs["items"]
    for number, item in enumerate(items, start=1):
        assert set(item) == {
            "id",
            "eventtime",
            "testrunid",
            "message",
            "severity",
            "step_id",
            "stage",
            "message_type",
            "image_name",
            "image_id",
        }
        assert item["id"] == number
        assert item["testrunid"] == run_id
        assert ISO.match(item["eventtime"])
        assert "status" not in item  # no entry carries a step status (contract 2.5)
    groups = [(i["step_id"], i["message"]) for i in items if i["step_id"] is not None]
    # each step: its name first, screen captures (with image ids) in between, its action last
    assert [groups[0], groups[3], groups[4], groups[7]] == [
        (1, "ok"),
        (1, "'ok': done"),
        (2, "bad"),
        (2, "Boom: saw X"),
    ]
    assert [i["image_id"] is not None for i in items if i["step_id"] == 1] == [
        False,
        True,
        True,
        False,
    ]
    failing = [i for i in items if i["step_id"] == 2][-1]
    # a real failure is often INFORMATIONAL (seen): severity is not a failure signal
    assert (failing["severity"], failing["message_type"]) == ("INFORMATIONAL", "imagefound")
    assert items[-1]["message_type"] == "run_finished"
    assert items[-1]["step_id"] is None
    assert "Failed" in items[-1]["message"]
    page = api.logs(run_id, limit=2, offset=1)
    assert page["items"] == items[1:3]
    assert page["total_count"] == len(items)


def test_runlogs_legacy_shape(sim, api) -> None:
    sim.dialect = "legacy_logs"
    execution_id = api.start("m-fail", agent="a1")
    run_id = api.wait_final(execution_id)["id"]
    items = api.logs(run_id)["items"]
    for item in items:
        assert {"timestamp", "message", "severity", "stage", "message_type"} <= item.keys()
        assert ISO.match(item["timestamp"])
    closing = [i for i in items if "step" in i and "status" in i]
    assert [(i["step"], i["status"], i["severity"]) for i in closing] == [
        (1, "Passed", "INFO"),
        (2, "Failed", "ERROR"),
    ]
    assert closing[1]["message"] == "Boom: saw X"


def test_short_offset_times(sim, api) -> None:
    sim.dialect = "short_offset"
    execution_id = api.start("m-quick", agent="a1")
    record = api.wait_final(execution_id)
    short = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+01$")
    assert short.match(record["starttime"])
    assert short.match(record["endtime"])
    logs = api.logs(record["id"])
    assert short.match(logs["date_as_of"])
    assert all(short.match(item["eventtime"]) for item in logs["items"])


def test_runs_page_of_20_by_default(sim, api) -> None:
    sim.dialect = "unfiltered"
    started = [api.start("m-quick") for _ in range(23)]
    first = api.get("/ai/runs", params={"execution_id": started[0]}).json()
    assert len(first) == 20  # the filter ignored, the default page of 20, newest first
    assert first[0]["execution_id"] == started[-1]
    rest = api.get("/ai/runs", params={"limit": 20, "offset": 20}).json()
    assert [r["execution_id"] for r in rest] == started[2::-1]
    sim.set_dialect(runs_page_size=None)
    assert len(api.get("/ai/runs").json()) == 23


def test_runlogs_errors(sim, api) -> None:
    assert api.get("/ai/runlogs/424242").status_code == 404
    assert api.get("/ai/runlogs/abc").status_code == 422
    assert api.get("/ai/runlogs/1", params={"offset": -1}).status_code == 422


def test_runlogs_of_a_queued_run(sim, api) -> None:
    execution_id = api.start("m-quick", agent="off")
    run_id = api.run(execution_id)["id"]
    logs = api.logs(run_id)
    assert [i["message_type"] for i in logs["items"]] == ["execution_queued"]


def test_unknown_path_and_method(sim, api) -> None:
    assert api.get("/nope").json() == {"detail": "Not Found"}
    assert api.get("/nope").status_code == 404
    response = api.request("PUT", "/ai/runs")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert api.get(EXECUTIONS).status_code == 405


def test_trailing_slash_is_tolerated(sim, api) -> None:
    assert api.get("/ai/models/").status_code == 200


def test_keep_alive_and_content_length(sim, api) -> None:
    token = api.session.headers["Authorization"]
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    try:
        sockets = set()
        for path in ("/ai/models", "/ai/agents", "/nope", "/ai/runs"):
            connection.request("GET", path, headers={"Authorization": token})
            response = connection.getresponse()
            body = response.read()
            assert response.version == 11
            assert int(response.headers["Content-Length"]) == len(body)
            json.loads(body)
            sockets.add(id(connection.sock))
        assert len(sockets) == 1  # one connection served all four
        execution_id = api.start("m-long")
        connection.request(
            "DELETE", f"{EXECUTIONS}/{execution_id}", headers={"Authorization": token}
        )
        response = connection.getresponse()
        assert response.status == 204
        assert response.read() == b""
    finally:
        connection.close()
