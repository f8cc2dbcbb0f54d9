"""Run records of contract revision 3 (section 2.7, tolerance rule 13): ``teststatus``,
``INCOMPLETE`` while going, ``/ai/runs`` listed oldest first, and one-record reads
``GET /ai/runs/{id}`` with a fallback to the list once per session."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIProtocolError
from pytest_dai.client.records import RunRecord
from pytest_dai.client.run_lookup import list_order
from pytest_dai.client.status import RunState

from .support import RUNS

EXEC = "9f1e0c44-0000-4000-8000-00000000cafe"
ONE_RUN = re.compile(re.escape(RUNS) + r"/[^/?]+$")


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def cloud_record(run_id: int, execution_id: str, word: str = "INCOMPLETE", **more: Any) -> dict:
    """A record as the DAI cloud writes it: ``teststatus``, no ``status`` (contract 2.7)."""
    return {
        "id": run_id,
        "execution_id": execution_id,
        "groupid": 77,
        "modelname": "Shop",
        "testcase": "Checkout",
        "runtype": "directed",
        "teststatus": word,
        "starttime": f"2026-12-01T10:{run_id % 60:02d}:00Z",
        "endtime": None,
        **more,
    }


class CloudList:
    """``GET /ai/runs`` of a DAI cloud: ``total_count`` runs, OLDEST first, the filter
    ignored, 20 a page; ours is the newest (the last). ``by_id``: whether
    ``GET /ai/runs/{id}`` answers."""

    def __init__(self, rsps: responses.RequestsMock, total: int, *, by_id: bool) -> None:
        self.records = [cloud_record(n, f"other-{n}", "PASSED") for n in range(1, total)]
        self.records.append(cloud_record(total, EXEC))
        self.list_queries: list[dict[str, str]] = []
        self.one_run_paths: list[str] = []
        rsps.add_callback(responses.GET, RUNS, callback=self.list_page)
        rsps.add_callback(responses.GET, ONE_RUN, callback=self.one_run)
        self.by_id = by_id

    def list_page(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        q = query(request)
        self.list_queries.append(q)
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 20))
        page = self.records[offset : offset + limit]
        return 200, {}, json.dumps({"items": page, "total_count": len(self.records)})

    def one_run(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        path = urlsplit(str(request.url)).path
        self.one_run_paths.append(path)
        if not self.by_id:
            return 404, {}, json.dumps({"detail": "Not Found"})
        run_id = int(path.rsplit("/", 1)[1])
        return 200, {}, json.dumps(self.records[run_id - 1])

    def finish(self, word: str = "PASSED") -> None:
        self.records[-1] = {**self.records[-1], "teststatus": word, "endtime": "2026-12-01T11:00Z"}


# -- the record --------------------------------------------------------------------------------


def test_teststatus_is_read_when_there_is_no_status() -> None:
    record = RunRecord.parse(cloud_record(5, EXEC, "PASSED", endtime="2026-12-01T11:00Z"), "E2")
    assert record.status.state is RunState.PASSED
    assert record.status.word == "PASSED"
    assert (record.run_type, record.test_case) == ("directed", "Checkout")


def test_status_wins_over_teststatus() -> None:
    raw = {**cloud_record(5, EXEC, "INCOMPLETE"), "status": "Failed", "endtime": "2026-12-01Z"}
    assert RunRecord.parse(raw, "E2").status.state is RunState.FAILED


def test_a_record_with_neither_names_both_fields() -> None:
    raw = cloud_record(5, EXEC)
    del raw["teststatus"]
    with pytest.raises(DAIProtocolError, match=r"status or teststatus") as caught:
        RunRecord.parse(raw, "reading the run's status (GET http://dai/ai/runs)")
    assert "GET http://dai/ai/runs" in str(caught.value)


@pytest.mark.parametrize("word", ["INCOMPLETE", "Incomplete", "incomplete", " in_complete "])
def test_incomplete_without_endtime_is_running(word: str) -> None:
    status = RunRecord.parse(cloud_record(5, EXEC, word), "E2").status
    assert status.state is RunState.RUNNING
    assert not status.final


@pytest.mark.parametrize("word", ["INCOMPLETE", "Incomplete"])
def test_incomplete_with_endtime_is_an_error_naming_the_word(word: str) -> None:
    raw = cloud_record(5, EXEC, word, endtime="2026-12-01T11:00:00Z")
    status = RunRecord.parse(raw, "E2").status
    assert status.state is RunState.ERROR
    assert status.final
    assert word in status.describe()


def test_records_without_cloud_fields_have_none() -> None:
    record = RunRecord.parse({"id": 1, "execution_id": EXEC, "status": "Running"}, "E2")
    assert (record.run_type, record.test_case) == (None, None)


# -- finding and polling a run -----------------------------------------------------------------


def test_300_runs_oldest_first_found_in_at_most_3_requests_then_one_record_per_poll(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    server = CloudList(rsps, 300, by_id=True)
    found = client.find_run(EXEC)
    assert found is not None
    assert found.execution_id == EXEC
    assert found.status.state is RunState.RUNNING
    assert len(server.list_queries) <= 3
    assert server.list_queries[-1]["offset"] == "280"  # the end of the list, read first
    lookups = len(server.list_queries)
    for _ in range(5):
        polled = client.find_run(EXEC, run_id=found.run_id)
        assert polled is not None
        assert polled.status.state is RunState.RUNNING
    server.finish()
    final = client.find_run(EXEC, run_id=found.run_id)
    assert final is not None
    assert final.status.state is RunState.PASSED
    assert len(server.list_queries) == lookups  # no more listing
    assert server.one_run_paths == ["/ai/runs/300"] * 6


def test_without_one_run_reads_the_list_is_used_and_the_404_asked_once(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    server = CloudList(rsps, 300, by_id=False)
    found = client.find_run(EXEC)
    assert found is not None
    lookups = len(server.list_queries)
    for _ in range(4):
        assert client.find_run(EXEC, run_id=found.run_id) is not None
    # One 404 for the session; then each poll is one request: the page that held the run.
    assert server.one_run_paths == ["/ai/runs/300"]
    assert len(server.list_queries) == lookups + 4
    assert all(q["offset"] == "280" for q in server.list_queries[lookups:])
    # A second run of the same session does not ask /ai/runs/{id} again either.
    server.records.append(cloud_record(301, "second"))
    second = client.find_run("second", run_id="301")
    assert second is not None
    assert server.one_run_paths == ["/ai/runs/300"]


def test_a_one_run_answer_about_another_run_falls_back_to_the_list(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    server = CloudList(rsps, 30, by_id=True)
    found = client.find_run(EXEC)
    assert found is not None
    server.records[-1] = cloud_record(30, "someone-else")
    server.records.append(cloud_record(31, EXEC))
    again = client.find_run(EXEC, run_id="30")
    assert again is not None
    assert again.run_id == "31"
    assert client.find_run(EXEC, run_id="31") is not None
    assert server.one_run_paths == ["/ai/runs/30"]  # not asked again this session


def test_a_run_id_unfit_for_a_path_is_refused(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    CloudList(rsps, 3, by_id=True)
    with pytest.raises(DAIProtocolError, match="run id"):
        client.find_run(EXEC, run_id="../../ai/agents")


def test_newest_first_lists_are_read_forward(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    # 60 runs newest first, the filter ignored, ours the 45th listed: pages 2 and 3 forward.
    records = [cloud_record(100 - n, f"other-{n}", "PASSED") for n in range(60)]
    records[44] = cloud_record(56, EXEC)
    asked: list[dict[str, str]] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        q = query(request)
        asked.append(q)
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 20))
        return 200, {}, json.dumps({"items": records[offset : offset + limit], "total_count": 60})

    rsps.add_callback(responses.GET, RUNS, callback=answer)
    assert client.find_run(EXEC) is not None
    assert [q.get("offset") for q in asked] == [None, "20", "40"]


@pytest.mark.parametrize(
    ("ids", "order"),
    [
        ([1, 2, 3], "oldest first"),
        ([9, 5, 2], "newest first"),
        ([1, 1, 1], None),
        ([3, 1, 2], None),
        (["a", "b"], None),
    ],
)
def test_list_order(ids: list[Any], order: str | None) -> None:
    assert list_order([{"id": value} for value in ids]) == order
