"""Unit tests of :class:`pytest_dai.lifecycle.polling.PollSchedule`: pure and fast, no server."""

from __future__ import annotations

import random

import pytest

from pytest_dai.lifecycle.polling import PollSchedule


def delays(schedule: PollSchedule, calls: int, running_for: float | None = None) -> list[float]:
    """``calls`` successive delays with the same arguments."""
    return [schedule.next_delay(running_for) for _ in range(calls)]


def progress_left(schedule: PollSchedule, running_for: float, done: int, total: int) -> float:
    """Seconds to go by the run's progress (asserting the estimate comes from progress)."""
    estimate = schedule.remaining(running_for, done, total)
    assert estimate is not None
    seconds, from_history = estimate
    assert not from_history
    return seconds


def simulate(
    schedule: PollSchedule, step_ends: list[float], latency: float = 0.01
) -> tuple[float, int]:
    """Poll a run whose steps end at ``step_ends`` (seconds after its start) until it has ended;
    return (detection delay, polls)."""
    end = step_ends[-1]
    now, polls = 0.0, 0
    while True:
        polls += 1
        if now >= end:
            return now - end, polls
        done = sum(1 for t in step_ends if t <= now)
        now += schedule.next_delay(now, done, len(step_ends)) + latency


# -- without anything to go by: geometric growth ------------------------------------------------


def test_first_poll_is_soon() -> None:
    assert PollSchedule().next_delay() == pytest.approx(0.25)
    assert PollSchedule().next_delay(running_for=0.0) == pytest.approx(0.25)


def test_delay_grows_geometrically_up_to_max_interval() -> None:
    got = delays(PollSchedule(max_interval=5.0), 12)
    expected = [min(5.0, 0.25 * 1.6**k) for k in range(12)]
    assert got == pytest.approx(expected)
    assert got[-1] == 5.0
    assert got == sorted(got)


def test_queued_run_grows_geometrically_even_with_history() -> None:
    schedule = PollSchedule(max_interval=60.0, expected_duration=600.0)
    got = delays(schedule, 4, running_for=None)
    assert got == pytest.approx([0.25, 0.4, 0.64, 1.024])


def test_first_and_dense_never_above_a_small_max_interval() -> None:
    schedule = PollSchedule(max_interval=0.1)
    assert schedule.first == pytest.approx(0.1)
    assert schedule.dense == pytest.approx(0.1)
    assert delays(schedule, 5) == pytest.approx([0.1] * 5)


# -- with history: sleep until just before the expected end --------------------------------------


@pytest.mark.parametrize(
    ("max_interval", "history", "running_for", "expected"),
    [
        (60.0, 60.0, 0.0, 59.8),  # right after the start: wake 0.2 s before the end
        (60.0, 60.0, 10.0, 49.8),
        (5.0, 60.0, 10.0, 5.0),  # never longer than max_interval
        (600.0, 600.0, 100.0, 499.8),
    ],
)
def test_history_sleeps_until_just_before_the_end(
    max_interval: float, history: float, running_for: float, expected: float
) -> None:
    schedule = PollSchedule(max_interval=max_interval, expected_duration=history)
    assert schedule.next_delay(running_for) == pytest.approx(expected)


def test_history_polls_densely_at_the_end() -> None:
    schedule = PollSchedule(max_interval=60.0, expected_duration=60.0)
    assert schedule.next_delay(59.5) == pytest.approx(0.3)  # 0.5 s left: wake 0.2 s before
    assert schedule.next_delay(59.8) == pytest.approx(0.2)  # within the dense window
    assert schedule.next_delay(59.9) == pytest.approx(0.2)


def test_history_wins_over_progress() -> None:
    schedule = PollSchedule(max_interval=600.0, expected_duration=100.0)
    schedule.next_delay(0.0, 0, 4)
    assert schedule.next_delay(10.0, 3, 4) == pytest.approx(89.8)


def test_overdue_run_backs_off_up_to_max_interval() -> None:
    schedule = PollSchedule(max_interval=5.0, expected_duration=60.0)
    got = [schedule.next_delay(60.0 + k) for k in range(12)]
    expected = [min(5.0, 0.2 * 1.6 ** (k + 1)) for k in range(12)]
    assert got == pytest.approx(expected)
    assert got[-1] == 5.0


def test_exact_history_sees_the_end_within_dense_and_polls_few_times() -> None:
    delay, polls = simulate(PollSchedule(max_interval=60.0, expected_duration=600.0), [600.0])
    assert delay <= 0.25
    assert polls <= 14  # 10 long sleeps, then a few dense ones
    delay, polls = simulate(PollSchedule(max_interval=5.0, expected_duration=60.0), [60.0])
    assert delay <= 0.25
    assert polls <= 15


