"""When to ask the server about a run next: no more often than a fixed poller at
``max_interval`` (``dai_poll_interval``) would, yet right after the run's expected end.

No wait is ever longer than ``max_interval``: that bounds how late an unexpected end (a failed
step) is seen, and it means a run of T seconds needs about T / ``max_interval`` polls anyway.
Those polls are placed where they tell the most, instead of at fixed times:

- the expected end comes from the model's earlier runs (pytest's cache) when there are any;
  the polls are then spaced evenly (each gap at most ``max_interval``) so that one lands just
  after that end;
- without history, from the run's progress: a poll at ``t`` seconds into the run that sees
  ``k`` of ``n`` steps done says a step takes between ``t / (k + 1)`` and ``t / k`` seconds (for
  steps of about equal length). Every poll narrows that bracket; each poll goes where the next
  step should end by the middle of the bracket (halving it), or, when that is too far, evenly
  towards the end the bracket allows. Once the end is pinned down, one poll lands just after it.
  Steps of unequal length contradict the bracket: it restarts from the latest poll;
- while nothing tells when the run ends (queued, or no history and no step done yet), the
  first poll comes after ``first`` seconds (a fixed poller's pace, or ``max_interval`` if that is
  shorter) and each next one ``growth`` times later, up to ``max_interval``: a short run is
  seen soon even with a long ``max_interval``, a long queue costs few polls. The pace starts
  over when the run starts;
- past the expected end without an end: a dense tail that backs off again (a wrong guess costs a
  few polls, not a poll every 0.2 s for an hour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_dai.client import defaults

__all__ = ["PollSchedule"]


@dataclass
class PollSchedule:
    """A schedule for one run. Call :meth:`next_delay` before each sleep."""

    max_interval: float = defaults.POLL_INTERVAL
    dense: float = 0.2
    growth: float = 1.6
    #: Aim this long after the expected end (a poll right at it may just miss it).
    margin: float = 0.15
    expected_duration: float | None = None
    #: The first wait when nothing tells when the run ends (then growing by ``growth``).
    first: float = 5.0

    def __post_init__(self) -> None:
        self.dense = min(self.dense, self.max_interval)
        self.margin = min(self.margin, self.max_interval)
        self.first = min(self.first, self.max_interval)
        self._overdue_polls = 0
        #: Polls in a row with nothing to go by, and whether the run had started then.
        self._blind_polls = 0
        self._blind_running = False
        #: What the polls so far say of one step's length: (lower, upper) bound, seconds.
        self._step: tuple[float, float] | None = None

    def _observe(
        self, running_for: float | None, steps_done: int | None, steps_total: int | None
    ) -> None:
        """Narrow the bracket of a step's length with what this poll saw."""
        if running_for is None or running_for <= 0 or steps_done is None or not steps_total:
            return
        if not 0 <= steps_done <= steps_total:
            return
        low = running_for / (steps_done + 1) if steps_done < steps_total else 0.0
        high = running_for / steps_done if steps_done else math.inf
        if self._step is not None:
            both = (max(low, self._step[0]), min(high, self._step[1]))
            if both[0] <= both[1]:
                low, high = both
            # else: steps of unequal length; restart from this poll alone
        self._step = (low, high)

    def end_bracket(self, steps_total: int | None) -> tuple[float, float] | None:
        """When the run ends (seconds after its start), as (earliest, latest); None when
        nothing tells. History gives one point; progress a range."""
        if self.expected_duration is not None:
            return self.expected_duration, self.expected_duration
        if self._step is None or not steps_total or math.isinf(self._step[1]):
            return None
        low, high = self._step
        return low * steps_total, high * steps_total

    def remaining(
        self,
        running_for: float | None,
        steps_done: int | None,
        steps_total: int | None,
    ) -> tuple[float, bool] | None:
        """Seconds the run is expected to go on at the latest, and whether that comes from
        history (True) or from progress (False); None when nothing tells."""
        if running_for is None:
            return None
        bracket = self.end_bracket(steps_total)
        if bracket is None:
            return None
        return bracket[1] - running_for, self.expected_duration is not None

    def _probe(self, after: float, steps_total: int) -> float | None:
        """The first time after ``after`` (seconds into the run) where a poll halves the step
        bracket: where a step should end, by the bracket's middle; None when there is none."""
        if self._step is None or math.isinf(self._step[1]):
            return None
        low, high = self._step
        middle = (low + high) / 2
        if middle <= 0:
            return None
        for step in range(math.floor(after / middle) + 1, steps_total + 1):
            at = step * middle
            if at > after and step * low < at < step * high:
                return at
        return None

    def next_delay(
        self,
        running_for: float | None = None,
        steps_done: int | None = None,
        steps_total: int | None = None,
    ) -> float:
        """Seconds to sleep before the next poll.

        ``running_for`` is how long the run has been running (None while queued or unknown).
        """
        self._observe(running_for, steps_done, steps_total)
        bracket = self.end_bracket(steps_total) if running_for is not None else None
        if running_for is None or bracket is None:
            return self._blind(running=running_for is not None)
        earliest, latest = bracket
        target = latest + self.margin
        if target - running_for <= 0:
            # Past the expected end: densely, then backing off again.
            self._overdue_polls += 1
            return min(self.max_interval, self.dense * self.growth ** (self._overdue_polls - 1))
        self._overdue_polls = 0
        if self.expected_duration is None and latest - earliest > 2 * self.margin:
            # Not pinned down yet: steer the polls that are due anyway to where the next step
            # should end (not closer than half an interval: probing must not add polls).
            probe = self._probe(running_for + self.max_interval / 2, steps_total or 0)
            if (
                probe is not None
                and probe < target
                and self._polls_to(running_for, probe) + self._polls_to(probe, target)
                <= self._polls_to(running_for, target)
            ):
                target = probe
        remaining = target - running_for
        # Evenly towards the target, no gap longer than max_interval.
        delay = remaining / self._polls_to(running_for, target)
        if self.expected_duration is None and self.first < self.max_interval:
            delay = self._near_end(running_for, earliest, target, delay)
        return delay

    def _near_end(self, running_for: float, earliest: float, target: float, delay: float) -> float:
        """With a long ``max_interval`` and only progress to go by: from the earliest end the
        progress allows, at least a fixed poller's pace (``first``) up to the latest one."""
        if running_for < earliest:
            return min(delay, max(earliest - running_for, self.dense))
        polls = max(math.ceil((target - running_for) / self.first - 1e-9), 1)
        return min(delay, (target - running_for) / polls)

    def _blind(self, *, running: bool) -> float:
        """The wait while nothing tells when the run ends: ``first``, then growing."""
        if running != self._blind_running:
            self._blind_polls, self._blind_running = 0, running
        self._blind_polls += 1
        return min(self.max_interval, self.first * self.growth ** (self._blind_polls - 1))

    def _polls_to(self, start: float, end: float) -> int:
        """Polls it takes to get from ``start`` to ``end`` with gaps of at most max_interval."""
        return max(math.ceil((end - start) / self.max_interval - 1e-9), 1)
