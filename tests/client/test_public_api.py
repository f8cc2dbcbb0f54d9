"""Keysight's public API as DAI 7.4 to 26.x serve it (contract 2.7, tolerance rule 14), with
``responses``: the v1 fallback decided once, ``dai_api_version``, every page of the lists
(E8, E9, E10, E11) read until ``total_count``, the order checked, RFC 7807 errors."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from pytest_dai.client.api_version import ApiVersion, to_api_version
from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIAuthError, DAIConfigError, DAIError, DAIHTTPError
from pytest_dai.client.test_configs import TestConfigAPI

from .support import BASE, CLIENT_ID, SECRET, assert_dai_message, calls

V2 = BASE + "/api/v2"
V1 = BASE + "/api/v1"
PNG = b"\x89PNG\r\n\x1a\nfake"


def v2_auth_client(rsps: responses.RequestsMock, setting: str = "auto") -> DAIClient:
    creds = Credentials(CLIENT_ID, SECRET, V2 + "/auth", scheme="v2")
    return DAIClient(BASE, creds, attempts=2, backoff_factor=0, timeout=5, api_version=setting)


@pytest.fixture
def api(client: DAIClient) -> TestConfigAPI:
    return TestConfigAPI(client)


def query(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


# -- the version: v2, else v1 once for the session ------------------------------------------


def test_a_v2_404_whose_v1_path_answers_makes_the_session_v1_once(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    told: list[str] = []
    client.api.on_decided = told.append
    rsps.get(V2 + "/screenshots/img-1", status=404, json={"detail": "Not Found"})
    rsps.get(V1 + "/screenshots/img-1", body=PNG, content_type="image/png")
    rsps.get(V1 + "/screenshots/img-2", body=PNG, content_type="image/png")
    assert client.screenshot("img-1") == PNG
    assert client.screenshot("img-2") == PNG
    assert client.api.version == "v1"
    # Decided once: the second fetch went to v1 straight away.
    assert len(calls(rsps, "GET", V2 + "/screenshots/img-1")) == 1
    assert not calls(rsps, "GET", V2 + "/screenshots/img-2")
    assert told == [client.api.line()]
    assert "/api/v1" in told[0]
    assert "404" in told[0]


def test_a_v2_answer_settles_v2_and_a_later_404_is_not_tried_on_v1(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.get(V2 + "/screenshots/img-1", body=PNG, content_type="image/png")
    rsps.get(V2 + "/screenshots/gone", status=404, json={"detail": "Not Found"})
    client.screenshot("img-1")
    with pytest.raises(DAIError) as info:
        client.screenshot("gone")
    assert_dai_message(info.value, "/api/v2/screenshots/gone", "404")
    assert client.api.decided
    assert client.api.version == "v2"
    assert not [c for c in rsps.calls if "/api/v1/" in str(c.request.url)]


def test_a_404_on_both_versions_decides_nothing(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    for prefix in (V2, V1):
        rsps.get(prefix + "/screenshots/nope", status=404, json={"detail": "Not Found"})
    with pytest.raises(DAIError):
        client.screenshot("nope")
    assert not client.api.decided
    assert client.api.version == "v2"


def test_the_v2_auth_answering_404_falls_back_to_v1_auth(rsps: responses.RequestsMock) -> None:
    rsps.post(V2 + "/auth", status=404, json={"detail": "Not Found"})
    rsps.post(V1 + "/auth", json={"access_token": "tok-ABC123-v1", "expires_in": 600})
    rsps.get(V1 + "/test_results", json={"items": [], "total_count": 0})
    with v2_auth_client(rsps) as client:
        assert TestConfigAPI(client).test_results("r-1") == []
        assert client.api.version == "v1"
        assert "POST /api/v2/auth answered 404" in client.api.why
        assert json.loads(calls(rsps, "POST", V1 + "/auth")[0].body or b"{}") == {
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        }
        assert not calls(rsps, "GET", V2 + "/test_results")


def test_the_v2_auth_answering_settles_v2(rsps: responses.RequestsMock) -> None:
    rsps.post(V2 + "/auth", json={"access_token": "tok-ABC123-v2", "expires_in": 600})
    rsps.get(V2 + "/test_results", status=404, json={"detail": "Not Found"})
    with v2_auth_client(rsps) as client:
        with pytest.raises(DAIHTTPError):
            TestConfigAPI(client).test_results("r-1")
        assert client.api.version == "v2"
        assert not calls(rsps, "GET", V1 + "/test_results")


def test_dai_api_version_v1_goes_to_v1_at_once_and_v2_never_tries_v1(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(V1 + "/auth", json={"access_token": "tok-ABC123-v1", "expires_in": 600})
    rsps.get(V1 + "/test_results", json=[])
    with v2_auth_client(rsps, "v1") as client:
        TestConfigAPI(client).test_results("r-1")
    assert not [c for c in rsps.calls if "/api/v2" in str(c.request.url)]
    rsps.post(V2 + "/auth", json={"access_token": "tok-ABC123-v2", "expires_in": 600})
    rsps.get(V2 + "/test_results", status=404)
    before = len(calls(rsps, "GET", V1 + "/test_results"))
    with v2_auth_client(rsps, "v2") as client, pytest.raises(DAIHTTPError):
        TestConfigAPI(client).test_results("r-1")
    assert len(calls(rsps, "GET", V1 + "/test_results")) == before


@pytest.mark.parametrize("bad", ["v3", "", "latest", "2"])
def test_a_bad_api_version_is_one_line(bad: str) -> None:
    with pytest.raises(DAIConfigError) as info:
        to_api_version(bad)
    assert_dai_message(info.value, "dai_api_version", "auto, v1 or v2")
    assert to_api_version(" V1 ") == "v1"


def test_the_version_is_decided_once_whatever_the_threads_do() -> None:
    told: list[str] = []
    version = ApiVersion("auto", on_decided=told.append)
    barrier = threading.Barrier(8)

    def decide(which: str) -> None:
        barrier.wait()
        version.decide(which, f"thread {which}")

    threads = [threading.Thread(target=decide, args=("v1" if i % 2 else "v2",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert version.decided
    assert len(told) == (1 if version.version == "v1" else 0)
    assert version.decide("v1" if version.version == "v2" else "v2", "late") == version.version


# -- DAI 7.4: no test-config results -----------------------------------------------------------


def test_a_config_on_a_v1_session_is_one_line_without_a_request(
    client: DAIClient, api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    client.api.decide("v1", "seen")
    before = len(rsps.calls)
    with pytest.raises(DAIError) as info:
        api.check_results_api("tc-1")
    assert_dai_message(info.value, "needs DAI 7.5 or later", "test_config_results")
    assert len(rsps.calls) == before


def test_a_server_without_test_config_results_is_one_line(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.get(V2 + "/test_config_results", status=404, json={"detail": "Not Found"})
    with pytest.raises(DAIError) as info:
        api.check_results_api("tc-1")
    assert_dai_message(info.value, "DAI 7.5 or later", "GET http://dai.test:8000/api/v2/")
    assert not calls(rsps, "GET", V1 + "/test_config_results")  # v1 never has it


def test_the_results_api_is_asked_once(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    rsps.get(V2 + "/test_config_results", json={"items": [], "total_count": 0})
    api.check_results_api("tc-1")
    api.check_results_api("tc-1")
    assert len(calls(rsps, "GET", V2 + "/test_config_results")) == 1
    assert query(rsps.calls[-1].request)["limit"] == "1"


# -- every page ------------------------------------------------------------------------------


def paged(rsps: responses.RequestsMock, url: str, records: list[dict[str, Any]]) -> None:
    """A server that pages ``records`` by at most 4, with ``total_count``, ignoring sorts."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        asked = query(request)
        offset, limit = int(asked.get("offset", 0)), min(int(asked.get("limit", 4)), 4)
        page = {"items": records[offset : offset + limit], "total_count": len(records)}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    rsps.add_callback(responses.GET, url, callback=answer)


