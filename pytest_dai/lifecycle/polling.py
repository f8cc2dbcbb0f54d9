"""When to ask the server about a run next: soon after the start, and otherwise as late as the
run's expected end allows, so a result is seen within a fraction of a second of the run's end
while the server is asked only a few times per run.

The expected end comes from what the caller knows (the durations of this model's earlier runs,
kept in pytest's cache) or, failing that, from the run's own progress: the time the run took to
reach its current step count (between the last poll that saw fewer steps and the first that saw
this many), per step, times the steps in all. Without either, the delay grows geometrically. No
wait is ever longer than ``max_interval`` (``dai_poll_interval``): that bounds how late an
unexpectedly early end (a failed step) is seen.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PollSchedule"]


@dataclass
class PollSchedule:
    """A schedule for one run. Call :meth:`next_delay` after each poll."""

    max_interval: float = 5.0
    first: float = 0.25
    growth: float = 1.6
    dense: float = 0.2
    expected_duration: float | None = None

    def __post_init__(self) -> None:
        self.dense = min(self.dense, self.max_interval)
        self.first = min(self.first, self.max_interval)
        self._polls = 0
        self._overdue_polls = 0
        # Progress: the step count last seen, when the run reached it (between the poll before
        # it was first seen and the poll that first saw it), and the previous call's running_for.
        self._steps_seen: int | None = None
        self._reached: tuple[float, float] | None = None
        self._last_running_for: float | None = None

    def _observe(self, running_for: float | None, steps_done: int | None) -> None:
        """Note when the run reached its current step count."""
        if running_for is None:
            return
        if steps_done is not None and steps_done != self._steps_seen:
            before = self._last_running_for
            if before is None or self._steps_seen is None or steps_done < self._steps_seen:
                # Nothing earlier to narrow it down: it got there by now at the latest.
                before = running_for
            self._reached = (min(before, running_for), running_for)
            self._steps_seen = steps_done
        self._last_running_for = running_for

    def remaining(
        self,
        running_for: float | None,
        steps_done: int | None,
        steps_total: int | None,
    ) -> tuple[float, bool] | None:
        """Seconds the run is expected to go on, and whether that comes from history (True)
        or from progress so far (False); None when nothing tells."""
        if running_for is None:
            return None
        if self.expected_duration is not None:
            return self.expected_duration - running_for, True
        if steps_total and steps_done and 0 < steps_done <= steps_total and running_for > 0:
            per_step = running_for / steps_done
            if self._reached is not None and steps_done == self._steps_seen:
                # The run reached this count halfway between the last poll that saw fewer steps
                # and the first that saw these (the time of the latest poll would overestimate a
                # step's length more the longer the current step runs); and the step under way
                # has not ended, so a step takes longer than running_for / (steps_done + 1).
                per_step = sum(self._reached) / 2 / steps_done
                if steps_done < steps_total:
                    per_step = max(per_step, running_for / (steps_done + 1))
            return per_step * steps_total - running_for, False
        return None

    def next_delay(
        self,
        running_for: float | None = None,
        steps_done: int | None = None,
        steps_total: int | None = None,
    ) -> float:
        """Seconds to sleep before the next poll.

        ``running_for`` is how long the run has been running (None while queued).
        """
        self._polls += 1
        self._observe(running_for, steps_done)
        base = min(self.max_interval, self.first * self.growth ** (self._polls - 1))
        estimate = self.remaining(running_for, steps_done, steps_total)
        if estimate is None:
            return base
        remaining, from_history = estimate
        if remaining <= self.dense:
            # At or past the expected end: poll densely, backing off again if it is late, so a
            # wrong guess costs a few polls, not a poll every 0.2 s for an hour.
            self._overdue_polls += 1 if remaining <= 0 else 0
            return min(self.max_interval, self.dense * self.growth**self._overdue_polls)
        self._overdue_polls = 0
        if from_history:
            # Earlier runs of this model say when it ends: wake just before that.
            return min(self.max_interval, max(self.dense, remaining - self.dense))
        # Progress so far says when it ends, roughly: close in by halves.
        return min(self.max_interval, max(self.dense, remaining * 0.5))
