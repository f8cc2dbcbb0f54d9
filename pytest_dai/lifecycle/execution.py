"""One DAI model run: its state, and refresh, wait, abort and logs.

An :class:`Execution` is made by :meth:`pytest_dai.lifecycle.session.DAISession.start` (or
``.execution(id)`` for a run started elsewhere). :meth:`Execution.wait` aborts the run before any
exception leaves it: the run deadline, Ctrl-C, SIGTERM, pytest-timeout, or a server fault.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pytest_dai.client import defaults
from pytest_dai.client.calls import RUN_STATUS
from pytest_dai.client.deadline import call_budget
from pytest_dai.client.errors import DAIError, DAIProtocolError
from pytest_dai.client.status import RunState, Status, normalise_status
from pytest_dai.client.text import escape_control_chars
from pytest_dai.lifecycle.polling import PollSchedule
from pytest_dai.lifecycle.run_errors import DAIRunTimeout
from pytest_dai.lifecycle.run_state import RunStateView
from pytest_dai.lifecycle.runlog import failing_entry, reads_as_error
from pytest_dai.lifecycle.shield import interrupts_held

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.records import LogEntry, RunRecord

__all__ = ["Execution"]

log = logging.getLogger("pytest_dai")

#: How many of the last error lines of the run log a failure message quotes.
LAST_ERROR_LINES = 5


class Execution(RunStateView):
    """A DAI model run. Attributes mirror the latest run record; :meth:`refresh` updates them.

    ``id`` is the execution id (E1's answer, used by E2 and E3); ``run_id`` the run record's id
    (used by E6 and in the run's address). ``url`` is the run's address in the DAI UI.
    ``kind`` is ``"model"`` (a test configuration's run has ``"test_config"``).
    """

    kind = "model"

    def __init__(
        self,
        client: DAIClient,
        execution_id: str,
        *,
        model: str,
        agent: str | None = None,
        run_url: str = defaults.RUN_URL,
        poll_interval: float = defaults.POLL_INTERVAL,
        record_grace: float = 120.0,
        expected_duration: float | None = None,
        initial_status: str = "Queued",
        on_end: Callable[[Any], None] | None = None,
        requested_at: float | None = None,
    ) -> None:
        self.id = execution_id
        self.on_end = on_end
        self.model = model
        self.agent = agent
        self.record: RunRecord | None = None
        self.poll_interval = poll_interval
        self.record_grace = record_grace
        self.expected_duration = expected_duration
        self.polls = 0
        self.aborted = False
        self.detected_at: float | None = None
        self._client = client
        self._run_url = run_url
        self._initial_status = initial_status
        # When the start request was sent (monotonic): the run cannot have started earlier,
        # and under load its answer may come well after the run started.
        self._created = time.monotonic() if requested_at is None else requested_at
        self._created_wall = datetime.now(timezone.utc)
        self._running_since: float | None = None
        self._last_poll = self._created
        #: When the latest poll's request was sent (its answer tells of some instant after).
        self._asked = self._created
        self._abort_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Execution {self.id} model={self.model!r} agent={self.agent!r} {self.status}>"

    # -- state ------------------------------------------------------------------------------

    @property
    def status_info(self) -> Status:
        """The normalised status (state and the server's word)."""
        if self.record is None:
            return normalise_status(self._initial_status)
        return self.record.status

    @property
    def run(self) -> dict[str, Any]:
        """The raw run record as the server sent it (empty before there is one)."""
        return dict(self.record.raw) if self.record is not None else {}

    @property
    def run_id(self) -> str | None:
        """The run record's id, once the server has a record."""
        return self.record.run_id if self.record is not None else None

    @property
    def started_at(self) -> datetime | None:
        """When the run started on the server (None while queued)."""
        return self.record.started_at if self.record is not None else None

    @property
    def ended_at(self) -> datetime | None:
        """When the run ended on the server."""
        return self.record.ended_at if self.record is not None else None

    @property
    def steps_total(self) -> int | None:
        """Steps the run will execute, where the server says."""
        return self.record.steps_total if self.record is not None else None

    @property
    def steps_done(self) -> int | None:
        """Steps executed so far, where the server says."""
        return self.record.steps_done if self.record is not None else None

    @property
    def steps_failed(self) -> int | None:
        """Steps that failed so far, where the server says."""
        return self.record.steps_failed if self.record is not None else None

    @property
    def url(self) -> str:
        """The run's address in the DAI UI (setting ``dai_run_url``)."""
        return self._run_url.format(
            url=self._client.url, run_id=self.run_id or self.id, execution_id=self.id
        )

    def failure_details(self, logs: list[LogEntry] | None) -> str:
        """The lines after a failure's summary: the steps done, the entry the run failed on,
        the last lines of the run log that read as errors (their words, not only their
        severity: contract 2.5) and the run's address."""
        lines: list[str] = []
        if self.steps_total is not None:
            done = self.steps_done if self.steps_done is not None else "?"
            lines.append(
                f"steps: {done} of {self.steps_total} done, {self.steps_failed or 0} failed"
            )
        if logs:
            failing = failing_entry(logs, self.state)
            if failing is not None:
                where = f"step {failing.step_ref}" if failing.step_ref is not None else "the log"
                lines.append(escape_control_chars(f"failed in {where}: {failing.message}"))
            errors = [e for e in logs if reads_as_error(e) and e is not failing]
            if errors:
                lines.append("last error lines of the run log:")
                lines.extend(f"  {entry.format()}" for entry in errors[-LAST_ERROR_LINES:])
        lines.append(f"run: {self.url}")
        return "\n".join(lines)

    # -- actions ------------------------------------------------------------------------------

    def refresh(self) -> Execution:
        """Ask the server (E2) for the run record once."""
        before = self._last_poll
        self._asked = time.monotonic()
        record = self._client.find_run(self.id)
        now = time.monotonic()
        self._last_poll = now
        self.polls += 1
        if record is None:
            if self.record is None and self.elapsed > self.record_grace:
                raise DAIProtocolError(
                    f"{self._client.label(RUN_STATUS)}: no run record for execution {self.id} "
                    f"{self.record_grace:g} s after it was started"
                )
            return self
        self.record = record
        if record.agent_name:
            # The agent that ran it, as the server names it (also when the start named none).
            self.agent = record.agent_name
        if self._running_since is None and (
            record.status.state is RunState.RUNNING or record.started_at is not None
        ):
            self._running_since = self._estimate_start(record, before, now)
        if record.status.final and self.detected_at is None:
            self.detected_at = time.time()
            self._ended()
        return self

    def _estimate_start(self, record: RunRecord, before: float, now: float) -> float:
        """When the run started, on this process's monotonic clock.

        It started after the previous poll (``before``) and before this one (``now``); the
        server's ``starttime`` places it within that window when the clocks agree.
        """
        if record.started_at is not None:
            age = time.time() - record.started_at.timestamp()
            return min(max(now - age, before), now)
        return before

    def _ended(self) -> None:
        """Tell ``on_end`` (once) that the run is over or will be, by our abort."""
        callback, self.on_end = self.on_end, None
        if callback is not None:
            callback(self)

    def wait(
        self,
        timeout: float | None = None,
        *,
        on_poll: Callable[[Execution], None] | None = None,
        deadline_source: str = "",
    ) -> Execution:
        """Poll until the run ends; return self. ``timeout`` is the run deadline in seconds
        (None or 0: none), counted from now; ``deadline_source`` says where it came from when
        that is not obvious (e.g. pytest-timeout), for the message.

        On the deadline the run is aborted and :class:`DAIRunTimeout` raised. On any other
        exception (Ctrl-C, SIGTERM, pytest-timeout, a server fault after the retries) the run
        is aborted first and the exception goes on.
        """
        deadline = time.monotonic() + timeout if timeout else None
        schedule = PollSchedule(
            max_interval=self.poll_interval, expected_duration=self.expected_duration
        )
        try:
            # No poll right after the start: the run was only just queued. The first poll
            # comes when the schedule says (with history: evenly towards the expected end).
            first = schedule.next_delay(0.0 if self.expected_duration is not None else None)
            if deadline is not None:
                first = min(first, max(deadline - time.monotonic(), 0.0))
            time.sleep(max(first - self.elapsed, 0.0))
            while True:
                past_deadline = self._poll_within(deadline)
                if not past_deadline and on_poll is not None:
                    on_poll(self)
                if self.finished:
                    return self
                now = time.monotonic()
                if deadline is not None and (past_deadline or now >= deadline):
                    self.abort()
                    raise DAIRunTimeout(
                        f"DAI run of model {self.model!r} (execution {self.id}) passed its "
                        f"deadline of {timeout:g} s"
                        + (f" ({deadline_source})" if deadline_source else "")
                        + f" and was aborted; last status {self.status}",
                        execution=self,
                        details=self.failure_details(None),
                    )
                since = self._running_since
                running_for = now - since if since is not None else None
                delay = schedule.next_delay(
                    running_for,
                    self.steps_done,
                    self.steps_total,
                    asked_at=self._asked - since if since is not None else None,
                )
                if deadline is not None:
                    delay = min(delay, max(deadline - now, 0.0))
                time.sleep(max(delay, 0.01))
        except DAIRunTimeout:
            raise
        except BaseException:
            self.abort()
            raise

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
        """Ask the server to stop the run (E3), once; never raises, except to deliver a Ctrl-C
        or SIGTERM that came during the abort (held until it was done).

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
            try:
                accepted = self._client.abort_execution(self.id, timeout=timeout)
            except DAIError as exc:
                log.warning("pytest-dai: could not abort execution %s: %s", self.id, exc)
                return False
            except Exception as exc:  # never let cleanup hide the exception that caused it
                log.warning(
                    "pytest-dai: could not abort execution %s: %s", self.id, type(exc).__name__
                )
                return False
            log.debug("pytest-dai: aborted execution %s (accepted=%s)", self.id, accepted)
            self._ended()
            return accepted

    def logs(self, *, quick: bool = False) -> list[LogEntry]:
        """The run log (E6), every page; empty while the server has no run record.

        ``quick``: short timeout, few attempts (used when the session is being interrupted).
        """
        if self.run_id is None:
            return []
        return list(self._client.iter_run_logs(self.run_id, quick=quick))
