"""The nine tolerance rules of contract section 3, one block each (rule 6 with a real socket is
in test_http_retries.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import responses
from responses.registries import OrderedRegistry

from pytest_dai.client.calls import LIST_AGENTS, LIST_MODELS, RUN_STATUS, START_RUN
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIHTTPError, DAIProtocolError
from pytest_dai.client.http import RETRY_AFTER_MAX, build_session
from pytest_dai.client.status import RunState

from .support import (
    AGENTS,
    BASE,
    EXECUTIONS,
    MODELS,
    RUNLOGS,
    RUNS,
    SECRET,
    TOKEN,
    assert_dai_message,
    calls,
)

EXEC = "3f0c9a52-6d0e-4a51-9d2b-0f6f3e0b7a10"
RECORD = {
    "id": 30832,
    "execution_id": EXEC,
    "model_id": "m-1",
    "modelname": "Shop",
    "agentname": "agent-1",
    "initiator": "api",
    "status": "Running",
    "starttime": "2026-11-28T10:00:00Z",
    "endtime": None,
    "steps_total": 40,
    "steps_done": 12,
    "steps_failed": 0,
}


def envelope(kind: str, items: list[dict[str, Any]]) -> Any:
    """A list as a bare array or in one of the envelopes of rule 2."""
    if kind == "bare":
        return items
    return {kind: items, "total_count": len(items), "next": None}


ENVELOPES = ["bare", "items", "results", "data"]


# -- rule 1: the start response ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["id", "execution_id", "execution_status_id"])
@pytest.mark.parametrize("value", [EXEC, 4711])
@pytest.mark.parametrize("status", [200, 201])
def test_rule1_start_id_under_any_key_string_or_number(
    client: DAIClient, rsps: responses.RequestsMock, key: str, value: object, status: int
) -> None:
    rsps.post(EXECUTIONS, status=status, json={key: value, "status": "Queued"})
    started = client.start_execution("m-1")
    assert started.id == str(value)
    assert isinstance(started.id, str)


def test_rule1_id_wins_over_the_other_keys(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=201, json={"id": "a", "execution_id": "b"})
    assert client.start_execution("m-1").id == "a"


def test_rule1_empty_or_null_id_falls_through_to_the_next_key(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.post(
        EXECUTIONS, status=201, json={"id": None, "execution_id": "", "execution_status_id": 9}
    )
    assert client.start_execution("m-1").id == "9"


# -- rule 2: lists bare or in envelopes -------------------------------------------------------


@pytest.mark.parametrize("kind", ENVELOPES)
def test_rule2_runs_list(client: DAIClient, rsps: responses.RequestsMock, kind: str) -> None:
    rsps.get(RUNS, json=envelope(kind, [RECORD]))
    record = client.find_run(EXEC)
    assert record is not None
    assert record.run_id == "30832"
    assert record.status.state is RunState.RUNNING
    assert (record.steps_total, record.steps_done, record.steps_failed) == (40, 12, 0)


@pytest.mark.parametrize("kind", ENVELOPES)
def test_rule2_agents_list(client: DAIClient, rsps: responses.RequestsMock, kind: str) -> None:
    rsps.get(
        AGENTS,
        json=envelope(kind, [{"id": "a1", "name": "agent-1", "status": "Online", "hosted": True}]),
    )
    (agent,) = client.list_agents()
    assert (agent.id, agent.name, agent.status, agent.hosted, agent.online) == (
        "a1",
        "agent-1",
        "Online",
        True,
        True,
    )


@pytest.mark.parametrize("kind", ENVELOPES)
def test_rule2_models_list(client: DAIClient, rsps: responses.RequestsMock, kind: str) -> None:
    rsps.get(MODELS, json=envelope(kind, [{"id": "m-1", "name": "Shop"}, {"id": 2}]))
    models = client.list_models()
    assert [(m.id, m.name) for m in models] == [("m-1", "Shop"), ("2", "2")]


@pytest.mark.parametrize("kind", ENVELOPES)
def test_rule2_run_logs(client: DAIClient, rsps: responses.RequestsMock, kind: str) -> None:
    entries = [{"timestamp": "t", "message": f"line {i}", "severity": "info"} for i in range(3)]
    rsps.get(f"{RUNLOGS}/30832", json=envelope(kind, entries))
    page = client.run_logs("30832")
    assert [e.message for e in page.items] == ["line 0", "line 1", "line 2"]
    assert page.items[0].severity == "INFO"
    assert page.total_count == (None if kind == "bare" else 3)


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"runs": []}, "got an object with keys runs"),
        ("a string", "expected a list, got str"),
        (42, "expected a list, got int"),
        ({"items": "nope"}, "got an object with keys items"),
    ],
)
def test_rule2_not_a_list_is_protocol_error(
    client: DAIClient, rsps: responses.RequestsMock, payload: Any, needle: str
) -> None:
    rsps.get(MODELS, json=payload)
    with pytest.raises(DAIProtocolError) as info:
        client.list_models()
    assert_dai_message(info.value, LIST_MODELS.at(BASE), needle)


def test_rule2_non_object_items_are_skipped(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(MODELS, json=[None, "x", 3, {"id": "m-1"}])
    assert [m.id for m in client.list_models()] == ["m-1"]


# -- rule 3: E2 ignoring the filter; no record yet --------------------------------------------


def test_rule3_e2_ignoring_the_filter_picks_our_record(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    others = [
        {**RECORD, "id": 1, "execution_id": "other-1", "status": "Passed"},
        {"id": 2, "execution_status_id": "other-2"},  # no status: never parsed, not ours
        {
            **RECORD,
            "id": 3,
            "execution_id": EXEC,
            "status": "Failed",
            "endtime": "2026-11-28T11:00:00Z",
        },
        {**RECORD, "id": 4, "execution_id": "other-4", "status": "Running"},
    ]
    rsps.get(RUNS, json={"items": others})
    record = client.find_run(EXEC)
    assert record is not None
    assert record.run_id == "3"
    assert record.status.state is RunState.FAILED
    (request,) = calls(rsps, "GET", RUNS)
    assert f"execution_id={EXEC}" in str(request.url)


def test_rule3_match_on_execution_status_id_and_numbers(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        RUNS,
        json=[
            {"id": 1, "execution_status_id": 4712, "status": "Queued"},
            {"id": 2, "execution_status_id": 4711, "status": "Queued"},
        ],
    )
    record = client.find_run("4711")
    assert record is not None
    assert record.run_id == "2"
    assert record.execution_id == "4711"


def test_rule3_record_id_alone_is_not_a_match(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(RUNS, json=[{"id": EXEC, "status": "Running"}])
    assert client.find_run(EXEC) is None


@pytest.mark.parametrize(
    "reply",
    [
        {"json": []},
        {"json": {"items": []}},
        {"json": [{**RECORD, "execution_id": "someone-else"}]},
        {"status": 404, "json": {"detail": "Not Found"}},
    ],
    ids=["empty", "empty-envelope", "only-others", "404"],
)
def test_rule3_no_record_yet_is_none(
    client: DAIClient, rsps: responses.RequestsMock, reply: dict[str, Any]
) -> None:
    rsps.get(RUNS, **reply)
    assert client.find_run(EXEC) is None


# -- rule 4: status words any case (the full table is in test_status.py) -----------------------


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("IN_PROGRESS", RunState.RUNNING),
        ("in progress", RunState.RUNNING),
        ("succeeded", RunState.PASSED),
        ("CANCELED", RunState.CANCELLED),
        ("pending", RunState.QUEUED),
        ("FAILURE", RunState.FAILED),
        ("Errored", RunState.ERROR),
    ],
)
def test_rule4_status_words_through_e2(
    client: DAIClient, rsps: responses.RequestsMock, word: str, state: RunState
) -> None:
    rsps.get(RUNS, json=[{**RECORD, "status": word}])
    record = client.find_run(EXEC)
    assert record is not None
    assert record.status.state is state
    assert record.status.word == word


# -- rule 5: agents with GET only; POST /ai/agents creates an agent ----------------------------


def test_rule5_agents_405_is_a_clear_error_and_never_a_post(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(AGENTS, status=405, json={"detail": "Method Not Allowed"})
    rsps.post(AGENTS, status=201, json={"id": "created", "name": "oops"})
    for _ in range(2):
        with pytest.raises(DAIHTTPError) as info:
            client.list_agents()
        assert info.value.status == 405
        assert_dai_message(info.value, LIST_AGENTS.at(BASE), "405", "Method Not Allowed")
        assert "never sends POST /ai/agents" in str(info.value)
    assert len(calls(rsps, "GET", AGENTS)) == 2
    assert calls(rsps, "POST", AGENTS) == []


def test_rule5_agents_listed_with_get(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(AGENTS, json={"items": [{"id": "agent-1", "status": "Busy"}]})
    (agent,) = client.list_agents()
    assert (agent.id, agent.name, agent.status, agent.hosted) == (
        "agent-1",
        "agent-1",
        "Busy",
        False,
    )
    assert calls(rsps, "POST", AGENTS) == []


# -- rule 6: 429/503 Retry-After within the budget (timing is in test_http_retries.py) ---------


@pytest.mark.parametrize("status", [429, 503])
def test_rule6_retry_after_statuses_are_retried_then_succeed(
    client: DAIClient, rsps: responses.RequestsMock, status: int
) -> None:
    rsps.get(MODELS, status=status, headers={"Retry-After": "0"})
    rsps.get(MODELS, json=[{"id": "m-1"}])
    assert len(client.list_models()) == 1
    assert len(calls(rsps, "GET", MODELS)) == 2


def test_rule6_budget_is_the_configured_attempts(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(MODELS, status=503, headers={"Retry-After": "0"}, json={"detail": "busy"})
    with pytest.raises(DAIHTTPError) as info:
        client.list_models()
    assert info.value.status == 503
    assert_dai_message(info.value, LIST_MODELS.at(BASE), "503", "busy")
    assert len(calls(rsps, "GET", MODELS)) == 3  # attempts=3


def test_rule6_huge_retry_after_is_capped() -> None:
    session = build_session(attempts=3, safe_post_prefixes=("http://x/token",))

    huge = SimpleNamespace(headers={"Retry-After": "86400"})
    for url in ("http://x/ai/runs", "http://x/token"):
        retry = session.get_adapter(url).max_retries  # type: ignore[attr-defined]
        assert retry.get_retry_after(huge) == RETRY_AFTER_MAX
    assert RETRY_AFTER_MAX <= 60


# -- rule 7: extra fields ignored; missing needed field names endpoint and field ---------------


def test_rule7_unknown_fields_everywhere_are_ignored(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    extra = {"x-new": {"nested": [1, 2]}, "links": [], "_meta": None}
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC, **extra})
    rsps.get(RUNS, json={"items": [{**RECORD, **extra}], "page": 1, **extra})
    rsps.get(MODELS, json={"data": [{"id": "m-1", "name": "Shop", **extra}], **extra})
    rsps.get(AGENTS, json=[{"id": "agent-1", **extra}])
    rsps.get(f"{RUNLOGS}/30832", json={"items": [{"message": "hi", **extra}], "total_count": 1})
    assert client.start_execution("m-1").id == EXEC
    record = client.find_run(EXEC)
    assert record is not None
    assert record.raw["x-new"] == {"nested": [1, 2]}
    assert client.list_models()[0].name == "Shop"
    assert client.list_agents()[0].id == "agent-1"
    assert [e.message for e in client.run_logs("30832").items] == ["hi"]


@pytest.mark.parametrize(
    ("method", "url", "payload", "call", "needles"),
    [
        (
            "POST",
            EXECUTIONS,
            {"status": "Queued", "model_id": "m-1"},
            "start",
            [START_RUN.at(BASE), "no execution id", "execution_id"],
        ),
        ("POST", EXECUTIONS, ["e-1"], "start", [START_RUN.at(BASE), "expected an object", "list"]),
        (
            "GET",
            RUNS,
            [{**RECORD, "status": None}],
            "find",
            [RUN_STATUS.at(BASE), "no status field"],
        ),
        ("GET", RUNS, [{"id": 1, "execution_id": EXEC}], "find", [RUN_STATUS.at(BASE), "status"]),
        ("GET", MODELS, [{"name": "Shop"}], "models", [LIST_MODELS.at(BASE), "no id field"]),
        ("GET", AGENTS, [{"name": "agent-1"}], "agents", [LIST_AGENTS.at(BASE), "no id field"]),
    ],
    ids=[
        "start-no-id",
        "start-not-object",
        "run-null-status",
        "run-no-status",
        "model-no-id",
        "agent-no-id",
    ],
)
def test_rule7_missing_needed_field_is_protocol_error(
    client: DAIClient,
    rsps: responses.RequestsMock,
    method: str,
    url: str,
    payload: Any,
    call: str,
    needles: list[str],
) -> None:
    rsps.add(method, url, json=payload, status=201 if method == "POST" else 200)
    actions = {
        "start": lambda: client.start_execution("m-1"),
        "find": lambda: client.find_run(EXEC),
        "models": client.list_models,
        "agents": client.list_agents,
    }
    with pytest.raises(DAIProtocolError) as info:
        actions[call]()
    assert_dai_message(info.value, *needles)
    assert not isinstance(info.value.__cause__, KeyError)


def test_rule7_wrong_types_in_optional_fields_are_tolerated(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        RUNS,
        json=[
            {
                **RECORD,
                "steps_total": "40",
                "steps_done": 12.0,
                "steps_failed": True,
                "modelname": {"odd": 1},
                "starttime": "not a time",
            }
        ],
    )
    record = client.find_run(EXEC)
    assert record is not None
    assert (record.steps_total, record.steps_done, record.steps_failed) == (40, 12, None)
    assert record.model_name is None
    assert record.started_at is None


# -- rule 8: error bodies JSON or HTML; at most 200 characters, one line, no token/secret -------

LONG_HTML = (
    "<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title>\n"
    "<style>body { color: red; }</style></head>\n"
    "<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
    + "<p>"
    + "the upstream did not answer. " * 40
    + "</p>\n<hr><center>nginx/1.25.3</center>\n"
    "</body>\n</html>\n"
)


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"detail": "Model m-9 does not exist"}, ["Model m-9 does not exist"]),
        ({"message": "Agent agent-7 is offline"}, ["Agent agent-7 is offline"]),
        (
            {"error": "invalid_request", "error_description": "Bad agent field"},
            ["Bad agent field"],
        ),
        ({"error": "invalid_request"}, ["invalid_request"]),
        (
            {
                "detail": [
                    {
                        "loc": ["body", "model_id"],
                        "msg": "field required",
                        "type": "value_error.missing",
                    },
                    {
                        "loc": ["body", "agent", "agent_id"],
                        "msg": "str type expected",
                        "type": "type_error.str",
                    },
                ]
            },
            ["model_id: field required", "agent.agent_id: str type expected"],
        ),
        ({"detail": {"code": 17}}, ["code", "17"]),
        ({"unexpected": "shape"}, ["unexpected", "shape"]),
    ],
    ids=[
        "detail",
        "message",
        "error_description",
        "error",
        "fastapi-list",
        "detail-object",
        "other",
    ],
)
def test_rule8_json_error_bodies(
    client: DAIClient, rsps: responses.RequestsMock, body: dict[str, Any], needles: list[str]
) -> None:
    rsps.post(EXECUTIONS, status=422, json=body)
    with pytest.raises(DAIHTTPError) as info:
        client.start_execution("m-9")
    assert info.value.status == 422
    assert_dai_message(info.value, START_RUN.at(BASE), "422", *needles)


def quoted_run(text: str, marker: str) -> int:
    """How many characters of the message come from the body (the part after the marker)."""
    return len(text.split(marker, 1)[1].strip())


def test_rule8_html_from_a_proxy_is_one_line_without_tags_and_short(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(MODELS, status=502, body=LONG_HTML, content_type="text/html")
    with pytest.raises(DAIHTTPError) as info:
        client.list_models()
    text = assert_dai_message(info.value, LIST_MODELS.at(BASE), "502", "502 Bad Gateway")
    assert "<" not in text
    assert ">" not in text
    assert quoted_run(text, f"{LIST_MODELS.at(BASE)}: 502") <= 200
    assert text.endswith("...")


def test_rule8_long_json_detail_is_cut_to_200(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(MODELS, status=500, json={"detail": "x" * 5000})
    with pytest.raises(DAIHTTPError) as info:
        client.list_models()
    text = assert_dai_message(info.value, LIST_MODELS.at(BASE), "500")
    assert "x" * 198 not in text
    assert quoted_run(text, "500") <= 200


def test_rule8_plain_text_body_with_newlines_is_one_line(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(MODELS, status=500, body="line one\nline two\r\n\tline three")
    with pytest.raises(DAIHTTPError) as info:
        client.list_models()
    assert_dai_message(info.value, "line one line two line three")


def test_rule8_empty_error_body_gives_the_reason(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(MODELS, status=500, body="")
    with pytest.raises(DAIHTTPError) as info:
        client.list_models()
    assert_dai_message(info.value, f"{LIST_MODELS.at(BASE)}: 500")


def test_rule8_error_body_echoing_token_and_secret_is_masked(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    def echo(request: Any) -> tuple[int, dict[str, str], str]:
        auth = request.headers["Authorization"]
        body = {
            "detail": f"upstream failed for Authorization: {auth} with client_secret={SECRET}",
        }
        return 500, {}, json.dumps(body)

    rsps.add_callback(responses.GET, MODELS, callback=echo)
    with pytest.raises(DAIHTTPError) as info:
        client.list_models()
    text = assert_dai_message(info.value, "upstream failed", "***")
    assert TOKEN not in text
    assert SECRET not in text


def test_rule8_malformed_json_names_the_endpoint(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(RUNS, body='[{"id": 1, "status": "Runn', content_type="application/json")
    with pytest.raises(DAIProtocolError) as info:
        client.find_run(EXEC)
    assert_dai_message(info.value, RUN_STATUS.at(BASE), "not JSON", "application/json")


def test_rule8_html_page_with_200_names_the_endpoint(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        RUNS,
        body="<html><body><h1>Sign in</h1><form>...</form></body></html>",
        content_type="text/html",
    )
    with pytest.raises(DAIProtocolError) as info:
        client.find_run(EXEC)
    text = assert_dai_message(info.value, RUN_STATUS.at(BASE), "not JSON", "text/html", "Sign in")
    assert "<" not in text


# -- rule 9: abort answering 404 is not an error ------------------------------------------------


def test_rule9_abort_404_is_false(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=404, json={"detail": "Execution not found"})
    assert client.abort_execution(EXEC) is False


def test_rule9_abort_204_is_true(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=204)
    assert client.abort_execution(EXEC) is True
    (request,) = calls(rsps, "DELETE", f"{EXECUTIONS}/{EXEC}")
    assert bearer_of(request).startswith(TOKEN)


def bearer_of(request: Any) -> str:
    return str(request.headers["Authorization"]).removeprefix("Bearer ")


@responses.activate(registry=OrderedRegistry)
def test_rule9_abort_after_the_run_ended(creds: Any) -> None:
    from .support import TOKEN_URL

    responses.post(TOKEN_URL, json={"access_token": f"{TOKEN}-o", "expires_in": 300})
    responses.delete(f"{EXECUTIONS}/{EXEC}", status=204)
    responses.delete(f"{EXECUTIONS}/{EXEC}", status=404, json={"detail": "already finished"})
    with DAIClient("http://dai.test:8000", creds, attempts=2, backoff_factor=0) as client:
        assert client.abort_execution(EXEC) is True
        assert client.abort_execution(EXEC) is False
