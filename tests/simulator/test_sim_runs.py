"""Runs: progress, outcomes, queueing, agents, aborts, attempts, test cases, reruns."""

from __future__ import annotations

import time

import pytest

EXECUTIONS = "/execution_service/api/v1/executions"


def test_run_progresses_step_by_step(start_sim, scenario_data, make_api) -> None:
    api = make_api(start_sim(scenario_data(time_scale=3000)))
    execution_id = api.start("m-long", agent="a1")  # 10 steps of 0.1 s
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        record = api.run(execution_id)
        seen.append((record["status"], record["steps_done"]))
        if record["endtime"] is not None:
            break
        time.sleep(0.03)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "Running"
    assert statuses[-1] == "Passed"
    done = [count for _, count in seen]
    assert done == sorted(done)
    assert len(set(done)) >= 8  # saw the steps go by one at a time
    assert done[-1] == 10


def test_state_is_exact_in_time(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(time_scale=3000))  # Quick: 0.1 s
    execution_id = make_api(sim).start("m-quick", agent="a1")
    snap = sim.execution(execution_id)
    started = snap["started_at"]
    assert snap["queued_at"] == started
    time.sleep(0.15)
    # no request in between: the end is computed from timestamps, not from when we look
    snap = sim.execution(execution_id)
    assert snap["status"] == "Passed"
    assert snap["ended_at"] == pytest.approx(started + 0.1, abs=1e-6)


def test_failing_model(sim, api) -> None:
    record = api.wait_final(api.start("m-fail"))
    assert record["status"] == "Failed"
    assert (record["steps_total"], record["steps_done"], record["steps_failed"]) == (3, 2, 1)


def test_one_run_per_agent_fifo(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(time_scale=3000))  # Quick: 0.1 s
    api = make_api(sim)
    first = api.start("m-quick", agent="a1")
    second = api.start("m-quick", agent="a1")
    third = api.start("m-quick", agent="a1")
    assert api.run(first)["status"] == "Running"
    assert api.run(second)["status"] == "Queued"
    assert api.run(second)["starttime"] is None
    assert api.run(third)["status"] == "Queued"
    assert sim.running_count() == 3
    final = api.wait_final(third)
    assert final["status"] == "Passed"
    snaps = {s["execution_id"]: s for s in sim.executions()}
    # hand-offs at the exact due time, in order
    assert snaps[second]["started_at"] == snaps[first]["ended_at"]
    assert snaps[third]["started_at"] == snaps[second]["ended_at"]
    assert api.run(second)["starttime"] == api.run(first)["endtime"]
    assert sim.running_count() == 0


def test_no_agent_runs_at_once_without_queueing(sim, api) -> None:
    busy = api.start("m-long", agent="a1")
    first = api.start("m-long")
    second = api.start("m-long")
    for execution_id in (first, second):
        snap = sim.execution(execution_id)
        assert snap["agent_id"] is None
        assert snap["status"] == "Running"  # nothing to queue behind
        assert api.run(execution_id)["agentname"] is None
    assert sim.execution(busy)["agent_id"] == "a1"


def test_offline_agent_keeps_runs_queued(sim, api) -> None:
    execution_id = api.start("m-quick", agent="off")
    time.sleep(0.15)  # had it started, it would be Running now
    assert api.run(execution_id)["status"] == "Queued"
    assert sim.running_count() == 1
    sim.set_agent_online("off")
    assert api.run(execution_id)["status"] == "Running"
    assert api.wait_final(execution_id)["status"] == "Passed"


def test_abort_running(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(time_scale=3000))  # Long: 10 steps of 0.1 s
    api = make_api(sim)
    execution_id = api.start("m-long", agent="a1")
    time.sleep(0.15)
    response = api.abort(execution_id)
    assert response.status_code == 204
    aborted_at = time.monotonic()
    record = api.wait_final(execution_id)
    assert time.monotonic() - aborted_at < 0.5
    assert record["status"] == "Cancelled"
    assert 1 <= record["steps_done"] < 10
    snap = sim.execution(execution_id)
    assert snap["aborted"] is True
    assert snap["end_reason"] == "aborted"
    assert len(sim.abort_requests(execution_id)) == 1
    assert sim.abort_requests("someone-else") == []
    time.sleep(0.15)
    assert api.run(execution_id)["steps_done"] == record["steps_done"]  # steps stay not done
    assert api.abort(execution_id).status_code == 404  # already over
    logs = api.logs(record["id"])["items"]
    assert logs[-1]["message_type"] == "run_finished"
    assert any(i["message_type"] == "abort_requested" for i in logs)


def test_abort_queued(sim, api) -> None:
    running = api.start("m-long", agent="a1")
    queued = api.start("m-quick", agent="a1")
    assert api.abort(queued).status_code == 204
    record = api.wait_final(queued, timeout=2)
    assert record["status"] == "Cancelled"
    assert record["starttime"] is None
    assert record["steps_done"] == 0
    assert api.run(running)["status"] == "Running"
    # the aborted run no longer holds the agent's queue
    follower = api.start("m-quick", agent="a1")
    assert api.abort(running).status_code == 204
    assert api.wait_final(follower)["status"] == "Passed"


