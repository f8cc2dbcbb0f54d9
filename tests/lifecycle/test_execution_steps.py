"""``Execution.steps``: the run's steps (name, outcome, message) from its log, against the real
simulator, with no log parsing by the caller; read once the run has ended, then kept."""

from __future__ import annotations

import pytest

from pytest_dai.lifecycle.session import DAISession
from pytest_dai.lifecycle.steps import Step
from pytest_dai.simulator import DAISimulator


def log_reads(sim: DAISimulator) -> int:
    return sum(1 for r in sim.request_log() if r.path.startswith("/ai/runlogs/"))


def test_a_passed_run_lists_its_steps_by_name(sim: DAISimulator, session: DAISession) -> None:
    execution = session.start("Quick", agent="a1").wait(timeout=30)
    steps = execution.steps
    assert [(s.number, s.name, s.outcome, s.message) for s in steps] == [
        (1, "Open shop", "passed", ""),
        (2, "Search", "passed", ""),
        (3, "Pay", "passed", ""),
    ]
    assert all(isinstance(s, Step) and s.duration >= 0 for s in steps)


def test_a_failed_run_names_the_failed_step_and_the_steps_not_reached(
    sim: DAISimulator, session: DAISession
) -> None:
    execution = session.start("Failing", agent="a1").wait(timeout=30)
    steps = execution.steps
    assert [(s.name, s.outcome) for s in steps] == [
        ("Open shop", "passed"),
        ("Pay", "failed"),
        ("step 3", "skipped"),
    ]
    assert "Card declined" in steps[1].message
    assert steps[2].message == "not reached: the run ended as Failed"


def test_the_steps_of_an_ended_run_are_read_once(sim: DAISimulator, session: DAISession) -> None:
    execution = session.start("Quick", agent="a1").wait(timeout=30)
    first = execution.steps
    reads = log_reads(sim)
    assert reads >= 1
    assert execution.steps == first
    assert log_reads(sim) == reads


def test_a_run_still_going_lists_what_the_log_says_so_far(
    sim: DAISimulator, session: DAISession
) -> None:
    execution = session.start("Long", agent="a2")
    assert sim.wait_for(lambda s: execution.refresh().steps_done == 1, timeout=10)
    steps = execution.steps
    assert steps[0].name == "Warm up"
    assert steps[0].outcome == "passed"
    assert [s.outcome for s in steps[1:]] in (["unknown"], ["skipped"], []), steps
    execution.abort()


def test_a_run_without_a_record_has_no_steps_yet(session: DAISession) -> None:
    execution = session.start("Quick", agent="a1")
    if execution.record is None:
        assert execution.steps == []
    else:  # pragma: no cover - the server was quicker than this test
        pytest.skip("the run already has a record")
