"""Per-step results from a run log read by ``step_id`` groups (contract 2.5): pure, no server."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pytest_dai.client.records import LogEntry, RunRecord
from pytest_dai.client.status import RunState
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.outcome import default_outcome
from pytest_dai.lifecycle.runlog import failing_entry, reads_as_error, step_groups
from pytest_dai.lifecycle.steps import run_steps


def entry(step: Any, message: str, second: int, **fields: Any) -> LogEntry:
    return LogEntry.parse(
        {
            "eventtime": f"2026-08-02T10:00:{second:02d}Z",
            "step_id": step,
            "message": message,
            "severity": "INFORMATIONAL",
            **fields,
        }
    )


def execution(status: str, *, ended: bool = True, **record: Any) -> Execution:
    run = Execution(SimpleNamespace(url="http://dai"), "e-1", model="Shop")  # type: ignore[arg-type]
    raw = {
        "id": 30832,
        "execution_id": "e-1",
        "status": status,
        "starttime": "2026-08-02T10:00:00Z",
        "endtime": "2026-08-02T10:00:30Z" if ended else None,
        **record,
    }
    run.record = RunRecord.parse(raw, "E2 GET /ai/runs")
    return run


#: Three steps ran (ids 7, 8, 9: database ids, not positions); the run ended in the third.
LOG = [
    entry(None, "Execution queued", 0),
    entry(7, "Open shop", 1),
    entry(7, "'Open shop': done", 5, message_type="action"),
    entry(8, "Search", 6),
    entry(8, "Image found: Search box", 9, image_id="img-1"),
    entry(9, "Pay", 12),
    entry(9, "Unable to find image Confirm", 20, message_type="imagefound"),
    entry(None, "Run finished", 30),
]


def outcomes(steps: Any) -> list[tuple[str, str]]:
    return [(s.name, s.outcome) for s in steps.steps]


def test_groups_in_order_of_first_appearance() -> None:
    groups = step_groups(LOG)
    assert [(g.ref, g.name, len(g.entries)) for g in groups] == [
        ("7", "Open shop", 2),
        ("8", "Search", 2),
        ("9", "Pay", 2),
    ]


def test_failed_run_last_step_failed_earlier_passed_rest_not_reached() -> None:
    run = execution("Failed", steps_total=5, steps_failed=1)
    steps = run_steps(run, LOG)
    assert outcomes(steps) == [
        ("001 Open shop", "passed"),
        ("002 Search", "passed"),
        ("003 Pay", "failed"),
        ("004 step 4", "skipped"),
        ("005 step 5", "skipped"),
    ]
    assert steps.steps[2].message == "Unable to find image Confirm"
    assert steps.steps[3].message == "not reached: the run ended as Failed"
    # durations: to the next step's first entry; the last one to the run's end
    assert [s.duration for s in steps.steps[:3]] == [5.0, 6.0, 18.0]


def test_passed_run_every_step_passed() -> None:
    steps = run_steps(execution("Passed", steps_total=3), LOG)
    assert [s.outcome for s in steps.steps] == ["passed"] * 3
    assert all(s.message == "" for s in steps.steps)


@pytest.mark.parametrize("word", ["Error", "Incomplete", "Untested"])
def test_error_words_make_the_last_step_an_error(word: str) -> None:
    run = execution(word)
    assert [s.outcome for s in run_steps(run, LOG).steps] == ["passed", "passed", "error"]
    outcome = default_outcome(run, LOG)
    assert outcome is not None
    assert f"ended in error: status {word}" in str(outcome)
    assert "failed in step 9: Unable to find image Confirm" in str(outcome)


def test_more_failures_than_the_log_shows_leave_earlier_steps_unknown() -> None:
    # continue-on-failure: 2 failed steps, the log says only that the run ended in step 9
    steps = run_steps(execution("Failed", steps_failed=2), LOG)
    assert [s.outcome for s in steps.steps] == ["unknown", "unknown", "failed"]
    assert "does not say which of the 2 failed steps" in steps.steps[0].message


def test_running_run_last_step_unknown() -> None:
    run = execution("Running", ended=False, steps_total=4)
    steps = run_steps(run, LOG[:-1], interrupted="the session was interrupted")
    assert [s.outcome for s in steps.steps] == ["passed", "passed", "unknown", "skipped"]
    assert steps.steps[2].message == (
        "result unknown: the session was interrupted during this step"
    )
    assert steps.steps[3].message == "not reached: the session was interrupted"


def test_cancelled_run_last_step_skipped_with_the_reason() -> None:
    steps = run_steps(execution("Cancelled", steps_total=3), LOG)
    assert [s.outcome for s in steps.steps] == ["passed", "passed", "skipped"]
    assert steps.steps[2].message == "the run ended as Cancelled during this step"


def test_log_without_step_ids_says_unknown_not_passed() -> None:
    log = [entry(None, "something happened", 1), entry(None, "and more", 2)]
    steps = run_steps(execution("Passed", steps_total=3, steps_done=2), log)
    assert [s.outcome for s in steps.steps] == ["unknown", "unknown", "skipped"]
    assert steps.steps[0].message == "result unknown: the run log does not name its steps"
    unread = run_steps(execution("Failed", steps_total=2, steps_done=2), None)
    assert [s.outcome for s in unread.steps] == ["unknown", "unknown"]
    assert unread.steps[0].message == "result unknown: the run log could not be read"


def test_old_servers_step_status_is_believed() -> None:
    log = [
        LogEntry.parse({"timestamp": "2026-08-02T10:00:05Z", "step": 1, "status": "Passed"}),
        LogEntry.parse(
            {"timestamp": "2026-08-02T10:00:09Z", "step": 2, "status": "Failed", "message": "Boom"}
        ),
        LogEntry.parse({"timestamp": "2026-08-02T10:00:10Z", "step": 3, "status": "Passed"}),
    ]
    steps = run_steps(execution("Failed", steps_failed=1), log)
    assert [s.outcome for s in steps.steps] == ["passed", "failed", "passed"]


def test_failing_entry() -> None:
    assert failing_entry(LOG, RunState.FAILED) is LOG[6]
    assert failing_entry(LOG, RunState.PASSED) is None
    no_steps = [
        entry(None, "all fine", 1),
        entry(None, "Error: agent lost", 2),
        entry(None, "Run finished", 3),
    ]
    assert failing_entry(no_steps, RunState.ERROR) is no_steps[1]
    assert failing_entry([], RunState.FAILED) is None


def test_severity_is_not_the_only_error_signal() -> None:
    assert reads_as_error(entry(1, "Unable to find image OK", 1))
    assert reads_as_error(LogEntry.parse({"message": "x", "severity": "ERROR"}))
    assert not reads_as_error(entry(1, "Image found: OK", 1))


def test_the_record_names_the_agent_that_ran_it() -> None:
    client = SimpleNamespace(
        url="http://dai",
        find_run=lambda _id, run_id=None: RunRecord.parse(
            {"execution_id": "e-1", "status": "Running", "agentname": "agent-9"}, "E2"
        ),
    )
    run = Execution(client, "e-1", model="Shop", agent=None)  # type: ignore[arg-type]
    assert run.agent is None
    run.refresh()
    assert run.agent == "agent-9"
