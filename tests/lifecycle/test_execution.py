"""An :class:`Execution` against the real simulator: its state as it runs, the wait, the run
deadline, the abort (once, and on any exception), the log, and a run with no record."""

from __future__ import annotations

import re

import pytest
from harness.simulators import eventually

from pytest_dai.client.errors import DAIProtocolError
from pytest_dai.client.status import RunState
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.run_errors import DAIRunTimeout
from pytest_dai.lifecycle.session import DAISession
from pytest_dai.simulator import DAISimulator


def test_a_run_is_followed_to_its_end(sim: DAISimulator, session: DAISession) -> None:
    ended: list[Execution] = []
    session.on_end = ended.append
    execution = session.start("Quick", agent="a1")
    assert execution.status == "Queued"
    assert not execution.finished
    assert execution.run_id is None
    polled: list[str] = []
    assert execution.wait(timeout=30, on_poll=lambda run: polled.append(run.status)) is execution
    assert execution.finished
    assert execution.passed
    assert execution.state is RunState.PASSED
    assert (execution.steps_total, execution.steps_done, execution.steps_failed) == (3, 3, 0)
    assert execution.polls == len(polled) >= 1
    assert polled[-1] == execution.status
    assert execution.agent == "agent one"
    assert execution.run_id is not None
    assert execution.url == f"{sim.url}/runs/{execution.run_id}"
    assert execution.started_at is not None
    assert execution.ended_at is not None
    assert execution.duration is not None
    assert 0 < execution.duration < 30
    assert execution.detected_at is not None
    assert ended == [execution]  # on_end once, at the end
    assert execution.abort() is False  # over: nothing to abort
    assert not execution.aborted
    snapshot = sim.execution(execution.id)
    assert snapshot is not None
    assert snapshot["status"] == "Passed"


def test_a_failed_run_has_its_log_and_failure_details(session: DAISession) -> None:
    execution = session.start("Failing", agent="a1").wait(timeout=30)
    assert execution.state is RunState.FAILED
    logs = execution.logs()
    assert any("Card declined" in entry.message for entry in logs)
    details = execution.failure_details(logs).splitlines()
    assert details[0] == "steps: 2 of 3 done, 1 failed"
    assert details[1].startswith("failed in step ")
    assert "Card declined" in details[1]
    assert details[-1] == f"run: {execution.url}"


def test_the_run_deadline_aborts_the_run_once(sim: DAISimulator, session: DAISession) -> None:
    execution = session.start("Long", agent="a1")
    with pytest.raises(DAIRunTimeout) as info:
        execution.wait(timeout=0.25, deadline_source="set by a test")
    assert info.value.execution is execution
    first = str(info.value).splitlines()[0]
    assert re.fullmatch(
        rf"DAI run of model 'Long' \(execution {execution.id}\) passed its deadline of 0\.25 s "
        r"\(set by a test\) and was aborted; last status \w+",
        first,
    ), first
    assert execution.aborted
    assert execution.abort() is False  # already aborted: not sent again
    deletes = [r for r in sim.request_log() if r.method == "DELETE"]
    assert len(deletes) == 1
    assert eventually(lambda: sim.running_count() == 0)


def test_any_exception_during_the_wait_aborts_the_run_first(
    sim: DAISimulator, session: DAISession
) -> None:
    execution = session.start("Long", agent="a1")

    def interrupt(run: Execution) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execution.wait(on_poll=interrupt)
    assert execution.aborted
    assert eventually(lambda: sim.running_count() == 0)
    assert [r.method for r in sim.request_log()].count("DELETE") == 1


def test_a_run_the_server_never_records_is_a_protocol_error(
    sim: DAISimulator, session: DAISession
) -> None:
    sim.set_faults(no_record_grace=30)
    execution = session.start("Quick", agent="a1")
    execution.record_grace = 0.2
    with pytest.raises(DAIProtocolError) as info:
        execution.wait(timeout=20)
    assert str(info.value) == (
        f"reading the run's status (GET {sim.url}/ai/runs): no run record for execution "
        f"{execution.id} 0.2 s after it was started"
    )
    assert execution.aborted  # the wait aborted it before the error left it


def test_a_run_with_no_record_yet_has_no_log(session: DAISession) -> None:
    execution = Execution(session.client, "no-such-execution", model="Quick")
    assert execution.refresh().record is None
    assert execution.status == "Queued"
    assert execution.run == {}
    assert execution.logs() == []
    assert execution.duration is None