def test_abort_twice_and_unknown(sim, api) -> None:
    execution_id = api.start("m-long", agent="a1")
    assert api.abort(execution_id).status_code == 204
    assert api.abort(execution_id).status_code == 204  # still going: accepted again
    assert api.abort("no-such-execution").status_code == 404
    api.wait_final(execution_id)
    assert len(sim.abort_requests()) == 3


def test_abort_after_natural_end_is_404(sim, api) -> None:
    execution_id = api.start("m-quick")
    api.wait_final(execution_id)
    response = api.abort(execution_id)
    assert response.status_code == 404
    assert "already finished" in response.json()["detail"]


def test_attempts(sim, api) -> None:
    outcomes = [api.wait_final(api.start("m-flaky"))["status"] for _ in range(3)]
    assert outcomes == ["Failed", "Passed", "Passed"]
    first = sim.executions()[0]
    assert first["attempt"] == 1
    assert first["steps_failed"] == 1
    run_id = api.run(first["execution_id"])["id"]
    items = api.logs(run_id)["items"]
    last_step = max(i["step_id"] for i in items if i["step_id"] is not None)
    assert [i for i in items if i["step_id"] == last_step][-1]["message"] == "flaked"


def test_test_cases(sim, api) -> None:
    case = api.wait_final(api.start("m-cases", test_case_id=12))
    assert case["status"] == "Passed"
    assert case["steps_total"] == 2
    assert case["test_case_id"] == 12
    explorative = api.wait_final(api.start("m-cases"))
    assert explorative["steps_total"] == 1
    errored = api.wait_final(api.start("m-cases", test_case_id=13))
    assert errored["status"] == "Error"


def test_rerun(sim, api) -> None:
    earlier = api.wait_final(api.start("m-cases", test_case_id=12))
    rerun = api.start("m-cases", rerun_id=earlier["id"])
    snap = sim.execution(rerun)
    assert snap["rerun_id"] == earlier["id"]
    assert snap["test_case_id"] == 12
    response = api.post(
        EXECUTIONS,
        json={"execution_type": "executing", "model_id": "m-quick", "rerun_id": earlier["id"]},
    )
    assert response.status_code == 404


def test_step_pause_time_slows_steps(start_sim, scenario_data, make_api) -> None:
    sim = start_sim(scenario_data(time_scale=3000))  # Quick: 3 steps of 0.033 s
    api = make_api(sim)
    execution_id = api.start("m-quick", step_pause_time=100)
    api.wait_final(execution_id)
    snap = sim.execution(execution_id)
    assert snap["ended_at"] - snap["started_at"] == pytest.approx(0.2, abs=1e-6)


def test_final_status_and_continue_on_failure(start_sim, scenario_data, make_api) -> None:
    data = scenario_data(
        models=[
            {
                "id": "forced",
                "name": "Forced",
                "final_status": "error",
                "steps": [{"name": "s", "duration": 50}],
            },
            {
                "id": "cont",
                "name": "Continue",
                "continue_on_failure": True,
                "steps": [
                    {"name": "a", "duration": 50, "outcome": "failed"},
                    {"name": "b", "duration": 50},
                    {"name": "c", "duration": 50, "outcome": "failed"},
                ],
            },
            {
                "id": "cancel",
                "name": "Cancelled",
                "attempts": ["cancelled"],
                "steps": [{"name": "s", "duration": 50}],
            },
        ]
    )
    sim = start_sim(data)
    api = make_api(sim)
    assert api.wait_final(api.start("forced"))["status"] == "Error"
    cont = api.wait_final(api.start("cont"))
    assert (cont["status"], cont["steps_done"], cont["steps_failed"]) == ("Failed", 3, 2)
    assert api.wait_final(api.start("cancel"))["status"] == "Cancelled"


def test_wait_for_and_running_count(sim, api) -> None:
    api.start("m-quick")
    assert sim.running_count() == 1
    assert sim.wait_for(lambda s: s.running_count() == 0, timeout=5)
    assert not sim.wait_for(lambda s: False, timeout=0.05)


def test_snapshot_fields(sim, api) -> None:
    execution_id = api.start("m-quick", agent="a2")
    snap = sim.executions()[0]
    assert snap["execution_id"] == execution_id
    for key in (
        "run_id",
        "model_id",
        "model_name",
        "agent_id",
        "agent_name",
        "test_case_id",
        "rerun_id",
        "status",
        "queued_at",
        "started_at",
        "ended_at",
        "steps_total",
        "steps_done",
        "steps_failed",
        "aborted",
    ):
        assert key in snap
    assert snap["model_name"] == "Quick"
    assert snap["agent_name"] == "agent two"
    assert snap["status"] == "Running"
    assert snap["ended_at"] is None
    assert sim.agents()[1]["status"] == "Busy"
