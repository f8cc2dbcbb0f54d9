"""Model runs' calls (contract section 2, E1 to E6): requests sent and answers read."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from pytest_dai.client import calls as calls_module
from pytest_dai.client.calls import (
    ABORT_RUN,
    LIST_AGENTS,
    LIST_MODELS,
    RUN_LOG,
    RUN_STATUS,
    START_RUN,
)
from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIHTTPError, DAINotFoundError
from pytest_dai.client.records import LogEntry
from pytest_dai.client.status import RunState

from .support import (
    AGENTS,
    BASE,
    EXECUTIONS,
    MODELS,
    RUNLOGS,
    RUNS,
    TOKEN_URL,
    assert_dai_message,
    assert_no_secret,
    calls,
)

EXEC = "7d1e0c44-0000-4000-8000-000000000001"


def sent_json(request: Any) -> Any:
    body = request.body
    return json.loads(body.decode() if isinstance(body, bytes) else body)


def query(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query)


def test_calls_are_named_in_words_with_their_address() -> None:
    assert START_RUN.at(BASE) == f"starting the run (POST {EXECUTIONS})"
    assert RUN_STATUS.at(BASE) == f"reading the run's status (GET {RUNS})"
    assert ABORT_RUN.at(BASE, id="e-1") == f"aborting the run (DELETE {EXECUTIONS}/e-1)"
    assert LIST_AGENTS.at(BASE) == f"listing agents (GET {AGENTS})"
    assert LIST_MODELS.at(BASE) == f"listing models (GET {MODELS})"
    assert RUN_LOG.at(BASE, run_id="r-1") == f"reading the run's log (GET {RUNLOGS}/r-1)"
    # an id from the server is shown escaped and cut short
    assert RUN_LOG.at(BASE, run_id="x" * 200) == f"reading the run's log (GET {RUNLOGS}/{'x' * 80})"
    assert "\x1b" not in RUN_LOG.at(BASE, run_id="\x1b[31m")
    assert START_RUN.named_in(START_RUN.at(BASE))
    assert not START_RUN.named_in(RUN_STATUS.at(BASE))
    assert not START_RUN.named_in(None)


# -- E1 ---------------------------------------------------------------------------------------


def test_start_minimal_body(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC, "model_id": "m-1", "status": "Queued"})
    started = client.start_execution("m-1")
    assert started.id == EXEC
    assert started.raw["status"] == "Queued"
    (request,) = calls(rsps, "POST", EXECUTIONS)
    # agent null said explicitly: no agent (contract 2.1), never "the server picks"
    assert sent_json(request) == {"execution_type": "executing", "model_id": "m-1", "agent": None}
    assert request.headers["Content-Type"] == "application/json"
    assert str(request.headers["Authorization"]).startswith("Bearer ")


def test_start_full_body(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC})
    client.start_execution(
        "m-1",
        agent_id="agent-1",
        is_hosted_agent=True,
        test_case_id=12,
        sut_id="sut-9",
        sut_criteria=("tag1", "tag2"),
        rerun_id=7,
        step_pause_time=0,
    )
    (request,) = calls(rsps, "POST", EXECUTIONS)
    assert sent_json(request) == {
        "execution_type": "executing",
        "model_id": "m-1",
        "agent": {"agent_id": "agent-1", "is_hosted_agent": True},
        "test_case_id": 12,
        "sut": {"sut_id": "sut-9", "criteria": ["tag1", "tag2"]},
        "rerun_id": 7,
        "step_pause_time": 0,
    }


def test_start_sut_criteria_only(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC})
    client.start_execution("m-1", sut_criteria=["web"])
    (request,) = calls(rsps, "POST", EXECUTIONS)
    assert sent_json(request)["sut"] == {"criteria": ["web"]}
    assert sent_json(request)["agent"] is None


def test_start_unknown_model_is_not_found(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=404, json={"detail": "Model m-404 not found"})
    with pytest.raises(DAINotFoundError) as info:
        client.start_execution("m-404")
    assert info.value.status == 404
    assert_dai_message(info.value, START_RUN.at(BASE), "404 unknown model: Model m-404 not found")


@pytest.mark.parametrize("status", [400, 403, 422])
def test_start_client_errors_are_not_retried(
    client: DAIClient, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.post(EXECUTIONS, status=status, json={"detail": "no"})
    with pytest.raises(DAIHTTPError) as info:
        client.start_execution("m-1")
    assert info.value.status == status
    assert len(calls(rsps, "POST", EXECUTIONS)) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_start_5xx_other_than_503_is_not_retried(
    client: DAIClient, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.post(EXECUTIONS, status=status, json={"detail": "boom"})
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC})
    with pytest.raises(DAIHTTPError) as info:
        client.start_execution("m-1")
    assert_dai_message(info.value, START_RUN.at(BASE), str(status), "boom")
    assert len(calls(rsps, "POST", EXECUTIONS)) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_start_429_503_is_retried_and_succeeds(
    client: DAIClient, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.post(EXECUTIONS, status=status, json={"detail": "RabbitMQ is not available"})
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC})
    assert client.start_execution("m-1").id == EXEC
    assert len(calls(rsps, "POST", EXECUTIONS)) == 2


def test_start_empty_201_is_protocol_error(client: DAIClient, rsps: responses.RequestsMock) -> None:
    from pytest_dai.client.errors import DAIProtocolError

    rsps.post(EXECUTIONS, status=201, body="")
    with pytest.raises(DAIProtocolError) as info:
        client.start_execution("m-1")
    assert_dai_message(info.value, START_RUN.at(BASE))


# -- E2 ---------------------------------------------------------------------------------------


def test_find_run_query_and_record(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(
        RUNS,
        json=[
            {
                "id": 30832,
                "execution_id": EXEC,
                "model_id": "m-1",
                "modelname": "Shop",
                "agentname": "agent-1",
                "initiator": "api",
                "status": "Passed",
                "starttime": "2026-11-28T10:00:00Z",
                "endtime": "2026-11-28T10:06:30Z",
                "steps_total": 40,
                "steps_done": 40,
                "steps_failed": 0,
            }
        ],
    )
    record = client.find_run(EXEC)
    assert record is not None
    assert record.run_id == "30832"
    assert record.execution_id == EXEC
    assert record.status.state is RunState.PASSED
    assert record.status.final
    assert (record.model_name, record.agent_name) == ("Shop", "agent-1")
    assert record.started_at is not None
    assert record.ended_at is not None
    assert (record.ended_at - record.started_at).total_seconds() == 390
    (request,) = calls(rsps, "GET", RUNS)
    assert query(request)["execution_id"] == [EXEC]


def test_find_run_alternative_field_names(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(
        RUNS,
        json=[
            {
                "run_id": "r-1",
                "execution_status_id": EXEC,
                "model_name": "Shop",
                "agent_name": "a",
                "status": "running",
                "start_time": "2026-11-28T10:00:00",
                "end_time": None,
            }
        ],
    )
    record = client.find_run(EXEC)
    assert record is not None
    assert (record.run_id, record.model_name, record.agent_name) == ("r-1", "Shop", "a")
    assert record.started_at is not None
    assert record.started_at.utcoffset() is not None
    assert record.ended_at is None


def test_find_run_405_is_an_error(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(RUNS, status=405)
    with pytest.raises(DAIHTTPError) as info:
        client.find_run(EXEC)
    assert_dai_message(info.value, RUN_STATUS.at(BASE), "405")


def test_find_run_5xx_retried_then_succeeds(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(RUNS, status=500)
    rsps.get(RUNS, status=502)
    rsps.get(RUNS, json=[{"execution_id": EXEC, "status": "Queued"}])
    record = client.find_run(EXEC)
    assert record is not None
    assert record.status.state is RunState.QUEUED
    assert len(calls(rsps, "GET", RUNS)) == 3


# -- E3 ---------------------------------------------------------------------------------------


def test_abort_sends_delete_to_the_execution(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=204)
    assert client.abort_execution(EXEC) is True
    assert len(calls(rsps, "DELETE", f"{EXECUTIONS}/{EXEC}")) == 1


def test_abort_503_is_retried_then_an_error(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=503, json={"detail": "RabbitMQ is not available"})
    with pytest.raises(DAIHTTPError) as info:
        client.abort_execution(EXEC)
    assert_dai_message(info.value, ABORT_RUN.at(BASE, id=EXEC), "503", "RabbitMQ")
    assert len(calls(rsps, "DELETE", f"{EXECUTIONS}/{EXEC}")) == 3  # abort: 3 attempts at most


def test_abort_422_is_an_error(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=422, json={"detail": "bad id"})
    with pytest.raises(DAIHTTPError) as info:
        client.abort_execution(EXEC)
    assert info.value.status == 422


def test_abort_200_with_body_is_true(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=200, json={"status": "Stopping"})
    assert client.abort_execution(EXEC) is True


# -- E4, E5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "online"),
    [("Online", True), ("Busy", True), (None, True), ("OFFLINE", False), ("disconnected", False)],
)
def test_agent_online(
    client: DAIClient, rsps: responses.RequestsMock, status: str | None, online: bool
) -> None:
    rsps.get(AGENTS, json=[{"agent_id": "a-1", "status": status, "is_hosted_agent": True}])
    (agent,) = client.list_agents()
    assert agent.online is online
    assert agent.hosted is True
    assert agent.id == "a-1"


@pytest.mark.parametrize(
    ("method", "endpoint"), [("models", LIST_MODELS.at(BASE)), ("agents", LIST_AGENTS.at(BASE))]
)
def test_list_404_is_an_error(
    client: DAIClient, rsps: responses.RequestsMock, method: str, endpoint: str
) -> None:
    rsps.get(MODELS, status=404, json={"detail": "Not Found"})
    rsps.get(AGENTS, status=404, json={"detail": "Not Found"})
    with pytest.raises(DAIHTTPError) as info:
        client.list_models() if method == "models" else client.list_agents()
    assert_dai_message(info.value, endpoint, "404", "Not Found")


def test_list_models_with_model_id_field(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(MODELS, json=[{"model_id": "m-7", "name": "Login"}])
    assert [(m.id, m.name) for m in client.list_models()] == [("m-7", "Login")]


# -- E6 ---------------------------------------------------------------------------------------


def test_run_logs_query_and_entries(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{RUNLOGS}/30832",
        json={
            "items": [
                {
                    "timestamp": "2026-11-28T10:00:01Z",
                    "message": "Step 12 passed",
                    "severity": "INFO",
                    "stage": "run",
                    "message_type": "step",
                    "step": 12,
                    "status": "Passed",
                }
            ],
            "total_count": 1,
        },
    )
    page = client.run_logs("30832", limit=50, offset=100)
    (entry,) = page.items
    assert (entry.step, entry.status, entry.severity) == (12, "Passed", "INFO")
    assert entry.format() == "2026-11-28T10:00:01Z INFO     step 12 Step 12 passed"
    assert page.total_count == 1
    (request,) = calls(rsps, "GET", f"{RUNLOGS}/30832")
    assert query(request) == {"limit": ["50"], "offset": ["100"]}


def test_iter_run_logs_pages_through(client: DAIClient, rsps: responses.RequestsMock) -> None:
    entries = [{"message": f"m{i}"} for i in range(7)]

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        q = query(request)
        limit, offset = int(q["limit"][0]), int(q["offset"][0])
        body = {"items": entries[offset : offset + limit], "total_count": len(entries)}
        return 200, {}, json.dumps(body)

    rsps.add_callback(responses.GET, f"{RUNLOGS}/r-1", callback=page)
    got = [e.message for e in client.iter_run_logs("r-1", page_size=3)]
    assert got == [f"m{i}" for i in range(7)]
    offsets = [query(r)["offset"][0] for r in calls(rsps, "GET", f"{RUNLOGS}/r-1")]
    assert offsets == ["0", "3", "6"]


def test_iter_run_logs_stops_at_total_count(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{RUNLOGS}/r-1", json={"items": [{"message": "a"}, {"message": "b"}], "total_count": 2}
    )
    assert [e.message for e in client.iter_run_logs("r-1", page_size=2)] == ["a", "b"]
    assert len(calls(rsps, "GET", f"{RUNLOGS}/r-1")) == 1


def test_iter_run_logs_bare_list_stops_on_empty_page(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{RUNLOGS}/r-1", json=[{"message": "a"}, {"message": "b"}])
    rsps.get(f"{RUNLOGS}/r-1", json=[])
    assert [e.message for e in client.iter_run_logs("r-1", page_size=2)] == ["a", "b"]
    assert len(calls(rsps, "GET", f"{RUNLOGS}/r-1")) == 2


def test_run_logs_unknown_run_is_not_found(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{RUNLOGS}/r-9", status=404, json={"detail": "Run not found"})
    with pytest.raises(DAINotFoundError) as info:
        client.run_logs("r-9")
    assert_dai_message(info.value, RUN_LOG.at(BASE, run_id="r-9"), "404", "Run not found")


def test_log_entry_defaults() -> None:
    entry = LogEntry.parse({"severity": "warning", "step": "3"})
    assert (entry.message, entry.severity, entry.step, entry.timestamp) == ("", "WARNING", 3, None)
    assert entry.format() == "WARNING  step 3"


# -- the client object -------------------------------------------------------------------------


def test_trailing_slash_and_repr(rsps: responses.RequestsMock, creds: Credentials) -> None:
    rsps.get(MODELS, json=[])
    with DAIClient(BASE + "/", creds, attempts=1) as client:
        assert client.list_models() == []
        assert repr(client) == f"DAIClient(url={BASE!r}, client_id='pytest-dai-ci')"
        assert_no_secret(client)
    assert [c.request.url for c in rsps.calls] == [TOKEN_URL, MODELS]


def test_default_timeout_is_sent(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(MODELS, json=[])
    client.list_models()
    (call,) = [c for c in rsps.calls if c.request.url == MODELS]
    assert call.request.req_kwargs["timeout"] == 5  # type: ignore[attr-defined]


def test_iter_run_logs_server_ignoring_limit_and_offset(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    # A bare list of everything, whatever limit and offset say: one pass, not an endless loop.
    everything = [{"message": f"m{i}", "timestamp": f"t{i}"} for i in range(5)]
    rsps.get(f"{RUNLOGS}/r-1", json=everything)
    got = list(itertools.islice(client.iter_run_logs("r-1", page_size=2), 50))
    assert [e.message for e in got] == [f"m{i}" for i in range(5)]


def test_iter_run_logs_server_ignoring_offset(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    # limit honoured, offset ignored: the first page again means there is no more.
    rsps.get(f"{RUNLOGS}/r-1", json=[{"message": "a", "timestamp": "t1"}, {"message": "b"}])
    got = list(itertools.islice(client.iter_run_logs("r-1", page_size=2), 50))
    assert [e.message for e in got] == ["a", "b"]
    assert len(calls(rsps, "GET", f"{RUNLOGS}/r-1")) == 2


@pytest.mark.parametrize(
    "name",
    [n for n in calls_module.__all__ if isinstance(getattr(calls_module, n), calls_module.Call)],
)
def test_every_call_is_named_in_words_never_by_its_contract_code(name: str) -> None:
    call = getattr(calls_module, name)
    label = call.at(BASE, id="x-1", run_id="r-1", image_id="i-1", test_config_id="tc-1")
    assert re.fullmatch(rf"[a-z][A-Za-z' ]+ \((GET|POST|DELETE) {BASE}/[^ ]+\)", label), label
    assert not re.search(r"\bE\d+\b", label), label
    assert "{" not in label, label
