"""How a finished DAI run maps to a pytest outcome, and the exceptions that carry it.

| DAI ends | exception |
|---|---|
| passed | none |
| failed | :class:`DAIRunFailed` |
| error (or a status word we do not know) | :class:`DAIRunError` |
| cancelled on the server | :class:`DAIRunCancelled` |
| run deadline passed | :class:`DAIRunTimeout` (raised after the run was aborted) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIError, redact
from pytest_dai.client.status import RunState
from pytest_dai.client.text import escape_control_chars

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.lifecycle.execution import Execution
    from pytest_dai.lifecycle.test_config_run import TestConfigResult

__all__ = [
    "DAIDryRun",
    "DAIRunCancelled",
    "DAIRunError",
    "DAIRunFailed",
    "DAIRunOutcome",
    "DAIRunTimeout",
    "default_outcome",
    "describe_failure",
]

#: How many of the last error lines of the run log a failure message quotes.
LAST_ERROR_LINES = 5


class DAIDryRun(DAIError):
    """Raised by ``DAISession.start`` in a dry run (``--dai-dry-run``) after the checks,
    instead of starting anything; the plugin reports the test as skipped with this message."""


class DAIRunOutcome(DAIError):
    """A DAI run that did not pass. The first line says what happened; more lines follow with
    the failed steps, the last error lines of the run log and the run's address."""

    def __init__(
        self,
        summary: str,
        *,
        execution: Execution | TestConfigResult | None = None,
        details: str = "",
    ):
        super().__init__(summary)
        self.execution = execution
        self.details = redact(details.strip())

    def __str__(self) -> str:
        return f"{self.message}\n{self.details}" if self.details else self.message


class DAIRunFailed(DAIRunOutcome):
    """The DAI run ended as failed."""


class DAIRunError(DAIRunOutcome):
    """The DAI run ended in error (or with a status word pytest-dai does not know), or the
    server could not be asked about it."""


class DAIRunCancelled(DAIRunOutcome):
    """The DAI run was cancelled on the server (by a person, or by the server itself)."""


class DAIRunTimeout(DAIRunOutcome):
    """The run deadline (``timeout=`` or ``--dai-timeout``) passed; the run was aborted."""


def describe_failure(execution: Execution, logs: list[LogEntry] | None) -> str:
    """The lines after the summary: the entry the run failed on, the last lines of the run log
    that read as errors (their words, not only their severity: contract 2.5) and the address."""
    from pytest_dai.lifecycle.runlog import failing_entry, reads_as_error

    lines: list[str] = []
    if execution.steps_total is not None:
        lines.append(
            f"steps: {execution.steps_done if execution.steps_done is not None else '?'} of "
            f"{execution.steps_total} done, {execution.steps_failed or 0} failed"
        )
    if logs:
        failing = failing_entry(logs, execution.state)
        if failing is not None:
            where = f"step {failing.step_ref}" if failing.step_ref is not None else "the log"
            lines.append(escape_control_chars(f"failed in {where}: {failing.message}"))
        errors = [e for e in logs if reads_as_error(e) and e is not failing][-LAST_ERROR_LINES:]
        if errors:
            lines.append("last error lines of the run log:")
            lines.extend(f"  {entry.format()}" for entry in errors)
    lines.append(f"run: {execution.url}")
    return "\n".join(lines)


def default_outcome(
    execution: Execution, logs: list[LogEntry] | None = None, *, min_steps: int | None = None
) -> DAIRunOutcome | None:
    """The exception a finished run maps to, or None when it passed."""
    where = f"DAI run of model {execution.model!r} (execution {execution.id})"
    status = execution.status_info
    details = describe_failure(execution, logs)
    if status.state is RunState.PASSED:
        done = execution.steps_done
        if min_steps is not None and (done or 0) < min_steps:
            return DAIRunFailed(
                f"{where} passed but ran {done or 0} steps, fewer than min_steps={min_steps}",
                execution=execution,
                details=details,
            )
        return None
    if status.state is RunState.FAILED:
        return DAIRunFailed(
            f"{where} failed: status {status.word}", execution=execution, details=details
        )
    if status.state is RunState.CANCELLED:
        return DAIRunCancelled(
            f"{where} was cancelled on the server: status {status.word}",
            execution=execution,
            details=details,
        )
    return DAIRunError(
        f"{where} ended in error: status {status.describe()}",
        execution=execution,
        details=details,
    )
