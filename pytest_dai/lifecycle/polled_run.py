"""What any run does until it ends, a model run's
(:class:`~pytest_dai.lifecycle.execution.Execution`) or a test configuration's
(:class:`~pytest_dai.lifecycle.test_config_run.TestConfigResult`): poll on the adaptive
schedule (:class:`~pytest_dai.lifecycle.polling.PollSchedule`) up to the run deadline, and
abort the run, once, before any exception leaves the wait.

The run class says how to ask for its record (:meth:`PolledRun.refresh`), how to stop it
(:meth:`PolledRun._stop`) and what its timeout says (:meth:`PolledRun._timeout_error`).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_dai.client.deadline import call_budget
from pytest_dai.client.errors import DAIError, DAIProtocolError
from pytest_dai.client.status import RunState
from pytest_dai.lifecycle.polling import PollSchedule
from pytest_dai.lifecycle.run_errors import DAIRunTimeout
from pytest_dai.lifecycle.run_state import RunRecordLike, RunStateView
from pytest_dai.lifecycle.shield import interrupts_held

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import Self

__all__ = ["PolledRun"]


R = TypeVar("R", bound=RunRecordLike)


class PolledRun(RunStateView[R]):
    """A run that is polled until it ends: :meth:`refresh`, :meth:`wait`, :meth:`abort` and
    ``on_end`` (called once, when the run is over or will be, by our abort).

    ``record`` is the latest record (None until the server has one); ``created`` is when
    the start request was sent (monotonic clock; default: now). The run class gives
    :meth:`_fetch`, :meth:`_missing`, :meth:`_stop` and :meth:`_timeout_error`, and may
    change :meth:`_seen`, :meth:`_estimate_start` and :meth:`_after_end`.
    """

    #: Whether :meth:`wait` lets the schedule's first delay pass before its first poll (a
    #: model run: it was only just queued) rather than polling at once.
    first_poll_waits = False
    #: Why a queued run may never start (``agent 'x' is offline``), "" when nothing says so.
    agent_offline = ""
    #: How :meth:`wait` passes the time between polls (``idle(seconds)``): a caller with other
    #: work to do meanwhile (runs started ahead to look at) sets its own.
    idle: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(
        self,
        poll_interval: float,
        record_grace: float,
        expected_duration: float | None,
        on_end: Callable[[Any], None] | None,
        *,
        created: float | None = None,
    ) -> None:
        self.record: R | None = None
        self.poll_interval = poll_interval
        self.record_grace = record_grace
        self.expected_duration = expected_duration
        self.on_end = on_end
        self.polls = 0
        self.aborted = False
        #: When the end was first seen (``time.time()``), None while going.
        self.detected_at: float | None = None
        # When the start request was sent (monotonic): the run cannot have started earlier,
        # and under load its answer may come well after the run started.
        self._created = time.monotonic() if created is None else created
        self._running_since: float | None = None
        self._last_poll = self._created
        #: When the latest poll's request was sent (its answer tells of some instant after).
        self._asked = self._created
        self._abort_lock = threading.Lock()

    # -- state ------------------------------------------------------------------------------

    @property
    def steps_total(self) -> int | None:
        """Steps the run will execute, where the server says (the schedule uses them)."""
        return None

    @property
    def steps_done(self) -> int | None:
        """Steps executed so far, where the server says."""
        return None

    # -- what the run class gives -------------------------------------------------------------

    def _fetch(self) -> R | None:
        """The run's record as the server lists it now (None: not yet)."""
        raise NotImplementedError

    def _missing(self) -> str:
        """What is missing when the server has no record long after the start (the call and
        the run, e.g. ``...: no run record for execution 42``)."""
        raise NotImplementedError

    def _stop(self, timeout: float | None) -> bool | None:
        """Send the abort; None when it could not (said in the log), else whether the server
        accepted it (False: the run was already over)."""
        raise NotImplementedError

    def _timeout_error(self, timeout: float, source: str) -> DAIRunTimeout:
        """The :class:`DAIRunTimeout` of a run aborted on its deadline of ``timeout`` seconds
        (``source``: where the deadline came from, in brackets, or empty)."""
        raise NotImplementedError

    def _seen(self, record: R) -> None:
        """Take what else a new record says (nothing here)."""

    def _estimate_start(self, record: R, before: float, asked: float, now: float) -> float:
        """When the run started, on this process's monotonic clock, first seen going in the
        poll sent at ``asked`` and answered at ``now`` (``before``: the previous poll's
        answer). Here: ``asked``."""
        return asked

    def _after_end(self) -> None:
        """What the wait does once the run has ended, before it returns (nothing here)."""

    def _ended(self) -> None:
        """Tell ``on_end`` (once) that the run is over or will be, by our abort."""
        callback, self.on_end = self.on_end, None
        if callback is not None:
            callback(self)

    def refresh(self) -> Self:
        """Ask the server for the run's record once (a model run: E2; a test configuration:
        E8)."""
        before, asked = self._last_poll, time.monotonic()
        self._asked = asked
        record = self._fetch()
        now = self._last_poll = time.monotonic()
        self.polls += 1
        if record is None:
            if self.record is None and self.elapsed > self.record_grace:
                raise DAIProtocolError(
                    f"{self._missing()} {self.record_grace:g} s after it was started"
                )
            return self
        self.record = record
        self._seen(record)
        if self._running_since is None and (
            record.status.state is RunState.RUNNING or record.started_at is not None
        ):
            self._running_since = self._estimate_start(record, before, asked, now)
        if record.status.final and self.detected_at is None:
            self.detected_at = time.time()
            self._ended()
        return self

    def wait(
        self,
        timeout: float | None = None,
        *,
        on_poll: Callable[[Self], None] | None = None,
        deadline_source: str = "",
    ) -> Self:
        """Poll until the run ends (a test configuration's: then fetch its test results);
        return self. ``timeout`` is the run deadline in seconds (None or 0: none), counted
        from now; ``deadline_source`` says where it came from when that is not obvious (e.g.
        pytest-timeout), for the message. ``on_poll`` is called after each poll that ended
        within the deadline.

        On the deadline the run is aborted and :class:`DAIRunTimeout` raised, also when a slow
        poll would carry the wait past it. On any other exception (Ctrl-C, SIGTERM,
        pytest-timeout, a server fault after the retries) the run is aborted first and the
        exception goes on.
        """
        try:
            self._poll_until_end(timeout, on_poll, deadline_source)
        except DAIRunTimeout:
            raise
        except BaseException:
            self.abort()
            raise
        self._after_end()
        return self

    def _poll_until_end(
        self,
        timeout: float | None,
        on_poll: Callable[[Self], None] | None,
        deadline_source: str,
    ) -> None:
        """The polls of :meth:`wait`, until the run has ended or the deadline has passed."""
        deadline = time.monotonic() + timeout if timeout else None
        schedule = PollSchedule(
            max_interval=self.poll_interval, expected_duration=self.expected_duration
        )
        if self.first_poll_waits:
            # No poll right after the start: the run was only just queued. The first poll
            # comes when the schedule says (with history: evenly towards the expected end).
            first = schedule.next_delay(0.0 if self.expected_duration is not None else None)
            if deadline is not None:
                first = min(first, max(deadline - time.monotonic(), 0.0))
            self.idle(max(first - self.elapsed, 0.0))
        while True:
            past_deadline = self._poll_within(deadline)
            if not past_deadline and on_poll is not None:
                on_poll(self)
            if self.finished:
                return
            now = time.monotonic()
            if timeout and deadline is not None and (past_deadline or now >= deadline):
                self.abort()
                raise self._timeout_error(
                    timeout, f" ({deadline_source})" if deadline_source else ""
                )
            delay = self.poll_delay(schedule, now)
            if deadline is not None:
                delay = min(delay, max(deadline - now, 0.0))
            self.idle(max(delay, 0.01))

    def poll_delay(self, schedule: PollSchedule, now: float | None = None) -> float:
        """Seconds until the next poll, by ``schedule`` and what the last poll saw."""
        now = time.monotonic() if now is None else now
        since = self._running_since
        return schedule.next_delay(
            now - since if since is not None else None,
            self.steps_done,
            self.steps_total,
            asked_at=self._asked - since if since is not None else None,
        )

    def _poll_within(self, deadline: float | None) -> bool:
        """One :meth:`refresh`, cut off at the run deadline (a server that is slow to answer
        does not carry the wait past it); True if the deadline passed during the poll."""
        if deadline is None:
            self.refresh()
            return False
        try:
            with call_budget(deadline - time.monotonic()):
                self.refresh()
        except DAIError:
            if time.monotonic() >= deadline:
                return True
            raise
        return False

    def abort(self, timeout: float | None = None) -> bool:
        """Stop the run, once; never raises, except to deliver a Ctrl-C or SIGTERM that came
        during the abort (held until it was done).

        Returns True when an abort was sent and accepted by this call. Does nothing for a run
        that has ended or was already aborted.
        """
        with self._abort_lock:
            if self.aborted or self.finished:
                return False
            self.aborted = True
        # A second Ctrl-C (or a CI's SIGTERM after its SIGINT) must not cut the abort off: it
        # is held until the abort is done, then goes on as usual.
        with interrupts_held():
            accepted = self._stop(timeout)
            if accepted is None:
                return False
            self._ended()
            return accepted
