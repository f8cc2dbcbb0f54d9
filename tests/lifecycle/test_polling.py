"""Unit tests of :class:`pytest_dai.lifecycle.polling.PollSchedule`: pure and fast, no server.

The load is compared with a fixed poller at ``max_interval`` (a poll right after the start,
then one every interval): the schedule may not make more polls, and no gap may exceed the
interval (that bounds how late an unexpected end is seen).
"""

from __future__ import annotations

import math
import random
import time
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_dai.client.records import RunRecord
from pytest_dai.lifecycle.execution import Execution
from pytest_dai.lifecycle.polling import PollSchedule

#: How long after the expected end the schedule aims (its default).
MARGIN = PollSchedule().margin


def simulate(
    schedule: PollSchedule, step_ends: list[float], latency: float = 0.01
) -> tuple[float, int, float]:
    """Poll a run whose steps end at ``step_ends`` (seconds after its start), starting with the
    wait's first sleep, until it has ended: (detection delay, polls, longest gap)."""
    end = step_ends[-1]
    now = schedule.next_delay(0.0 if schedule.expected_duration is not None else None)
    polls, longest = 0, now
    while True:
        polls += 1
        if now >= end:
            return now - end, polls, longest
        done = sum(1 for t in step_ends if t <= now)
        delay = schedule.next_delay(now, done, len(step_ends))
        longest = max(longest, delay)
        now += delay + latency


def fixed_polls(length: float, interval: float = 5.0, phase: float = 2.5) -> int:
    """A fixed poller's polls: right after the start, at ``phase``, then every ``interval``."""
    return 2 + math.ceil((length - phase) / interval)


def equal_steps(length: float, count: int = 4, offset: float = 0.0) -> list[float]:
    return [offset + length / count * (k + 1) for k in range(count)]


# -- nothing to go by ----------------------------------------------------------------------------


def test_queued_or_unknown_polls_every_interval() -> None:
    schedule = PollSchedule(max_interval=5.0, expected_duration=600.0)
    assert [schedule.next_delay(None) for _ in range(3)] == [5.0, 5.0, 5.0]
    assert PollSchedule().next_delay(10.0) == 5.0  # no history, no steps


@pytest.mark.parametrize("running", [None, 0.0])
def test_nothing_to_go_by_starts_at_a_fixed_pollers_pace_then_backs_off(
    running: float | None,
) -> None:
    schedule = PollSchedule(max_interval=60.0)
    got = [schedule.next_delay(running, 0 if running is not None else None, 4) for _ in range(9)]
    assert got == pytest.approx([min(60.0, 5.0 * 1.6**k) for k in range(9)])


def test_the_pace_starts_over_when_the_run_starts() -> None:
    schedule = PollSchedule(max_interval=60.0)
    queued = [schedule.next_delay(None) for _ in range(8)]
    assert queued[-1] == 60.0
    assert schedule.next_delay(1.0, 0, 4) == 5.0  # it runs now: a short run is seen soon


def test_a_short_run_without_history_is_seen_soon_with_a_long_interval() -> None:
    delay, polls, longest = simulate(PollSchedule(max_interval=60.0), equal_steps(4.0))
    assert delay <= 1.5
    assert polls <= 2
    assert longest <= 60.0


@pytest.mark.parametrize("length", [60.0, 600.0])
@pytest.mark.parametrize("offset", [0.0, 0.3, 1.7])
def test_a_long_interval_without_history_polls_at_a_fixed_pace_only_near_the_end(
    length: float, offset: float
) -> None:
    delay, polls, longest = simulate(
        PollSchedule(max_interval=60.0), equal_steps(length, offset=offset)
    )
    assert delay <= 5.0  # a fixed 5 s poller's worst
    assert polls <= fixed_polls(length + offset) / 2
    assert longest <= 60.0 + 1e-9


# -- with history --------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [5.0, 60.0, 600.0, 37.3])
def test_history_lands_one_poll_just_after_the_end_at_most_a_fixed_pollers_load(
    length: float,
) -> None:
    delay, polls, longest = simulate(PollSchedule(expected_duration=length), [length])
    assert 0 <= delay <= 0.25
    assert polls <= fixed_polls(length) - 1
    assert longest <= 5.0 + 1e-9


def test_history_spaces_the_polls_evenly_towards_the_end() -> None:
    schedule = PollSchedule(max_interval=5.0, expected_duration=60.0)
    delay = schedule.next_delay(0.0)
    assert delay == pytest.approx((60.0 + MARGIN) / 13)  # 13 equal gaps, none above 5 s


