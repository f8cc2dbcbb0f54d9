"""Starts whose answer was lost, against the real simulator: the run the start made anyway is
found and aborted (model runs and test configurations alike), also when many newer runs push it
off the first page of the run list, and an intent a killed session left is reaped."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from harness.simulators import eventually

from pytest_dai.client.calls import START_RUN, START_TEST_CONFIG
from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.errors import DAIConnectionError, DAINotFoundError
from pytest_dai.lifecycle import lost_starts
from pytest_dai.lifecycle.journal import Journal, StartIntent
from pytest_dai.lifecycle.lost_starts import recover_lost_start
from pytest_dai.lifecycle.session import DAISession
from pytest_dai.simulator import DAISimulator


def answer_lost(send: Callable[..., Any], error: BaseException | None = None) -> Callable[..., Any]:
    """``send``, whose request reaches the server but whose answer never comes back."""

    def lossy(*args: Any, **kwargs: Any) -> Any:
        send(*args, **kwargs)
        raise error if error is not None else DAIConnectionError("dropped")

    return lossy


def dropped(client: DAIClient, call: Any, **ids: object) -> DAIConnectionError:
    """The error a start whose connection dropped after sending gets."""
    label = client.label(call, **ids)
    message = f"{label}: lost the connection to {client.url} (the connection was dropped)"
    return DAIConnectionError(message, endpoint=label)


def test_a_model_start_whose_answer_was_lost_leaves_no_run(
    sim: DAISimulator, session: DAISession, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = session.client
    error = dropped(client, START_RUN)
    monkeypatch.setattr(client, "start_execution", answer_lost(client.start_execution, error))
    with pytest.raises(DAIConnectionError) as info:
        session.start("Long", agent="a1")
    (run,) = sim.executions()
    assert f"the run it started (execution {run['execution_id']}) was found and aborted" in str(
        info.value
    )
    assert eventually(lambda: sim.running_count() == 0)
    assert journal.intents() == []


def test_a_test_config_start_whose_answer_was_lost_leaves_no_run(
    sim: DAISimulator, session: DAISession, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = session.test_config_api
    error = dropped(session.client, START_TEST_CONFIG, test_config_id="tc-nightly")
    monkeypatch.setattr(api, "start", answer_lost(api.start, error))
    with pytest.raises(DAIConnectionError) as info:
        session.start_test_config("Nightly")
    message = str(info.value)
    assert message.startswith(f"starting the test configuration (POST {sim.url}/task_sched")
    assert "a start of test configuration 'Nightly'" in message
    assert ": aborted with DELETE task_instances/" in message
    assert eventually(lambda: sim.running_count() == 0)
    assert journal.intents() == []
    assert session.started_test_configs == []


def test_ctrl_c_during_a_test_config_start_leaves_no_run(
    sim: DAISimulator, session: DAISession, monkeypatch: pytest.MonkeyPatch
) -> None:
    notices: list[str] = []
    session.on_notice = notices.append
    api = session.test_config_api
    monkeypatch.setattr(api, "start", answer_lost(api.start, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        session.start_test_config("Nightly")
    assert eventually(lambda: sim.running_count() == 0)
    assert len(notices) == 1
    assert notices[0].startswith("dai: a start of test configuration")


def test_a_refused_start_is_not_looked_for(sim: DAISimulator, session: DAISession) -> None:
    with pytest.raises(DAINotFoundError):
        session.start("Quick", agent="a1", test_case=999)
    assert not [r for r in sim.request_log() if r.path == "/ai/runs"]


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_test_config_start_left_by_a_killed_session_is_reaped(
    sim: DAISimulator, client: DAIClient, journal: Journal
) -> None:
    """A session killed between sending the start and its answer leaves an intent; the next
    session finds the run it made from the intent alone, and aborts it."""
    pid = dead_pid()
    intent = StartIntent.now(sim.url, model="Nightly", kind="test_config", config_id="tc-nightly")
    intent = StartIntent(**{**intent.__dict__, "pid": pid, "key": f"{pid}-1", "pid_start": None})
    journal.record_intent(intent)
    DAISession(client).test_config_api.start("tc-nightly")  # the killed session's start
    assert eventually(lambda: sim.running_count() == 1)
    (left,) = journal.orphan_intents(sim.url)
    searched, line = recover_lost_start(client, left, known=set())
    assert searched
    assert line.startswith("dai: a start of test configuration 'Nightly' (test -, pid ")
    assert "aborted with DELETE task_instances/" in line
    assert eventually(lambda: sim.running_count() == 0)


@pytest.mark.parametrize("pages", [lost_starts.MAX_PAGES, 1])
def test_the_lost_run_is_looked_for_past_the_first_page(
    pages: int, sim: DAISimulator, client: DAIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lost_starts, "MAX_PAGES", pages)
    intent = StartIntent.now(
        sim.url, model_id="m-long", model="Long", agent_id="a2", agent="agent two"
    )
    lost = client.start_execution("m-long", agent_id="a2")
    for _ in range(lost_starts.PAGE_SIZE + 20):  # newer runs: the lost one is on page 2
        client.start_execution("m-quick", agent_id="a1")
    searched, line = recover_lost_start(client, intent, known=set())
    assert searched

    def listings() -> int:  # (the simulator logs a request once it has answered it)
        return len([r for r in sim.request_log() if r.path == "/ai/runs"])

    if pages == 1:
        assert line == ""  # one page is not enough: what the paging is for
        assert eventually(lambda: listings() == 1)
        assert (sim.execution(lost.id) or {}).get("status") != "Cancelled"
    else:
        assert f"(execution {lost.id}) was found and aborted" in line
        assert eventually(lambda: listings() == 2)
        assert eventually(lambda: (sim.execution(lost.id) or {}).get("status") == "Cancelled")


def test_the_lost_run_is_looked_for_at_the_end_of_an_oldest_first_list(
    sim: DAISimulator, client: DAIClient
) -> None:
    # A DAI cloud lists oldest first (contract 2.7): the newest runs, the lost one among them,
    # are on the last page, past the first pages of older runs.
    sim.set_dialect(
        runs_order="oldest_first", envelope="items", past_runs=5 * lost_starts.PAGE_SIZE
    )
    intent = StartIntent.now(
        sim.url, model_id="m-long", model="Long", agent_id="a2", agent="agent two"
    )
    lost = client.start_execution("m-long", agent_id="a2")
    searched, line = recover_lost_start(client, intent, known=set())
    assert searched
    assert f"(execution {lost.id}) was found and aborted" in line
    listings = [r for r in sim.request_log() if r.path == "/ai/runs"]
    assert len(listings) == 2  # the first page, then the last
    assert eventually(lambda: (sim.execution(lost.id) or {}).get("status") == "Cancelled")
