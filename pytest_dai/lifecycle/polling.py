"""When to ask the server about a run next: no more often than a fixed poller at
``max_interval`` (``dai_poll_interval``) would, yet right after the run's expected end.

No wait is ever longer than ``max_interval``: that bounds how late an unexpected end (a failed
step) is seen, and it means a run of T seconds needs about T / ``max_interval`` polls anyway.
Those polls are placed where they tell the most, instead of at fixed times:

- the expected end comes from the model's earlier runs (pytest's cache) when there are any;
  the polls are then spaced evenly (each gap at most ``max_interval``) so that one lands just
  after that end;
- without history, from the run's progress: a poll that sees ``k`` of ``n`` steps done, sent
  when the run was ``a`` seconds old and answered at ``t``, says a step takes between
  ``a / (k + 1)`` and ``t / k`` seconds (for steps of about equal length), so the run ends
  between ``n`` times those. A fixed poller makes ``spare`` (2) polls more than one per
  interval (the one right after the start, and on average one more where its last poll falls
  against the end): that credit, less a ``reserve``, is what the schedule may spend by
  shortening gaps. It spends it where the expected delay drops most: on a poll where step ``j``
  should end (the middle of the bracket, halving it) when that is within reach and worth its
  cost, or on a denser scan of the window the end may fall in, never so far that a run ending
  just after any poll would have cost more polls than the fixed poller's at that end. Before
  that window, the polls come every ``max_interval``. Steps of unequal length contradict the
  bracket: it restarts from the latest poll. With a long ``max_interval`` (above ``first``) the
  polls that are due anyway are steered to where a step should end, and from the earliest end
  on come at ``first``'s pace up to the latest;
- while nothing tells when the run ends (queued, or no history and no step done yet), the
  first poll comes after ``first`` seconds (a fixed poller's pace, or ``max_interval`` if that is
  shorter) and each next one ``growth`` times later, up to ``max_interval``: a short run is
  seen soon even with a long ``max_interval``, a long queue costs few polls. The pace starts
  over when the run starts;
- past the expected end without an end: a dense tail that backs off again (a wrong guess costs a
  few polls, not a poll every 0.2 s for an hour).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from pytest_dai.client import defaults

__all__ = ["PollSchedule"]

#: At most this many step ends are weighed per poll (runs of very many short steps).
MAX_CUTS = 64
#: A poll moved to narrow the bracket must shorten the expected delay by at least this (s).
MIN_GAIN = 0.02


@dataclass
class PollSchedule:
    """A schedule for one run. Call :meth:`next_delay` before each sleep."""

    max_interval: float = defaults.POLL_INTERVAL
    dense: float = 0.2
    growth: float = 1.6
    #: Aim this long after the expected end (a poll right at it may just miss it). Small: the
    #: schedule counts from when the start request was sent, before the server started the run,
    #: and a sleep never ends early; each 0.1 s more is 0.1 s more for every run with history.
    margin: float = 0.05
    expected_duration: float | None = None
    #: The first wait when nothing tells when the run ends (then growing by ``growth``).
    first: float = 5.0
    #: What a fixed poller at ``max_interval`` makes beyond one poll per interval: the poll
    #: right after the start and, on average over where its polls fall, one more at the end.
    spare: float = 2.0
    #: Of those, what is never spent (a safety against counting a poll too few).
    reserve: float = 0.1

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
        #: Polls scheduled so far (one per next_delay) and the seconds slept before them.
        self._polls = 0
        self._slept = 0.0

    def _observe(
        self,
        running_for: float | None,
        steps_done: int | None,
        steps_total: int | None,
        asked_at: float | None = None,
    ) -> None:
        """Narrow the bracket of a step's length with what this poll saw: ``steps_done`` at
        some instant between ``asked_at`` (when the request was sent) and ``running_for``."""
        if running_for is None or running_for <= 0 or steps_done is None or not steps_total:
            return
        if not 0 <= steps_done <= steps_total:
            return
        asked = running_for if asked_at is None else min(max(asked_at, 0.0), running_for)
        low = asked / (steps_done + 1) if steps_done < steps_total else 0.0
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

    def next_delay(
        self,
        running_for: float | None = None,
        steps_done: int | None = None,
        steps_total: int | None = None,
        *,
        asked_at: float | None = None,
    ) -> float:
        """Seconds to sleep before the next poll.

        ``running_for`` is how long the run has been running (None while queued or unknown);
        ``asked_at`` how long it had been running when the poll's request was sent (its answer
        tells of some instant in between; by default ``running_for``).
        """
        self._observe(running_for, steps_done, steps_total, asked_at)
        delay = self._next(running_for, steps_total)
        self._polls += 1
        self._slept += delay
        return delay

    def credit(self, running_for: float | None = None) -> float:
        """Polls in hand after the ones scheduled so far, less the reserve: a fixed poller
        makes ``spare`` more than one per ``max_interval`` since the start request, which the
        time slept so far (or the run's age, if more) measures."""
        elapsed = max(self._slept, running_for or 0.0)
        return self.spare + elapsed / self.max_interval - self._polls - self.reserve

    def _next(self, running_for: float | None, steps_total: int | None) -> float:
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
        if self.expected_duration is not None:
            # Evenly towards the expected end, no gap longer than max_interval.
            return (target - running_for) / self._polls_to(running_for, target)
        if self.first >= self.max_interval:
            return self._progress(running_for, earliest, latest, steps_total or 0)
        if latest - earliest > 2 * self.margin:
            # A long max_interval: steer the polls that are due anyway to where the next step
            # should end (not closer than half an interval: probing must not add polls).
            probe = self._probe(running_for + self.max_interval / 2, steps_total or 0)
            if (
                probe is not None
                and probe < target
                and self._polls_to(running_for, probe) + self._polls_to(probe, target)
                <= self._polls_to(running_for, target)
            ):
                target = probe
        delay = (target - running_for) / self._polls_to(running_for, target)
        return self._near_end(running_for, earliest, target, delay)

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

    def _spacing(self, width: float, credit: float) -> float:
        """Gaps that cover ``width`` seconds spending ``credit`` polls (at most max_interval)."""
        if width <= 0:
            return self.max_interval
        return min(self.max_interval, width / (width / self.max_interval + max(credit, 0.0)))

    def _expected_delay(self, width: float, credit: float) -> float:
        """The mean delay of a scan of an end window ``width`` wide with ``credit`` to spend."""
        return self.margin + min(self._spacing(width, credit), width) / 2

    def _progress(self, t: float, earliest: float, latest: float, steps: int) -> float:
        """Only progress to go by: spend the credit where it shortens the delay most, on polls
        that narrow the bracket (where a step should end) or on a denser scan of the end's
        window, keeping within a fixed poller's count."""
        credit = self.credit(t)
        end = latest + self.margin
        scan = min(self._scan(t, max(earliest + self.margin, t), end, credit), self.max_interval)
        if t >= earliest:
            return scan
        best, best_value = t, math.inf
        for x in [t + scan, *self._probes(t, steps)]:
            # A moved poll costs credit; what the whole polls from it to the end may cost
            # (wherever in its window the end falls) must stay.
            after = credit - (1 - (x - t) / self.max_interval)
            value = self._value(x, steps, after - self._rounding(x, end))
            kept = self._worst_rounding(x, earliest + self.margin, end)
            if best == t or (after >= kept and value < best_value - MIN_GAIN):
                best, best_value = x, value
        return best - t

    def _scan(self, t: float, start: float, end: float, credit: float) -> float:
        """The wait before the first poll of an even scan of the window from ``start`` to
        ``end`` (the latest end), as dense as the credit allows: should the run end just after
        any of its polls, the polls made by then are within the fixed poller's count."""
        width = end - start
        least = self._polls_to(0.0, width)
        polls = min(
            math.floor((end - t) / self.max_interval + credit),
            math.floor(width / self.dense),
        )
        while polls > least and credit + (end - t - width / polls) / self.max_interval < polls:
            polls -= 1
        return start - t + width / max(polls, least, 1)

    def _worst_rounding(self, start: float, first: float, last: float) -> float:
        """The most :meth:`_rounding` from ``start`` to an end between ``first`` and ``last``
        costs: 1 if a whole number of intervals after ``start`` falls between them."""
        if math.floor((last - start) / self.max_interval) > math.floor(
            (first - start) / self.max_interval
        ):
            return 1.0
        return self._rounding(start, first)

    def _rounding(self, start: float, end: float) -> float:
        """The credit it costs to get from ``start`` to ``end`` with whole polls."""
        return self._polls_to(start, end) - (end - start) / self.max_interval

    def _probes(self, t: float, steps: int) -> list[float]:
        """Where the next poll would halve the bracket of a step's length (the middle of where
        step j ends), for the steps within reach."""
        if self._step is None:
            return []
        low, high = self._step
        middle = (low + high) / 2
        reach = t + self.max_interval
        first = max(math.floor(t / high), 1)
        last = min(steps - 1, math.ceil(reach / low) if low > 0 else steps - 1)
        found = []
        for j in range(first, min(last, first + MAX_CUTS) + 1):
            x = min(max(j * middle, t + self.dense), reach)
            if j * low < x < j * high:
                found.append(x)
        return found

    def _value(self, x: float, steps: int, credit: float) -> float:
        """The mean delay expected after a poll at ``x``: the bracket it leaves (it cuts a
        step's length at x / j wherever step j may end then), then a scan with ``credit``."""
        low, high = self._step or (0.0, 0.0)
        width = high - low
        if width <= 0 or low <= 0:
            return self._expected_delay(steps * width, credit)
        first = max(math.floor(x / high), 1)
        last = min(math.ceil(x / low), steps, first + MAX_CUTS)
        cuts = sorted(x / j for j in range(first, last + 1) if low < x / j < high)
        edges = [low, *cuts, high]
        return sum(
            (b - a) / width * self._expected_delay(steps * (b - a), credit)
            for a, b in itertools.pairwise(edges)
        )

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