def test_overdue_run_backs_off_up_to_max_interval() -> None:
    schedule = PollSchedule(max_interval=5.0, expected_duration=60.0)
    got = [schedule.next_delay(60.5 + k) for k in range(12)]
    expected = [min(5.0, 0.2 * 1.6**k) for k in range(12)]
    assert got == pytest.approx(expected)


def test_history_wins_over_progress() -> None:
    schedule = PollSchedule(max_interval=600.0, expected_duration=100.0)
    schedule.next_delay(10.0, 3, 4)
    assert schedule.next_delay(10.0, 3, 4) == pytest.approx(90.0 + MARGIN)


# -- with progress -------------------------------------------------------------------------------


def test_progress_brackets_a_steps_length() -> None:
    schedule = PollSchedule(max_interval=60.0)
    schedule.next_delay(10.0, 0, 4)  # a step takes more than 10 s
    assert schedule.end_bracket(4) is None
    schedule.next_delay(20.0, 1, 4)  # between 10 and 20 s
    assert schedule.end_bracket(4) == (40.0, 80.0)
    schedule.next_delay(30.0, 1, 4)  # more than 15 s
    assert schedule.end_bracket(4) == (60.0, 80.0)


def test_progress_steers_the_next_poll_to_where_a_step_should_end() -> None:
    schedule = PollSchedule(max_interval=12.0)
    schedule.next_delay(20.0, 1, 4)  # 10 to 20 s a step: step 2 ends by 30 s (the middle)
    assert schedule.next_delay(20.0, 1, 4) == pytest.approx(10.0)


def test_unequal_steps_restart_the_bracket() -> None:
    schedule = PollSchedule(max_interval=60.0)
    schedule.next_delay(20.0, 1, 4)  # 10 to 20 s a step
    schedule.next_delay(25.0, 3, 4)  # contradicts it: from this poll alone, 6.25 to 8.33 s
    assert schedule.end_bracket(4) == pytest.approx((25.0, 100 / 3))


def test_a_slow_answer_does_not_contradict_the_bracket() -> None:
    """What a poll saw held at some instant between its request and its answer: a late answer
    must not make a step look longer than it is (and the next poll contradict it)."""
    schedule = PollSchedule()
    schedule.next_delay(15.05, 0, 4, asked_at=14.97)  # not one step done at 14.97 s
    schedule.next_delay(45.01, 3, 4, asked_at=44.99)  # three done by 45.01 s
    assert schedule.end_bracket(4) == pytest.approx((4 * 14.97, 4 * 45.01 / 3))


def test_all_steps_done_but_not_final_polls_densely() -> None:
    schedule = PollSchedule(max_interval=60.0)
    schedule.next_delay(20.0, 1, 2)
    assert schedule.next_delay(41.0, 2, 2) == pytest.approx(0.2)


@pytest.mark.parametrize("length", [5.0, 60.0, 600.0])
@pytest.mark.parametrize("offset", [0.0, 0.3, 1.7])
def test_progress_never_costs_more_than_a_fixed_poller(length: float, offset: float) -> None:
    delay, polls, longest = simulate(PollSchedule(), equal_steps(length, offset=offset))
    assert polls <= fixed_polls(length + offset)
    assert longest <= 5.0 + 1e-9
    assert delay <= 5.0


def test_progress_sees_the_end_sooner_than_a_fixed_poller_on_average() -> None:
    delays = [
        simulate(PollSchedule(), equal_steps(60.0, offset=k / 10))[0] for k in range(0, 50, 3)
    ]
    assert sum(delays) / len(delays) < 2.5  # a fixed 5 s poller's average


# -- spending a fixed poller's spare polls (no history, default interval) ----------------------


def spread(length: float, count: int = 41) -> list[float]:
    """Run lengths from 0.8 to 1.2 times ``length``: where a run ends against the polls."""
    return [length * (0.8 + 0.4 * k / (count - 1)) for k in range(count)]


def without_history(length: float, steps: int) -> tuple[float, int, float]:
    """A run of ``steps`` equal steps that started 20 ms after the start request."""
    return simulate(PollSchedule(), equal_steps(length, count=steps, offset=0.02))


def test_the_credit_is_what_a_fixed_poller_makes_beyond_one_poll_an_interval() -> None:
    schedule = PollSchedule()
    assert schedule.credit() == pytest.approx(2.0 - 0.1)  # less the reserve
    assert schedule.next_delay(None) == 5.0
    assert schedule.credit() == pytest.approx(1.9)  # a full interval costs nothing
    # 3 of 4 steps done at 5 s: the end lies between 5 and 6.67 s, scanned with the credit:
    # 2 polls (3 in all, as a fixed poller: it polls at 0 s, at 0 to 5 s and after the end).
    delay = schedule.next_delay(5.0, 3, 4)
    assert delay == pytest.approx(MARGIN + (20 / 3 - 5.0) / 2)
    assert schedule.credit() == pytest.approx(1.9 - (1 - delay / 5.0))


