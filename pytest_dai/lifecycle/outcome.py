"""How a finished DAI run maps to a pytest outcome (the exceptions are in
:mod:`pytest_dai.lifecycle.run_errors`; they are also importable from here).

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

from pytest_dai.client.status import RunState

# The exceptions, importable from here too (they live apart: see run_errors).
from pytest_dai.lifecycle.run_errors import DAIDryRun as DAIDryRun
from pytest_dai.lifecycle.run_errors import DAIRunCancelled as DAIRunCancelled
from pytest_dai.lifecycle.run_errors import DAIRunError as DAIRunError
from pytest_dai.lifecycle.run_errors import DAIRunFailed as DAIRunFailed
from pytest_dai.lifecycle.run_errors import DAIRunOutcome as DAIRunOutcome
from pytest_dai.lifecycle.run_errors import DAIRunTimeout as DAIRunTimeout

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.lifecycle.execution import Execution

__all__ = ["default_outcome"]


def default_outcome(
    execution: Execution, logs: list[LogEntry] | None = None, *, min_steps: int | None = None
) -> DAIRunOutcome | None:
    """The exception a finished run maps to, or None when it passed."""
    where = f"DAI run of model {execution.model!r} (execution {execution.id})"
    status = execution.status_info
    details = execution.failure_details(logs)
    reason = execution.failure_reason(logs)
    if status.state is RunState.PASSED:
        done = execution.steps_done
        if min_steps is not None and (done or 0) < min_steps:
            return DAIRunFailed(
                f"{where} passed but ran {done or 0} steps, fewer than min_steps={min_steps}",
                execution=execution,
                details=details,
                reason=f"ran {done or 0} steps, fewer than min_steps={min_steps}",
            )
        return None
    if status.state is RunState.FAILED:
        return DAIRunFailed(
            f"{where} failed: status {status.word}",
            execution=execution,
            details=details,
            reason=reason,
        )
    if status.state is RunState.CANCELLED:
        return DAIRunCancelled(
            f"{where} was cancelled on the server: status {status.word}",
            execution=execution,
            details=details,
            reason=reason,
        )
    return DAIRunError(
        f"{where} ended in error: status {status.describe()}",
        execution=execution,
        details=details,
        reason=reason,
    )