def at(minute: int) -> str:
    return f"2026-12-01T10:{minute:02d}:00Z"


def test_results_over_three_pages_are_all_read_newest_first_asked(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    records = [
        {"id": f"r{i}", "status": "PASSED", "start_time": at(50 - i), "task_instance_id": f"t{i}"}
        for i in range(11)
    ]
    paged(rsps, V2 + "/test_config_results", records)
    got = api.results("tc-1")
    assert [r.id for r in got] == [f"r{i}" for i in range(11)]
    sent = [query(c) for c in calls(rsps, "GET", V2 + "/test_config_results")]
    assert [q["offset"] for q in sent] == ["0", "4", "8"]
    assert sent[0]["sort_by"] == "start_time"
    assert sent[0]["sort_order"] == "desc"


def test_results_listed_oldest_first_are_read_from_the_end(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    # A server that ignores the sort asked for and lists 30 results oldest first.
    records = [
        {"id": f"r{i}", "status": "PASSED", "start_time": at(i), "task_instance_id": f"t{i}"}
        for i in range(30)
    ]
    paged(rsps, V2 + "/test_config_results", records)
    got = api.results("tc-1", enough=lambda rs: any(r.task_instance_id == "t28" for r in rs))
    assert "r28" in [r.id for r in got]
    sent = [query(c) for c in calls(rsps, "GET", V2 + "/test_config_results")]
    assert [q["offset"] for q in sent] == ["0", "26"]  # the first page, then the last


def test_test_results_over_three_pages_come_in_the_order_they_started(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    records = [{"id": f"t{i}", "status": "Passed", "start_time": at(20 - i)} for i in range(10)]
    paged(rsps, V2 + "/test_results", records)
    got = api.test_results("res-1")
    assert [r.id for r in got] == [f"t{i}" for i in reversed(range(10))]
    assert len(calls(rsps, "GET", V2 + "/test_results")) == 3


def test_screenshots_over_three_pages(api: TestConfigAPI, rsps: responses.RequestsMock) -> None:
    paged(rsps, V2 + "/test_results/t1/screenshots", [{"id": f"s{i}"} for i in range(9)])
    got = api.test_result_screenshots("t1")
    assert [s["id"] for s in got] == [f"s{i}" for i in range(9)]
    assert len(calls(rsps, "GET", V2 + "/test_results/t1/screenshots")) == 3


def test_a_log_listed_newest_first_is_turned_round(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    entries = [{"id": i, "eventtime": at(i), "message": f"m{i}"} for i in reversed(range(6))]
    paged(rsps, V2 + "/test_results/t1/logs", entries)
    got = api.test_result_logs("t1")
    assert [e.message for e in got] == [f"m{i}" for i in range(6)]


def test_a_server_that_ignores_offset_ends_the_paging(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    same = {"items": [{"id": "s1"}, {"id": "s2"}], "total_count": 50}
    rsps.get(V2 + "/test_results/t1/screenshots", json=same)
    assert [s["id"] for s in api.test_result_screenshots("t1")] == ["s1", "s2"]
    assert len(calls(rsps, "GET", V2 + "/test_results/t1/screenshots")) == 2


def test_test_configurations_over_three_pages(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    url = BASE + "/test_config_service/api/v1/test_configurations"
    paged(rsps, url, [{"id": f"tc{i}", "name": f"Config {i}"} for i in range(10)])
    assert len(api.list_test_configs()) == 10
    assert len(calls(rsps, "GET", url)) == 3


# -- RFC 7807 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": None}, "401"),
        (
            {"type": "x", "title": "Conflict", "status": 409, "detail": "No test result 7"},
            "409 Conflict: No test result 7",
        ),
        ({"title": "Bad Request", "status": 400, "detail": "x" * 400}, "Bad Request: xxx"),
    ],
)
def test_rfc_7807_problems_quote_title_and_detail(
    api: TestConfigAPI, rsps: responses.RequestsMock, problem: dict[str, Any], expected: str
) -> None:
    status = problem["status"]
    rsps.get(V2 + "/test_results", status=status, json=problem)
    with pytest.raises(DAIError) as info:
        api.test_results("r-1")
    text = assert_dai_message(info.value, expected, problem["title"])
    assert "about:blank" not in text
    assert '"status"' not in text
    assert len(text) < 400


def test_a_problem_quoting_a_secret_is_masked(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    problem = {"title": "Forbidden", "status": 403, "detail": f"client_secret={SECRET} refused"}
    rsps.get(V2 + "/test_results", status=403, json=problem)
    with pytest.raises(DAIError) as info:
        api.test_results("r-1")
    assert_dai_message(info.value, "Forbidden: client_secret=***")


def test_a_v2_auth_problem_is_quoted(rsps: responses.RequestsMock) -> None:
    problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": None}
    rsps.post(V2 + "/auth", status=401, json=problem)
    with v2_auth_client(rsps) as client, pytest.raises(DAIAuthError) as info:
        client.tokens.get()
    assert_dai_message(info.value, "401 Unauthorized", CLIENT_ID)


def test_a_server_refusing_the_sort_parameters_is_asked_without_them_from_then_on(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if "sort_by" in query(request):
            problem = {"detail": [{"loc": ["query", "sort_by"], "msg": "unknown field"}]}
            return 422, {"Content-Type": "application/json"}, json.dumps(problem)
        return 200, {"Content-Type": "application/json"}, json.dumps([{"id": "r1", "status": "X"}])

    rsps.add_callback(responses.GET, V2 + "/test_config_results", callback=answer)
    assert [r.id for r in api.results("tc-1")] == ["r1"]
    assert [r.id for r in api.results("tc-1")] == ["r1"]
    sent = [query(c) for c in calls(rsps, "GET", V2 + "/test_config_results")]
    assert ["sort_by" in q for q in sent] == [True, False, False]


def test_a_missing_results_api_is_told_once_then_without_asking(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.get(V2 + "/test_config_results", status=404, json={"detail": "Not Found"})
    for _ in range(3):
        with pytest.raises(DAIError, match=r"needs DAI 7\.5 or later"):
            api.check_results_api("tc-1")
    assert len(calls(rsps, "GET", V2 + "/test_config_results")) == 1


def test_an_endless_list_is_read_a_bounded_number_of_pages(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    from pytest_dai.client.pages import MAX_PAGES

    served = iter(range(10**9))

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        page = [{"id": f"s{next(served)}"} for _ in range(3)]
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"items": page, "total_count": 10**12}),
        )

    rsps.add_callback(responses.GET, V2 + "/test_results/t1/screenshots", callback=answer)
    assert len(api.test_result_screenshots("t1")) == 3 * MAX_PAGES
    assert len(calls(rsps, "GET", V2 + "/test_results/t1/screenshots")) == MAX_PAGES


def test_a_huge_total_count_read_from_the_end_stops_at_an_empty_page(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    first = [{"id": f"r{i}", "status": "PASSED", "start_time": at(i)} for i in range(3)]

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        items = first if query(request)["offset"] == "0" else []
        body = {"items": items, "total_count": 10**12}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    rsps.add_callback(responses.GET, V2 + "/test_config_results", callback=answer)
    assert [r.id for r in api.results("tc-1")] == ["r0", "r1", "r2"]
    assert len(calls(rsps, "GET", V2 + "/test_config_results")) == 2