@pytest.mark.parametrize("steps", [1, 2, 4, 10, 40])
@pytest.mark.parametrize("length", [5.0, 60.0, 600.0])
def test_without_history_no_more_polls_than_a_fixed_poller_makes(length: float, steps: int) -> None:
    """A fixed 5 s poller makes 2 + E / 5 polls for a run that ends E seconds after the start
    (exactly, for E a multiple of 5; on average over where its polls fall, otherwise)."""
    for actual in spread(length, 21):
        _, polls, longest = without_history(actual, steps)
        assert polls <= 2 + (actual + 0.02) / 5 + 1e-9, (actual, polls)
        assert longest <= 5.0 + 1e-9


@pytest.mark.parametrize(("length", "most"), [(5.0, 0.6), (60.0, 1.3)])
def test_without_history_four_steps_are_seen_sooner_on_median(length: float, most: float) -> None:
    """The spare polls narrow where the end may fall (the earlier schedule: a median of 0.91
    and 1.48 s over these lengths; 600 s runs stay at about 1.3 s without faults here)."""
    delays = [without_history(actual, 4)[0] for actual in spread(length)]
    assert sorted(delays)[len(delays) // 2] <= most


@pytest.mark.parametrize("length", [5.0, 60.0, 600.0])
def test_without_history_forty_steps_pin_the_end(length: float) -> None:
    """Forty steps: a poll where a step should end halves the bracket of its length at a
    small cost, so the end is known to a fraction of a second."""
    delays = sorted(without_history(actual, 40)[0] for actual in spread(length))
    assert delays[len(delays) // 2] <= 0.3
    assert delays[int(len(delays) * 0.9)] <= 1.0


def test_a_poll_goes_where_a_step_should_end_when_that_pays() -> None:
    """Forty steps of 1.5 s, no history: after the blind polls, polls land where a step's end
    splits the bracket rather than every 5 s (some gaps are shorter), within the budget."""
    schedule = PollSchedule()
    ends = equal_steps(60.0, count=40, offset=0.02)
    now = schedule.next_delay(None)
    gaps = []
    while now < ends[-1]:
        delay = schedule.next_delay(now, sum(1 for t in ends if t <= now), 40)
        gaps.append(delay)
        now += delay + 0.01
    bracket = schedule.end_bracket(40)
    assert bracket is not None
    assert bracket[1] - bracket[0] < 0.4  # a step's length known to 10 ms
    assert any(gap < 4.9 for gap in gaps[:-1])


# -- bounds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_interval", [0.1, 1.0, 5.0, 60.0])
def test_never_above_max_interval(max_interval: float) -> None:
    rng = random.Random(max_interval)
    for _ in range(200):
        expected = rng.choice([None, rng.uniform(0.0, 900.0)])
        schedule = PollSchedule(max_interval=max_interval, expected_duration=expected)
        running_for: float | None = None
        total = rng.choice([None, rng.randint(1, 30)])
        done = 0
        for _ in range(60):
            if running_for is None and rng.random() < 0.3:
                running_for = 0.0
            steps = None if total is None else done
            delay = schedule.next_delay(running_for, steps, total)
            assert 0 < delay <= max_interval + 1e-9
            if running_for is not None:
                running_for += delay
            if total is not None and done < total and rng.random() < 0.2:
                done += 1


# -- the wait ------------------------------------------------------------------------------------


def test_the_wait_counts_from_the_start_request_not_from_its_answer() -> None:
    """A start request answered late (a loaded server) does not push the first poll past the
    run's expected end: the schedule counts from when the request was sent."""
    polls: list[float] = []

    def find_run(execution_id: str, run_id: str | None = None) -> RunRecord:
        polls.append(time.monotonic())
        raw: dict[str, Any] = {"id": 1, "execution_id": execution_id, "status": "Passed"}
        raw["starttime"] = datetime.now(timezone.utc).isoformat()
        return RunRecord.parse(raw, "E2 GET /ai/runs")

    client: Any = SimpleNamespace(url="http://dai", find_run=find_run)
    sent = time.monotonic() - 2.0  # the answer came 2 s after the request
    run = Execution(
        client, "e-1", model="M", poll_interval=60.0, expected_duration=2.2, requested_at=sent
    )
    created = time.monotonic()
    run.wait()
    assert len(polls) == 1
    assert polls[0] - created < 1.5  # 2.35 s after the request, not after the answer
