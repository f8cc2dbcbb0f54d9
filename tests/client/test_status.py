"""Status words (contract section 2.4, tolerance rule 4): any case, spaces, underscores."""

from __future__ import annotations

import pytest

from pytest_dai.client.records import RunRecord
from pytest_dai.client.status import FINAL_STATES, RunState, normalise_status

TABLE: dict[RunState, tuple[str, ...]] = {
    RunState.QUEUED: ("Queued", "Pending", "Preparing", "Scheduled", "Waiting"),
    RunState.RUNNING: ("Running", "In Progress", "Executing", "Started"),
    RunState.PASSED: ("Passed", "Success", "Succeeded", "Completed", "Pass"),
    RunState.FAILED: ("Failed", "Failure", "Fail"),
    RunState.ERROR: ("Error", "Errored"),
    RunState.CANCELLED: ("Cancelled", "Canceled", "Aborted", "Stopped"),
}
FINAL = {RunState.PASSED, RunState.FAILED, RunState.ERROR, RunState.CANCELLED}


def spellings(word: str) -> list[str]:
    """The ways servers write a word: as is, UPPER, lower, Title, snake, kebab, padded."""
    return sorted(
        {
            word,
            word.upper(),
            word.lower(),
            word.title(),
            word.upper().replace(" ", "_"),
            word.lower().replace(" ", "_"),
            word.lower().replace(" ", "-"),
            word.replace(" ", ""),
            f"  {word}\t",
        }
    )


CASES = [
    (spelled, state)
    for state, words in TABLE.items()
    for word in words
    for spelled in spellings(word)
]


@pytest.mark.parametrize(("word", "state"), CASES)
@pytest.mark.parametrize("ended", [False, True])
def test_every_word_in_every_spelling(word: str, state: RunState, ended: bool) -> None:
    status = normalise_status(word, ended=ended)
    assert status.state is state
    assert status.known
    assert status.final is (state in FINAL)
    assert status.describe() == word.strip()


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("IN_PROGRESS", RunState.RUNNING),
        ("in-progress", RunState.RUNNING),
        ("InProgress", RunState.RUNNING),
        ("CANCELED", RunState.CANCELLED),
        ("canceled", RunState.CANCELLED),
        ("SUCCEEDED", RunState.PASSED),
        ("pass", RunState.PASSED),
        ("FAIL", RunState.FAILED),
        ("errored", RunState.ERROR),
        ("ABORTED", RunState.CANCELLED),
    ],
)
def test_spellings_from_the_brief(word: str, state: RunState) -> None:
    assert normalise_status(word).state is state


def test_final_states_constant() -> None:
    assert FINAL_STATES == FINAL
    assert str(RunState.PASSED) == "passed"


@pytest.mark.parametrize("word", ["Paused", "Frobnicating", "", None, 7])
def test_unknown_word_without_endtime_is_unknown_not_final(word: object) -> None:
    status = normalise_status(word, ended=False)
    assert status.state is RunState.UNKNOWN
    assert not status.final
    assert not status.known


def test_unknown_word_with_endtime_is_final_error_naming_the_word() -> None:
    status = normalise_status("Frobnicated", ended=True)
    assert status.state is RunState.ERROR
    assert status.final
    described = status.describe()
    assert "'Frobnicated'" in described
    assert "error" in described


def test_run_record_unknown_status_depends_on_endtime() -> None:
    going = RunRecord.parse(
        {"id": 1, "execution_id": "e", "status": "Halted", "endtime": None}, "E2 GET /ai/runs"
    )
    assert going.status.state is RunState.UNKNOWN
    assert not going.status.final
    ended = RunRecord.parse(
        {"id": 1, "execution_id": "e", "status": "Halted", "endtime": "2026-11-28T10:05:00Z"},
        "E2 GET /ai/runs",
    )
    assert ended.status.state is RunState.ERROR
    assert ended.status.final
    assert "Halted" in ended.status.describe()


@pytest.mark.parametrize(
    "endtime",
    [
        "2026-11-28T10:05:00Z",
        "2026-11-28T10:05:00+02:00",
        "2026-11-28 10:05:00",
        1795860300,
        1795860300000,
    ],
)
def test_end_time_forms(endtime: object) -> None:
    record = RunRecord.parse({"status": "Weird", "endtime": endtime}, "E2 GET /ai/runs")
    assert record.ended_at is not None
    assert record.ended_at.tzinfo is not None
    assert record.status.state is RunState.ERROR


def test_unparseable_end_time_still_means_the_run_ended() -> None:
    # contract 2.3: a non-null endtime that cannot be parsed still means the run has ended
    record = RunRecord.parse({"status": "Weird", "endtime": "tomorrow"}, "E2 GET /ai/runs")
    assert record.ended_at is None
    assert record.status.state is RunState.ERROR
    assert record.status.final
    running = RunRecord.parse({"status": "Weird", "endtime": None}, "E2 GET /ai/runs")
    assert running.status.state is RunState.UNKNOWN
