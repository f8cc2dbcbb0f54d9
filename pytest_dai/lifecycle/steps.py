"""Per-step results of a run, from its log (contract 2.5: the entry that closes a step carries
``step`` and ``status``), as plain data that survives pytest-xdist's report serialisation.

Steps the log never closed (the run was cancelled, aborted or interrupted first) are listed as
not reached, up to the run's ``steps_total`` where the server gives one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.client.records import parse_time
from pytest_dai.client.status import RunState, normalise_status

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.lifecycle.execution import Execution

__all__ = ["STEPS_LIMIT", "RunSteps", "StepResult", "run_steps"]

#: The most steps listed for one run (the steps file, reports), whatever the server claims.
STEPS_LIMIT = 10_000


@dataclass
class StepResult:
    """One step: ``outcome`` is passed, failed, error or skipped (not reached)."""

    number: int
    name: str
    outcome: str
    duration: float = 0.0
    message: str = ""


@dataclass
class RunSteps:
    """A run and its steps, as the steps JUnit file shows them."""

    execution_id: str
    model: str
    agent: str
    status: str
    url: str
    nodeid: str
    duration: float
    started_at: str = ""
    rerun_of: str = ""
    interrupted: str = ""
    run_id: str = ""
    #: Aborted by pytest-dai before it ended (status is then "Aborted").
    aborted: bool = False
    steps: list[StepResult] = field(default_factory=list)
    #: "model", or "test_config" (then ``execution_id`` is the task instance id, ``model``
    #: the configuration's name, and each step a test case run).
    kind: str = "model"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for a test report attribute)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSteps:
        """The inverse of :meth:`to_dict`."""
        fields = dict(data)
        fields["steps"] = [StepResult(**step) for step in fields.get("steps", [])]
        return cls(**fields)


def _outcome(status: str | None) -> str:
    state = normalise_status(status or "", ended=True).state
    if state is RunState.PASSED:
        return "passed"
    if state is RunState.FAILED:
        return "failed"
    if state is RunState.CANCELLED:
        return "skipped"
    return "error"


def run_steps(
    execution: Execution,
    logs: list[LogEntry] | None,
    *,
    nodeid: str = "",
    interrupted: str = "",
) -> RunSteps:
    """The steps of ``execution`` from its log. ``interrupted`` is why the wait stopped early
    (e.g. "the session was interrupted"), used as the reason for steps not reached."""
    steps: dict[int, StepResult] = {}
    previous_end = execution.started_at
    for entry in sorted(
        (e for e in logs or [] if e.step is not None and e.status),
        key=lambda e: e.step or 0,
    ):
        number = entry.step or 0
        when = parse_time(entry.timestamp)
        duration = 0.0
        if when is not None and previous_end is not None:
            duration = max((when - previous_end).total_seconds(), 0.0)
        if when is not None:
            previous_end = when
        raw_name = entry.raw.get("step_name") or entry.raw.get("name")
        name = str(raw_name) if raw_name else entry.message or f"step {number}"
        outcome = _outcome(entry.status)
        steps[number] = StepResult(
            number=number,
            name=f"{number:03d} {name}",
            outcome=outcome,
            duration=round(duration, 3),
            message="" if outcome == "passed" else entry.message,
        )
    total = execution.steps_total or (max(steps) if steps else 0)
    note = ""
    if total > STEPS_LIMIT:
        # A record may claim 10^9 steps: list what is real, never one entry per claimed step.
        note = f" (the server claims {total} steps; the first {STEPS_LIMIT} are listed)"
        total = STEPS_LIMIT
        steps = {n: step for n, step in steps.items() if n <= STEPS_LIMIT}
    if execution.finished:
        reason = f"not reached: the run ended as {execution.status}"
    else:
        reason = f"not reached: {interrupted or 'the run did not finish'}"
    if execution.aborted:
        reason += " (aborted by pytest-dai)"
    reason += note
    for number in range(1, total + 1):
        if number not in steps:
            steps[number] = StepResult(
                number, f"{number:03d} step {number}", "skipped", 0.0, reason
            )
    run_duration = execution.duration
    aborted = execution.aborted and not execution.finished
    return RunSteps(
        execution_id=execution.id,
        model=execution.model,
        agent=execution.agent or "",
        status="Aborted" if aborted else execution.status,
        url=execution.url,
        nodeid=nodeid,
        duration=round(run_duration or 0.0, 3),
        started_at=execution.started_at.isoformat() if execution.started_at else "",
        interrupted=interrupted,
        run_id=execution.run_id or "",
        aborted=aborted,
        steps=[steps[n] for n in sorted(steps)],
    )
