"""The simulator's run-record dialect fields of contract revision 3 (section 2.7): the status
under ``teststatus``, lists oldest first with a history of past runs, one-record reads
``GET /ai/runs/{id}``, and a DAI cloud's extra fields."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_dai.simulator import DAISimulator


def listed(api: Any, **params: Any) -> dict[str, Any]:
    response = api.get("/ai/runs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_one_run_is_read_by_its_run_id(api) -> None:
    execution_id = api.start("m-quick", "a1")
    record = api.wait_final(execution_id)
    response = api.get(f"/ai/runs/{record['id']}")
    assert response.status_code == 200
    assert response.json()["execution_id"] == execution_id
    assert response.json()["status"] == "Passed"
    assert api.get("/ai/runs/999999").status_code == 404
    assert api.get("/ai/runs/not-a-number").status_code == 404
    assert api.post(f"/ai/runs/{record['id']}").status_code == 405


def test_without_one_run_reads_the_path_is_404(sim: DAISimulator, api) -> None:
    sim.set_dialect(run_by_id=False)
    execution_id = api.start("m-quick", "a1")
    record = api.wait_final(execution_id)
    assert api.get(f"/ai/runs/{record['id']}").status_code == 404


def test_dai_cloud_preset_lists_oldest_first_with_teststatus(scenario_data, make_api) -> None:
    with DAISimulator(scenario_data(), dialect="dai_cloud") as sim:
        api = make_api(sim)
        execution_id = api.start("m-quick", "a1")
        first = listed(api, execution_id=execution_id)  # the filter is ignored
        assert first["total_count"] == 301
        assert len(first["items"]) == 20
        ids = [record["id"] for record in first["items"]]
        assert ids == sorted(ids)  # oldest first
        assert execution_id not in {str(r["execution_id"]) for r in first["items"]}
        last = listed(api, limit=20, offset=281)["items"]
        ours = last[-1]
        assert str(ours["execution_id"]) == execution_id
        assert "status" not in ours
        assert ours["teststatus"] in ("INCOMPLETE", "PASSED")
        assert ours["runtype"] == "exploratory"
        assert "groupid" in ours
        assert ours["testcase"] is None
        past = first["items"][0]
        assert past["teststatus"] == "PASSED"
        assert past["endtime"] is not None
        assert past["id"] < ours["id"]


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
def test_past_runs_and_order(sim: DAISimulator, api, order: str) -> None:
    sim.set_dialect(past_runs=5, runs_order=order, runs_ignore_filter=True, envelope="items")
    execution_id = api.start("m-quick", "a1")
    records = listed(api)["items"]
    assert len(records) == 6
    ids = [record["id"] for record in records]
    assert ids == sorted(ids, reverse=order == "newest_first")
    newest = records[-1] if order == "oldest_first" else records[0]
    assert str(newest["execution_id"]) == execution_id


def test_the_filter_hides_past_runs(sim: DAISimulator, api) -> None:
    sim.set_dialect(past_runs=5)
    execution_id = api.start("m-quick", "a1")
    assert [
        str(r["execution_id"])
        for r in api.get("/ai/runs", params={"execution_id": execution_id}).json()
    ] == [execution_id]


def test_running_words_of_the_cloud(scenario_data, make_api) -> None:
    with DAISimulator(scenario_data(time_scale=10), dialect="dai_cloud") as sim:
        api = make_api(sim)
        execution_id = api.start("m-quick", "a1")
        record = api.get("/ai/runs", params={"limit": 5, "offset": 296}).json()["items"][-1]
        assert str(record["execution_id"]) == execution_id
        assert record["teststatus"] == "INCOMPLETE"
        assert record["endtime"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status_field", "state"),
        ("runs_order", "sideways"),
        ("past_runs", -1),
        ("run_by_id", "yes"),
        ("cloud_fields", 3),
    ],
)
def test_bad_dialect_fields_are_refused(sim: DAISimulator, field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        sim.set_dialect(**{field: value})
