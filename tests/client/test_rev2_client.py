"""Client items of contract revision 2: paging of /ai/runs, aborts of finished runs, the start
body (script, asset, integer pause, rerun without model, agent null) and v2 auth."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIAuthError, DAIConfigError, DAIHTTPError
from pytest_dai.client.records import Model
from pytest_dai.client.run_lookup import MAX_RUN_PAGES
from pytest_dai.client.start_body import Asset

from .support import (
    BASE,
    CLIENT_ID,
    EXECUTIONS,
    MODELS,
    RUNS,
    SECRET,
    assert_dai_message,
    assert_no_secret,
    calls,
)

EXEC = "7d1e0c44-0000-4000-8000-00000000beef"


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def record(execution_id: str, status: str = "Running") -> dict[str, Any]:
    return {"id": 1, "execution_id": execution_id, "status": status, "endtime": None}


def others(start: int, count: int) -> list[dict[str, Any]]:
    return [record(f"other-{n}") for n in range(start, start + count)]


# -- rule 10: paging when /ai/runs ignores the filter ------------------------------------------


def test_record_on_the_third_page_is_found(client: DAIClient, rsps: responses.RequestsMock) -> None:
    # 45 runs, 20 a page, in no order a page shows (all ids 1); the filter ignored; ours is
    # the 43rd: the last page is read first (contract rule 13), then the list from the start.
    everything = [*others(0, 42), record(EXEC, "Passed"), *others(42, 2)]

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        q = query(request)
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 20))
        body = {"items": everything[offset : offset + limit], "total_count": len(everything)}
        return 200, {}, json.dumps(body)

    rsps.add_callback(responses.GET, RUNS, callback=answer)
    found = client.find_run(EXEC)
    assert found is not None
    assert found.execution_id == EXEC
    asked = [query(r) for r in calls(rsps, "GET", RUNS)]
    assert asked == [
        {"execution_id": EXEC},
        {"execution_id": EXEC, "limit": "20", "offset": "25"},
    ]


def test_paging_ends_at_total_count_and_is_bounded(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(RUNS, json={"items": others(0, 20), "total_count": 20})
    assert client.find_run(EXEC) is None
    assert len(calls(rsps, "GET", RUNS)) == 1  # total_count says there is no second page

    rsps.reset()
    counter = iter(range(10_000))

    def endless(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        start = next(counter) * 20
        return 200, {}, json.dumps(others(start, 20))  # a bare list, no total: always more

    rsps.add_callback(responses.GET, RUNS, callback=endless)
    assert client.find_run(EXEC) is None
    assert len(calls(rsps, "GET", RUNS)) == MAX_RUN_PAGES


def test_paging_stops_when_offset_is_ignored(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(RUNS, json=others(0, 20))  # the same page whatever offset says
    assert client.find_run(EXEC) is None
    assert len(calls(rsps, "GET", RUNS)) == 2


def test_filter_honoured_needs_one_request(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(RUNS, json=[])
    assert client.find_run(EXEC) is None
    assert len(calls(rsps, "GET", RUNS)) == 1


# -- rule 9: an abort answered 400/422 "finished" or "unknown" ---------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (422, {"detail": "Execution has already finished"}),
        (400, {"detail": "Execution 7d1e is unknown"}),
        (422, {"detail": [{"loc": ["path", "id"], "msg": "Execution not found"}]}),
        (400, {"message": "The execution is completed"}),
    ],
)
def test_abort_of_a_finished_run_is_already_over(
    client: DAIClient, rsps: responses.RequestsMock, status: int, body: dict[str, Any]
) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=status, json=body)
    assert client.abort_execution(EXEC) is False


def test_abort_refused_for_another_reason_is_an_error(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.delete(f"{EXECUTIONS}/{EXEC}", status=422, json={"detail": "RabbitMQ is not available"})
    with pytest.raises(DAIHTTPError) as info:
        client.abort_execution(EXEC)
    assert info.value.status == 422
    assert_dai_message(info.value, "422", "RabbitMQ is not available")


# -- the start body (contract 2.1) --------------------------------------------------------------


def sent(rsps: responses.RequestsMock) -> dict[str, Any]:
    (request,) = calls(rsps, "POST", EXECUTIONS)
    body = request.body
    data: dict[str, Any] = json.loads(body.decode() if isinstance(body, bytes) else str(body))
    return data


def test_script_asset_and_integer_pause(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC})
    client.start_execution(
        "uuid-1",
        agent_id="agent-1",
        step_pause_time=2.0,
        script="TestCases/Login",
        asset=Asset(asset_version_id="v-9", asset_path="Suites/Shop.suite"),
    )
    assert sent(rsps) == {
        "execution_type": "executing",
        "model_id": "uuid-1",
        "agent": {"agent_id": "agent-1", "is_hosted_agent": False},
        "step_pause_time": 2,
        "script": "TestCases/Login",
        "asset": {"asset_version_id": "v-9", "asset_path": "Suites/Shop.suite"},
    }
    assert isinstance(sent(rsps)["step_pause_time"], int)


def test_rerun_without_model(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.post(EXECUTIONS, status=201, json={"id": EXEC})
    client.start_execution(None, rerun_id="30832")
    assert sent(rsps) == {"execution_type": "executing", "agent": None, "rerun_id": 30832}


def test_a_start_needs_model_rerun_or_script(client: DAIClient) -> None:
    with pytest.raises(DAIConfigError, match="a model, a run to re-run"):
        client.start_execution(None)


def test_an_unknown_start_option_is_refused(client: DAIClient) -> None:
    """A misspelt option is an error, not a start without it (nothing is sent)."""
    options: dict[str, Any] = {"agent": "agent-1"}  # the session's word; the client's: agent_id
    with pytest.raises(TypeError, match=r"unexpected start option\(s\): agent$"):
        client.start_execution("m-1", **options)


@pytest.mark.parametrize("pause", [1.5, -1, True, "2"])
def test_step_pause_time_must_be_whole_seconds(client: DAIClient, pause: Any) -> None:
    with pytest.raises(DAIConfigError, match="step_pause_time"):
        client.start_execution("m-1", step_pause_time=pause)


def test_modeluuid_is_what_a_start_sends(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(MODELS, json=[{"id": 7, "name": "Shop", "modeluuid": "6b1f-uuid"}, {"id": "m-2"}])
    shop, plain = client.list_models()
    assert (shop.id, shop.uuid, shop.start_id) == ("7", "6b1f-uuid", "6b1f-uuid")
    assert plain.start_id == "m-2"
    assert Model.parse({"modeluuid": "only-uuid"}, "E5").start_id == "only-uuid"


# -- dai_auth = v2: POST {url}/api/v2/auth with JSON --------------------------------------------

V2_URL = BASE + "/api/v2/auth"


@pytest.fixture
def v2_rsps() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def v2_client(secret: str = SECRET) -> DAIClient:
    creds = Credentials(CLIENT_ID, secret, V2_URL, scheme="v2")
    return DAIClient(BASE, creds, attempts=2, backoff_factor=0, timeout=5)


def test_v2_auth_posts_json_and_refreshes_on_401(v2_rsps: responses.RequestsMock) -> None:
    tokens = iter(["v2-tok-1", "v2-tok-2"])

    def auth(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert request.headers["Content-Type"] == "application/json"
        body = request.body
        data = json.loads(body.decode() if isinstance(body, bytes) else str(body))
        assert data == {"client_id": CLIENT_ID, "client_secret": SECRET}
        return 200, {}, json.dumps({"access_token": next(tokens), "expires_in": 600})

    v2_rsps.add_callback(responses.POST, V2_URL, callback=auth)
    v2_rsps.get(MODELS, status=401, json={"message": "Token expired"})
    v2_rsps.get(MODELS, json=[{"id": "m-1"}])
    with v2_client() as client:
        assert [m.id for m in client.list_models()] == ["m-1"]
        sent_tokens = [str(r.headers["Authorization"]) for r in calls(v2_rsps, "GET", MODELS)]
        assert sent_tokens == ["Bearer v2-tok-1", "Bearer v2-tok-2"]
        assert len(calls(v2_rsps, "POST", V2_URL)) == 2
        assert_no_secret(client, client.tokens)
        assert "scheme='v2'" in repr(client.tokens._credentials)


def test_v2_auth_refused_is_one_clear_line(v2_rsps: responses.RequestsMock) -> None:
    v2_rsps.post(V2_URL, status=401, json={"message": "Invalid client credentials"})
    with v2_client("wrong-secret-123") as client, pytest.raises(DAIAuthError) as info:
        client.list_models()
    text = assert_dai_message(info.value, "401", "Invalid client credentials", V2_URL)
    assert "wrong-secret-123" not in text