# -- with progress: estimate from when the run reached its step count ---------------------------


def test_progress_estimate_takes_the_midpoint_of_when_the_step_was_reached() -> None:
    schedule = PollSchedule(max_interval=600.0)
    schedule.next_delay(0.0, 0, 4)
    schedule.next_delay(8.0, 0, 4)
    # Step 1 ended between 8 s and 10 s: 9 s per step, 36 s in all, 26 s to go: close in by half.
    assert schedule.next_delay(10.0, 1, 4) == pytest.approx(13.0)
    # Later polls that see the same count keep that estimate (instead of 12 s per step).
    assert schedule.next_delay(12.0, 1, 4) == pytest.approx(12.0)
    assert progress_left(schedule, 12.0, 1, 4) == pytest.approx(24.0)


def test_progress_estimate_without_an_earlier_poll_uses_the_time_so_far() -> None:
    schedule = PollSchedule(max_interval=600.0)
    # Attached to a run 30 s in, 3 of 4 steps done: about 10 s to go.
    assert progress_left(schedule, 30.0, 3, 4) == pytest.approx(10.0)
    assert schedule.next_delay(30.0, 3, 4) == pytest.approx(5.0)


def test_progress_estimate_is_capped_by_max_interval() -> None:
    schedule = PollSchedule(max_interval=5.0)
    schedule.next_delay(0.0, 0, 10)
    assert schedule.next_delay(60.0, 1, 10) == 5.0


def test_progress_a_step_under_way_never_looks_overdue() -> None:
    schedule = PollSchedule(max_interval=60.0)
    schedule.next_delay(0.0, 0, 4)
    schedule.next_delay(10.0, 1, 4)  # about 5 s per step, so far
    # At 19 s step 2 is still going: a step takes more than 9.5 s, the end is 38 s or later.
    assert progress_left(schedule, 19.0, 1, 4) == pytest.approx(19.0)
    assert schedule.next_delay(19.0, 1, 4) == pytest.approx(9.5)


def test_progress_all_steps_done_but_not_final_polls_densely() -> None:
    schedule = PollSchedule(max_interval=60.0)
    schedule.next_delay(0.0, 0, 2)
    schedule.next_delay(8.0, 0, 2)
    assert schedule.next_delay(10.0, 1, 2) == pytest.approx(4.0)  # 9 s per step: 8 s to go
    assert schedule.next_delay(19.0, 2, 2) == pytest.approx(0.2 * 1.6)


def test_progress_survives_a_step_count_going_back() -> None:
    schedule = PollSchedule(max_interval=60.0)
    schedule.next_delay(0.0, 0, 4)
    schedule.next_delay(10.0, 2, 4)
    delay = schedule.next_delay(12.0, 1, 4)
    assert progress_left(schedule, 12.0, 1, 4) == pytest.approx(36.0)
    assert 0.2 <= delay <= 60.0


def test_progress_sees_equal_steps_end_within_a_second() -> None:
    for length, max_interval in [(5.0, 5.0), (60.0, 60.0), (600.0, 60.0)]:
        steps = [length / 4 * (k + 1) for k in range(4)]
        delay, _ = simulate(PollSchedule(max_interval=max_interval), steps)
        assert delay < 1.5, (length, max_interval, delay)


def test_progress_beats_the_plain_geometric_schedule() -> None:
    """The midpoint estimate sees the end of a 4-step run sooner than no estimate at all."""
    steps = [15.0, 30.0, 45.0, 60.0]
    with_progress, _ = simulate(PollSchedule(max_interval=60.0), steps)
    without, _ = simulate(PollSchedule(max_interval=60.0), [60.0])
    assert with_progress < without


# -- bounds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_interval", [0.1, 1.0, 5.0, 60.0])
def test_never_above_max_interval_nor_below_a_floor(max_interval: float) -> None:
    rng = random.Random(max_interval)
    for _ in range(200):
        expected = rng.choice([None, rng.uniform(0.0, 900.0)])
        schedule = PollSchedule(max_interval=max_interval, expected_duration=expected)
        floor = min(schedule.dense, schedule.first)
        running_for: float | None = None
        total = rng.choice([None, rng.randint(1, 30)])
        done = 0
        for _ in range(60):
            if running_for is None and rng.random() < 0.3:
                running_for = 0.0
            steps = None if total is None else done
            delay = schedule.next_delay(running_for, steps, total)
            assert floor - 1e-9 <= delay <= max_interval + 1e-9
            if running_for is not None:
                running_for += delay
            if total is not None and done < total and rng.random() < 0.2:
                done += 1
