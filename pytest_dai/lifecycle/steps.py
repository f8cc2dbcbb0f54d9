"""Per-step results of a run, from its log read by ``step_id`` groups (contract 2.5, see
:mod:`pytest_dai.lifecycle.runlog`), as plain data that survives pytest-xdist's report
serialisation.

Steps never reached (the run failed early, was cancelled, aborted or interrupted first) are
listed as not reached, up to the run's ``steps_total`` where the server gives one. Where the log
cannot tell how a step went, its outcome is ``unknown``: never an invented pass or skip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pytest_dai.client.server_text import FAN_OUT_LIMIT
from pytest_dai.lifecycle.runlog import failing_entry, step_groups, step_verdicts

if TYPE_CHECKING:
    from datetime import datetime

    from pytest_dai.client.records import LogEntry
    from pytest_dai.client.status import RunState

__all__ = ["STEPS_LIMIT", "RunSteps", "Step", "StepResult", "public_steps", "run_steps"]

#: The most steps listed for one run (the steps file, reports), whatever the server claims:
#: the client's fan-out limit, which caps a test configuration's test results too.
STEPS_LIMIT = FAN_OUT_LIMIT


@dataclass
class StepResult:
    """One step: ``outcome`` is passed, failed, error, skipped (not reached, or cancelled
    during the step) or unknown (the log cannot tell)."""

    number: int
    name: str
    outcome: str
    duration: float = 0.0
    message: str = ""


class ModelRun(Protocol):
    """What the steps are read with besides the log: a model run's facts (an
    :class:`~pytest_dai.lifecycle.execution.Execution`, which reads its steps through
    :func:`run_steps` too: named here by what it has, not by its class)."""

    @property
    def id(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def agent(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def state(self) -> RunState: ...
    @property
    def url(self) -> str: ...
    @property
    def run_id(self) -> str | None: ...
    @property
    def aborted(self) -> bool: ...
    @property
    def finished(self) -> bool: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def steps_total(self) -> int | None: ...
    @property
    def steps_done(self) -> int | None: ...
    @property
    def steps_failed(self) -> int | None: ...


@dataclass(frozen=True)
class Step:
    """One step of a run, as :attr:`Execution.steps
    <pytest_dai.lifecycle.execution.Execution.steps>` gives it: its ``number`` (1-based),
    ``name`` (the model's step name, or ``step N`` where the log names none), ``outcome``
    (passed, failed, error, skipped: not reached, or unknown: the log cannot tell), ``message``
    (why, for any outcome but passed) and ``duration`` in seconds."""

    number: int
    name: str
    outcome: str
    message: str = ""
    duration: float = 0.0


def public_steps(results: list[StepResult]) -> list[Step]:
    """The :class:`Step` of each result (its name without the number the files show)."""
    found = []
    for result in results:
        prefix = f"{result.number:03d} "
        name = result.name[len(prefix) :] if result.name.startswith(prefix) else result.name
        found.append(Step(result.number, name, result.outcome, result.message, result.duration))
    return found


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
    #: The screenshot the failing action saw (a saved file), "" when none.
    screenshot: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for a test report attribute)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSteps:
        """The inverse of :meth:`to_dict`."""
        fields = dict(data)
        fields["steps"] = [StepResult(**step) for step in fields.get("steps", [])]
        return cls(**fields)


def _reason(execution: ModelRun, interrupted: str) -> str:
    """Why steps were not reached."""
    if execution.finished:
        reason = f"not reached: the run ended as {execution.status}"
    else:
        reason = f"not reached: {interrupted or 'the run did not finish'}"
    if execution.aborted:
        reason += " (aborted by pytest-dai)"
    return reason


def _message(outcome: str, is_last: bool, execution: ModelRun, text: str, why: str) -> str:
    """What a step's testcase says beyond its outcome."""
    if outcome in ("failed", "error"):
        return text
    if outcome == "skipped":
        return f"the run ended as {execution.status} during this step" + (
            " (aborted by pytest-dai)" if execution.aborted else ""
        )
    if outcome == "unknown":
        if is_last:
            aborted = " (aborted by pytest-dai)" if execution.aborted else ""
            return f"result unknown: {why or 'the run did not finish'} during this step{aborted}"
        return (
            f"result unknown: the run log does not say which of the {execution.steps_failed} "
            "failed steps failed"
        )
    return ""


def run_steps(
    execution: ModelRun,
    logs: list[LogEntry] | None,
    *,
    nodeid: str = "",
    interrupted: str = "",
) -> RunSteps:
    """The steps of ``execution`` from its log. ``interrupted`` is why the wait stopped early
    (e.g. "the session was interrupted"), used as the reason for steps not reached."""
    steps = _steps_in_log(execution, logs or [], interrupted)
    steps += _steps_not_in_log(execution, logs, len(steps), interrupted)
    aborted = execution.aborted and not execution.finished
    return RunSteps(
        execution_id=execution.id,
        model=execution.model,
        agent=execution.agent or "no agent",
        status="Aborted" if aborted else execution.status,
        url=execution.url,
        nodeid=nodeid,
        duration=round(execution.duration or 0.0, 3),
        started_at=execution.started_at.isoformat() if execution.started_at else "",
        interrupted=interrupted,
        run_id=execution.run_id or "",
        aborted=aborted,
        steps=steps,
    )


def _steps_in_log(
    execution: ModelRun, entries: list[LogEntry], interrupted: str
) -> list[StepResult]:
    """One result per step the log names (its ``step_id`` groups), at most
    :data:`STEPS_LIMIT`."""
    groups = step_groups(entries)
    verdicts = step_verdicts(
        groups,
        execution.state,
        finished=execution.finished,
        steps_failed=execution.steps_failed,
    )
    failing = failing_entry(entries, execution.state)
    # A step lasts until the next one begins; the last one until the run's end (or its own
    # last entry while the run is going).
    ends = [group.entries[0].time for group in groups[1:]]
    if groups:
        ends.append(execution.ended_at or groups[-1].entries[-1].time)
    steps: list[StepResult] = []
    for number, (group, outcome, end) in enumerate(
        zip(groups, verdicts, ends, strict=True), start=1
    ):
        if number > STEPS_LIMIT:
            break
        begin = group.entries[0].time
        duration = (end - begin).total_seconds() if begin and end else 0.0
        is_last = number == len(groups)
        text = group.entries[-1].message
        if is_last and failing is not None:
            text = failing.message
        steps.append(
            StepResult(
                number=number,
                name=f"{number:03d} {group.name}",
                outcome=outcome,
                duration=round(max(duration, 0.0), 3),
                message=_message(outcome, is_last, execution, text, interrupted),
            )
        )
    return steps


def _steps_not_in_log(
    execution: ModelRun, logs: list[LogEntry] | None, listed: int, interrupted: str
) -> list[StepResult]:
    """The steps the run record counts beyond the ``listed`` ones from the log: done but not
    told apart (a log without step ids, or none read), then not reached."""
    total = execution.steps_total or 0
    note = ""
    if total > STEPS_LIMIT:
        # A record may claim 10^9 steps: list what is real, never one entry per claimed step.
        note = f" (the server claims {total} steps; the first {STEPS_LIMIT} are listed)"
        total = STEPS_LIMIT
    steps: list[StepResult] = []
    if not listed and total:
        # No step ids to go by (a log without them, or none could be read): the steps the
        # record counts as done cannot be told apart.
        done = total if execution.steps_done is None else min(execution.steps_done, total)
        why = "does not name its steps" if logs else "could not be read"
        for number in range(1, done + 1):
            message = f"result unknown: the run log {why}"
            steps.append(StepResult(number, f"{number:03d} step {number}", "unknown", 0.0, message))
    reason = _reason(execution, interrupted) + note
    for number in range(listed + len(steps) + 1, total + 1):
        steps.append(StepResult(number, f"{number:03d} step {number}", "skipped", 0.0, reason))
    return steps
