"""One DAI model run: its state, and refresh, wait, abort and logs.

An :class:`Execution` is made by :meth:`pytest_dai.lifecycle.session.DAISession.start` (or
``.execution(id)`` for a run started elsewhere). :meth:`Execution.wait` aborts the run before any
exception leaves it: the run deadline, Ctrl-C, SIGTERM, pytest-timeout, or a server fault.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pytest_dai.client import defaults
from pytest_dai.client.calls import RUN_STATUS
from pytest_dai.client.errors import DAIError
from pytest_dai.client.server_text import address_id
from pytest_dai.lifecycle.polled_run import PolledRun
from pytest_dai.lifecycle.run_errors import DAIRunTimeout
from pytest_dai.lifecycle.runlog import failing_entry, failure_reason, reads_as_error
from pytest_dai.lifecycle.steps import Step, public_steps, run_steps

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.client.records import LogEntry, RunRecord
    from pytest_dai.lifecycle.agent_watch import AgentWatch

__all__ = ["Execution"]

log = logging.getLogger("pytest_dai")

#: How many of the last error lines of the run log a failure message quotes.
LAST_ERROR_LINES = 5


class Execution(PolledRun["RunRecord"]):
    """A DAI model run. Attributes mirror the latest run record; :meth:`refresh` updates them.

    ``id`` is the execution id (E1's answer, used by E2 and E3); ``run_id`` the run record's id
    (used by E6 and in the run's address). ``url`` is the run's address in the DAI UI.
    ``kind`` is ``"model"`` (a test configuration's run has ``"test_config"``).
    :meth:`~PolledRun.wait` and :meth:`~PolledRun.abort` (E3) are those of any run.
    """

    kind = "model"
    first_poll_waits = True

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
        agent_watch: AgentWatch | None = None,
    ) -> None:
        super().__init__(
            poll_interval, record_grace, expected_duration, on_end, created=requested_at
        )
        self._initial_status = initial_status
        self.id = execution_id
        self.model = model
        self.agent = agent
        self._client = client
        self._run_url = run_url
        self._created_wall = datetime.now(timezone.utc)
        #: Looks at the agent listing while the run is queued (None: no agent named).
        self.agent_watch = agent_watch
        self._final_steps: list[Step] | None = None

    def __repr__(self) -> str:
        return f"<Execution {self.id} model={self.model!r} agent={self.agent!r} {self.status}>"

    # -- state ------------------------------------------------------------------------------

    @property
    def run(self) -> dict[str, Any]:
        """The raw run record as the server sent it (empty before there is one)."""
        return dict(self.record.raw) if self.record is not None else {}

    @property
    def run_id(self) -> str | None:
        """The run record's id, once the server has a record."""
        return self.record.run_id if self.record is not None else None

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
            url=self._client.url,
            run_id=address_id(self.run_id or self.id),
            execution_id=address_id(self.id),
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
        reason = self.failure_reason(logs)
        if reason:
            lines.append(reason)
        if logs:
            failing = failing_entry(logs, self.state)
            errors = [e for e in logs if reads_as_error(e) and e is not failing]
            if errors:
                lines.append("last error lines of the run log:")
                lines.extend(f"  {entry.format()}" for entry in errors[-LAST_ERROR_LINES:])
        lines.append(f"run: {self.url}")
        return "\n".join(lines)

    def failure_reason(self, logs: list[LogEntry] | None) -> str:
        """The one line that says why a failed or errored run failed (``failed in step 3:
        <message>``), the line the failure, the annotation and the job summary show; "" when
        the log does not tell."""
        return failure_reason(logs, self.state)

    # -- actions ------------------------------------------------------------------------------

    def _fetch(self) -> RunRecord | None:
        """The run record (E2), None while the server has none."""
        return self._client.find_run(self.id, run_id=self.run_id)

    def _missing(self) -> str:
        """The call and the run that has no record."""
        return f"{self._client.label(RUN_STATUS)}: no run record for execution {self.id}"

    def _seen(self, record: RunRecord) -> None:
        """The agent that ran it, as the server names it (also when the start named none)."""
        if record.agent_name:
            self.agent = record.agent_name
        if self.agent_watch is not None:
            self.agent_offline = self.agent_watch.after_poll(record.status.state)

    def _estimate_start(self, record: RunRecord, before: float, asked: float, now: float) -> float:
        """When the run started, on this process's monotonic clock.

        It started after the previous poll (``before``) and before this one (``now``); the
        server's ``starttime`` places it within that window when the clocks agree.
        """
        if record.started_at is not None:
            age = time.time() - record.started_at.timestamp()
            return min(max(now - age, before), now)
        return before

    def _timeout_error(self, timeout: float, source: str) -> DAIRunTimeout:
        """The :class:`DAIRunTimeout` of a run aborted on its deadline."""
        details = self.failure_details(None)
        offline = ""
        if self.agent_offline:  # the likely why: said in the summary, first in the details
            offline = f" ({self.agent_offline})"
            reason = f"{self.agent_offline}: the run waited in its queue until the deadline"
            details = f"{reason}\n{details}"
        else:
            reason = f"the run deadline of {timeout:g} s passed; last status {self.status}"
        return DAIRunTimeout(
            f"DAI run of model {self.model!r} (execution {self.id}) passed its "
            f"deadline of {timeout:g} s{source} and was aborted; last status "
            f"{self.status}{offline}",
            execution=self,
            details=details,
            reason=reason,
        )

    def _stop(self, timeout: float | None) -> bool | None:
        """The abort (E3); None when it could not be sent, else whether it was accepted."""
        try:
            accepted = self._client.abort_execution(self.id, timeout=timeout)
        except DAIError as exc:
            log.warning("pytest-dai: could not abort execution %s: %s", self.id, exc)
            return None
        except Exception as exc:  # never let cleanup hide the exception that caused it
            log.warning("pytest-dai: could not abort execution %s: %s", self.id, type(exc).__name__)
            return None
        log.debug("pytest-dai: aborted execution %s (accepted=%s)", self.id, accepted)
        return accepted

    def logs(self, *, quick: bool = False) -> list[LogEntry]:
        """The run log (E6), every page; empty while the server has no run record.

        ``quick``: short timeout, few attempts (used when the session is being interrupted).
        """
        if self.run_id is None:
            return []
        return list(self._client.iter_run_logs(self.run_id, quick=quick))

    @property
    def steps(self) -> list[Step]:
        """The run's steps in order: name, outcome (passed, failed, error, skipped: not
        reached, or unknown: the log cannot tell) and message, read from the run log (E6), so
        nobody has to parse it. Read once the run has ended, then kept; while it is going,
        read again on every access (steps not yet reached are ``skipped``)."""
        if self._final_steps is not None:
            return list(self._final_steps)
        found = public_steps(run_steps(self, self.logs()).steps)
        if self.finished:
            self._final_steps = found
        return list(found)
