"""When to ask the server about a run next: soon after the start, then backing off, and densely
only near the run's expected end.

The expected end comes from the run's own progress (steps done in the time it has run) or from
what the caller knows (the durations of this model's earlier runs). Without either, the delay
grows geometrically up to the longest wait (``dai_poll_interval``).
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

    def remaining(
        self,
        running_for: float | None,
        steps_done: int | None,
        steps_total: int | None,
    ) -> float | None:
        """Seconds the run is expected to go on, or None when nothing tells."""
        if running_for is None:
            return None
        if steps_total and steps_done and 0 < steps_done <= steps_total and running_for > 0:
            return running_for / steps_done * (steps_total - steps_done)
        if self.expected_duration is not None:
            return self.expected_duration - running_for
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
        base = min(self.max_interval, self.first * self.growth ** (self._polls - 1))
        remaining = self.remaining(running_for, steps_done, steps_total)
        if remaining is None:
            return base
        if remaining <= 0:
            # Later than expected: back off again from dense, so a wrong guess costs little.
            self._overdue_polls += 1
            return min(base, self.dense * self.growth ** (self._overdue_polls - 1))
        self._overdue_polls = 0
        return min(self.max_interval, max(self.dense, remaining * 0.5))
