"""Every dialect preset, driven by a client as tolerant as contract section 3 asks."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from pytest_dai.simulator import DIALECTS, DAISimulator, Dialect

EXECUTIONS = "/execution_service/api/v1/executions"
WORDS = {
    "queued": {"queued", "pending", "preparing", "scheduled", "waiting"},
    "running": {"running", "inprogress", "executing", "started", "incomplete"},
    "passed": {"passed", "success", "succeeded", "completed", "pass"},
    "failed": {"failed", "failure", "fail"},
    "error": {"error", "errored"},
    "cancelled": {"cancelled", "canceled", "aborted", "stopped"},
}


def meaning(word: str) -> str:
    key = word.lower().replace(" ", "").replace("_", "")
    return next(name for name, words in WORDS.items() if key in words)


def unwrap(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    for key in ("items", "results", "data"):
        if key in body:
            return list(body[key])
    raise AssertionError(f"no list in {body}")


class TolerantClient:
    def __init__(self, sim: DAISimulator) -> None:
        self.sim = sim
        self.session = requests.Session()
        answer = self.session.post(
            sim.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
            },
            timeout=5,
        )
        if answer.status_code == 404:  # no Keycloak here (dai26): the public API's auth
            credentials = {"client_id": sim.client_id, "client_secret": sim.client_secret}
            answer = self.session.post(sim.v2_auth_url, json=credentials, timeout=5)
        token = answer.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def agents(self) -> list[dict[str, Any]]:
        response = self.session.get(self.sim.url + "/ai/agents", timeout=5)
        if response.status_code == 405:  # POST would create an agent: never list with it
            return [{"id": agent["id"]} for agent in self.sim.agents()]
        assert response.status_code == 200
        return unwrap(response.json())

    def models(self) -> list[dict[str, Any]]:
        return unwrap(self.session.get(self.sim.url + "/ai/models", timeout=5).json())

    def start(self, model_id: str, agent_id: str) -> tuple[int, str]:
        response = self.session.post(
            self.sim.url + EXECUTIONS,
            json={
                "execution_type": "executing",
                "model_id": model_id,
                "agent": {"agent_id": agent_id, "is_hosted_agent": False},
            },
            timeout=5,
        )
        body = response.json()
        key = next(k for k in ("id", "execution_id", "execution_status_id") if k in body)
        assert body["status"] == self.sim.dialect.status_word("Queued")
        return response.status_code, str(body[key])

    def record(self, execution_id: str) -> dict[str, Any] | None:
        """The run's record, its status under ``status`` (from ``teststatus`` where only that
        is given): the first page, then the last one (a list may be oldest first)."""
        params: dict[str, Any] = {"execution_id": execution_id}
        response = self.session.get(self.sim.url + "/ai/runs", params=params, timeout=5)
        if response.status_code == 404:
            return None
        assert response.status_code == 200
        body = response.json()
        records = unwrap(body)
        total = body.get("total_count") if isinstance(body, dict) else None
        if total is not None and total > len(records) and records:
            params.update(limit=len(records), offset=total - len(records))
            last = self.session.get(self.sim.url + "/ai/runs", params=params, timeout=5)
            records += unwrap(last.json())
        for record in records:
            own = record.get("execution_id", record.get("execution_status_id"))
            if str(own) == execution_id:
                return {"status": record.get("teststatus"), **record}
        return None

    def wait(self, execution_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            record = self.record(execution_id)
            if record is not None and record["endtime"] is not None:
                return record
            time.sleep(0.02)
        raise AssertionError("run never ended")


@pytest.mark.parametrize("name", list(DIALECTS))
def test_full_flow_in_every_dialect(name: str, scenario_data) -> None:
    # time_scale 10000: Quick takes 0.03 s, Long 0.3 s (the abort lands after 0.05 s)
    with DAISimulator(scenario_data(time_scale=10000), dialect=name) as sim:
        dialect = DIALECTS[name]
        client = TolerantClient(sim)
        assert {a["id"] for a in client.agents()} == {"a1", "a2", "off"}
        assert {m["name"] for m in client.models()} >= {"Quick", "Failing"}
        status, passing = client.start("m-quick", "a1")
        assert status == dialect.start_status
        _, failing = client.start("m-fail", "a2")
        assert meaning(client.wait(passing)["status"]) == "passed"
        failed = client.wait(failing)
        assert meaning(failed["status"]) == "failed"
        logs = client.session.get(f"{sim.url}/ai/runlogs/{failed['id']}", timeout=5).json()
        if dialect.log_shape == "legacy":
            closing = [i for i in unwrap(logs) if "step" in i and "status" in i]
            assert [meaning(i["status"]) for i in closing] == ["passed", "failed"]
        else:
            steps = [i["step_id"] for i in unwrap(logs) if i["step_id"] is not None]
            assert sorted(set(steps)) == [1, 2]
            assert "date_as_of" in logs
        assert logs["total_count"] == len(unwrap(logs))
        _, cancelled = client.start("m-long", "a1")
        assert (
            client.session.delete(f"{sim.url}{EXECUTIONS}/{cancelled}", timeout=5).status_code
            == 204
        )
        assert meaning(client.wait(cancelled)["status"]) == "cancelled"
        error = client.session.get(sim.url + "/ai/runlogs/999999", timeout=5)
        assert error.status_code == 404
        if dialect.html_errors:
            assert error.headers["Content-Type"] == "text/html"
            assert error.text.startswith("<html>")
            assert len(error.text) > 200
        else:
            assert error.json() == {"detail": "Run 999999 not found"}


def test_id_fields_and_numbers(start_sim) -> None:
    sim = start_sim(dialect="status_id")
    client = TolerantClient(sim)
    response = client.session.post(
        sim.url + EXECUTIONS,
        json={"execution_type": "executing", "model_id": "m-quick"},
        timeout=5,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"execution_status_id", "model_id", "status"}
    record = unwrap(client.session.get(sim.url + "/ai/runs", timeout=5).json())[0]
    assert record["execution_status_id"] == body["execution_status_id"]
    assert "execution_id" not in record

    sim.dialect = "numeric_ids"
    body = client.session.post(
        sim.url + EXECUTIONS,
        json={"execution_type": "executing", "model_id": "m-quick"},
        timeout=5,
    ).json()
    assert isinstance(body["id"], int)
    assert client.record(str(body["id"]))["execution_id"] == body["id"]
    # both forms of the id are accepted everywhere
    assert (
        client.session.delete(f"{sim.url}{EXECUTIONS}/{body['id']}", timeout=5).status_code == 204
    )


def test_envelope_shape(start_sim) -> None:
    sim = start_sim(dialect="results")
    client = TolerantClient(sim)
    body = client.session.get(sim.url + "/ai/agents", timeout=5).json()
    assert set(body) == {"results", "total_count"}
    assert body["total_count"] == 3


def test_status_words_and_case(start_sim, scenario_data) -> None:
    sim = start_sim(scenario_data(time_scale=3000), dialect="alt_words")  # Quick: 0.1 s
    client = TolerantClient(sim)
    _, execution_id = client.start("m-quick", "a1")
    assert client.record(execution_id)["status"] == "In Progress"
    assert client.wait(execution_id)["status"] == "Succeeded"
    sim.set_dialect(status_case="upper")
    assert client.record(execution_id)["status"] == "SUCCEEDED"
    sim.set_dialect(status_case="lower", status_words={"Passed": "Completed"})
    assert client.record(execution_id)["status"] == "completed"
    sim.set_dialect(status_words={"Passed": "Finished OK"})  # a word outside the table
    assert client.record(execution_id)["status"] == "finished ok"


def test_agents_405(start_sim) -> None:
    sim = start_sim(dialect="agents405")
    client = TolerantClient(sim)
    response = client.session.get(sim.url + "/ai/agents", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_unfiltered_and_404_when_empty(start_sim) -> None:
    sim = start_sim(dialect="unfiltered")
    client = TolerantClient(sim)
    _, first = client.start("m-quick", "a1")
    _, second = client.start("m-quick", "a2")
    records = client.session.get(
        sim.url + "/ai/runs", params={"execution_id": first}, timeout=5
    ).json()
    assert {r["execution_id"] for r in records} == {first, second}
    sim.dialect = "empty404"
    response = client.session.get(sim.url + "/ai/runs", params={"execution_id": "x"}, timeout=5)
    assert response.status_code == 404
    sim.set_faults(no_record_grace=5)
    _, hidden = client.start("m-quick", "a1")
    assert client.record(hidden) is None


def test_extra_fields(start_sim) -> None:
    sim = start_sim(dialect="extra_fields")
    client = TolerantClient(sim)
    _, execution_id = client.start("m-quick", "a1")
    record = client.record(execution_id)
    assert "x_simulator_revision" in record
    assert all("x_simulator_revision" in a for a in client.agents())
    assert all("x_simulator_revision" in m for m in client.models())


def test_html_errors_on_faults(start_sim) -> None:
    sim = start_sim(dialect="html_errors", faults=None)
    sim.set_faults(burst=1, retry_after=1)
    response = requests.get(sim.url + "/ai/models", timeout=5)
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "text/html"
    assert response.headers["Retry-After"] == "1"
    assert "503 Service Unavailable" in response.text


def test_set_dialect_validates(sim) -> None:
    with pytest.raises(ValueError, match="envelope"):
        sim.set_dialect(envelope="wrapped")
    with pytest.raises(ValueError, match="unknown dialect preset"):
        sim.dialect = "nope"
    assert sim.dialect == Dialect()


def test_presets_are_not_shared(sim) -> None:
    sim.dialect = "alt_words"
    sim.dialect.status_words["Passed"] = "Yay"
    assert DIALECTS["alt_words"].status_words["Passed"] == "Succeeded"


@pytest.mark.parametrize(
    ("name", "status"), [("default", 404), ("abort400", 400), ("abort422", 422)]
)
def test_an_abort_of_a_finished_or_unknown_run_answers_the_dialects_status(
    name: str, status: int, scenario_data, make_api
) -> None:
    with DAISimulator(scenario_data(time_scale=3000), dialect=name) as sim:
        api = make_api(sim)
        execution_id = api.start("m-quick", "a1")
        api.wait_final(execution_id)
        finished = api.abort(execution_id)
        assert finished.status_code == status
        assert "has already finished (Passed)" in finished.json()["detail"]
        unknown = api.abort("no-such-execution")
        assert unknown.status_code == status
        assert unknown.json()["detail"] == "Execution 'no-such-execution' not found"
        running = api.start("m-long", "a1")
        assert api.abort(running).status_code == 204
