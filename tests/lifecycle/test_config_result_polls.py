"""Polling a test-config run on the public API as it is (contract 2.7, rule 14), with
``responses``: once our result is known a poll is one read of it (E8 ``/{id}``), a server
without that read falls back to the list once for the session, pages stop as soon as ours (or
only older results) are read, and a result is picked by its start time, not by the order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.test_configs import TestConfig, TestConfigAPI
from pytest_dai.lifecycle.test_config_run import TestConfigResult

BASE = "http://dai.test:8000"
TOKEN_URL = BASE + "/auth/realms/eggplant/protocol/openid-connect/token"
RESULTS = BASE + "/api/v2/test_config_results"
ONE = re.compile(re.escape(RESULTS) + r"/[^/]+$")
CONFIG = TestConfig(id="tc-1", name="Nightly")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, json={"access_token": "tok-x1234", "expires_in": 300})
        yield mock


@pytest.fixture
def api(rsps: responses.RequestsMock) -> Iterator[TestConfigAPI]:
    creds = Credentials("client-x", "secret-x1234", TOKEN_URL)
    with DAIClient(BASE, creds, attempts=2, backoff_factor=0, timeout=5) as client:
        yield TestConfigAPI(client)


def when(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def record(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": number, "test_config_id": "tc-1", "status": "RUNNING", **fields}


def reads(rsps: responses.RequestsMock) -> list[str]:
    return [str(c.request.url) for c in rsps.calls if c.request.method == "GET"]


def list_reads(rsps: responses.RequestsMock) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(url).query) for url in reads(rsps) if url.split("?")[0] == RESULTS]


def test_once_known_a_poll_is_one_read_of_our_result(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.get(RESULTS, json={"items": [record(5, task_instance_id="ti-1")], "total_count": 1})
    rsps.get(RESULTS + "/5", json=record(5, task_instance_id="ti-1"))
    run = TestConfigResult(api, CONFIG, "ti-1", poll_interval=0.05)
    for _ in range(4):
        run.refresh()
    assert run.id == "5"
    assert len(list_reads(rsps)) == 1
    assert [u for u in reads(rsps) if u == RESULTS + "/5"] == [RESULTS + "/5"] * 3


def test_a_server_without_the_one_result_read_falls_back_once(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.get(RESULTS, json=[record(5, task_instance_id="ti-1")])
    rsps.get(ONE, status=404, json={"title": "Not Found", "status": 404, "detail": None})
    first = TestConfigResult(api, CONFIG, "ti-1", poll_interval=0.05)
    second = TestConfigResult(api, CONFIG, "ti-1", poll_interval=0.05)
    for _ in range(3):
        first.refresh()
        second.refresh()
    assert (first.id, second.id) == ("5", "5")
    assert len([u for u in reads(rsps) if ONE.match(u)]) == 1  # once for the session
    assert len(list_reads(rsps)) == 6


def paged_oldest_first(rsps: responses.RequestsMock, records: list[dict[str, Any]]) -> None:
    """A server that ignores the sort asked, lists oldest first, 10 a page."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        asked = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        offset, limit = int(asked.get("offset", 0)), min(int(asked.get("limit", 10)), 10)
        page = {"items": records[offset : offset + limit], "total_count": len(records)}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    rsps.add_callback(responses.GET, RESULTS, callback=answer)


def test_ours_among_300_results_listed_oldest_first_is_found_reading_from_the_end(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    old = [record(i, task_instance_id=f"t{i}", start_time=when(-9000 + i)) for i in range(299)]
    paged_oldest_first(rsps, [*old, record(999, task_instance_id="ti-1", start_time=when(0))])
    rsps.get(RESULTS + "/999", json=record(999, task_instance_id="ti-1"))
    run = TestConfigResult(api, CONFIG, "ti-1", poll_interval=0.05).refresh()
    assert run.id == "999"
    offsets = [q["offset"] for q in list_reads(rsps)]
    assert offsets == [["0"], ["290"]]  # the first page, then the last one
    run.refresh()
    assert len(list_reads(rsps)) == 2  # then one read of ours a poll


def test_without_task_instance_ids_the_pages_stop_at_older_results(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    # Newest first, honoured; no task_instance_id anywhere: the first page already shows a
    # result that started an hour before ours, so no page after it can hold ours.
    records = [record(100 - i, start_time=when(-3600 - i)) for i in range(40)]
    pages = {
        "0": {"items": records[:10], "total_count": 40},
        "10": {"items": records[10:20], "total_count": 40},
    }

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        offset = parse_qs(urlsplit(str(request.url)).query)["offset"][0]
        return 200, {"Content-Type": "application/json"}, json.dumps(pages.get(offset, {}))

    rsps.add_callback(responses.GET, RESULTS, callback=answer)
    assert TestConfigResult(api, CONFIG, "ti-1").refresh().id is None
    assert len(list_reads(rsps)) == 1


def test_without_ids_the_newest_by_start_time_is_picked_whatever_the_order(
    api: TestConfigAPI, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        RESULTS,
        json=[
            record(31, start_time=when(-2)),  # listed first, but older than 32
            record(32, start_time=when(-1)),
        ],
    )
    assert TestConfigResult(api, CONFIG, "ti-1").refresh().id == "32"


@pytest.mark.parametrize(
    "answer", [{"items": [{"id": 5}]}, [record(5)], {"status": "RUNNING"}, "not json"]
)
def test_a_one_result_read_that_is_not_one_result_falls_back_to_the_list(
    api: TestConfigAPI, rsps: responses.RequestsMock, answer: object
) -> None:
    rsps.get(RESULTS, json=[record(5, task_instance_id="ti-1")])
    if isinstance(answer, str):
        rsps.get(RESULTS + "/5", body=answer)
    else:
        rsps.get(RESULTS + "/5", json=answer)
    run = TestConfigResult(api, CONFIG, "ti-1", poll_interval=0.05)
    for _ in range(3):
        run.refresh()
    assert run.id == "5"
    assert len([u for u in reads(rsps) if u == RESULTS + "/5"]) == 1
    assert len(list_reads(rsps)) == 3
