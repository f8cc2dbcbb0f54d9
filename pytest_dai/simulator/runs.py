"""The simulator's live records of runs and agents (:class:`SimRun`, :class:`SimAgent`), what
a start asks for (:class:`StartOptions`) and how a run's steps are planned. Named ``Sim...`` so
that they are never mistaken for the client's ``Execution`` or ``Agent``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_dai.simulator.specs import SimAgentSpec, SimModelSpec, SimTestCaseSpec

__all__ = ["OUTCOME_STATUS", "PlannedStep", "SimAgent", "SimRun", "StartOptions", "plan_steps"]

OUTCOME_STATUS = {
    "passed": "Passed",
    "failed": "Failed",
    "error": "Error",
    "cancelled": "Cancelled",
}


@dataclass
class StartOptions:
    """What a start (E1) asks for; see :meth:`Engine.start`."""

    model_id: str | None = None
    agent_id: str | None = None
    test_case_id: int | None = None
    rerun_id: int | None = None
    step_pause_time: float = 0.0
    script: str | None = None


@dataclass
class PlannedStep:
    """A step of one execution; ``start`` and ``end`` are wall-clock times (inf: never)."""

    number: int
    name: str
    duration: float
    outcome: str
    message: str | None
    start: float = math.inf
    end: float = math.inf


@dataclass(eq=False)
class SimAgent:
    """An agent's live state: online or not, its current run and its FIFO queue."""

    spec: SimAgentSpec
    online: bool
    free_at: float
    current: SimRun | None = None
    queue: deque[SimRun] = field(default_factory=deque)

    @property
    def status(self) -> str:
        """``Offline``, ``Busy`` or ``Online``."""
        if not self.online:
            return "Offline"
        return "Busy" if self.current is not None else "Online"


@dataclass(eq=False)
class SimRun:
    """One execution (model run) from its start request to its end."""

    uuid: str
    number: int
    run_id: int
    model: SimModelSpec
    test_case: SimTestCaseSpec | None
    agent: SimAgent | None
    rerun_id: int | None
    attempt: int
    steps: list[PlannedStep]
    forced_status: str | None
    continue_on_failure: bool
    queued_at: float
    hidden_until: float
    cancel_after: float | None
    started_at: float | None = None
    end_at: float | None = None
    end_status: str | None = None
    end_reason: str = ""
    abort_requested_at: float | None = None
    ended_at: float | None = None
    status: str = "Queued"

    def horizon(self, now: float) -> float:
        """The latest instant whose events are visible: ``now``, or the end of the run."""
        return self.ended_at if self.ended_at is not None else now

    def steps_done(self, now: float) -> list[PlannedStep]:
        """The steps finished by ``now``."""
        horizon = self.horizon(now)
        return [step for step in self.steps if step.end <= horizon]

    def counts(self, now: float) -> tuple[int, int, int]:
        """``(steps_total, steps_done, steps_failed)`` at ``now``."""
        done = self.steps_done(now)
        failed = sum(1 for step in done if step.outcome != "passed")
        return len(self.steps), len(done), failed


def plan_steps(
    spec: SimModelSpec | SimTestCaseSpec, attempt: int, pause: float
) -> tuple[list[PlannedStep], str | None]:
    """The steps of a run of ``spec`` (each lengthened by ``pause``) and the status forced on
    its end, for its ``attempt``-th run (``attempts`` in the scenario)."""
    steps = [
        PlannedStep(
            number=index + 1,
            name=step.name,
            duration=step.duration + pause,
            outcome=step.outcome,
            message=step.message,
        )
        for index, step in enumerate(spec.steps)
    ]
    forced = OUTCOME_STATUS[spec.final_status] if spec.final_status else None
    if spec.attempts:
        outcome = spec.attempts[min(attempt, len(spec.attempts)) - 1]
        forced = "Cancelled" if outcome == "cancelled" else None
        for step in steps:
            step.outcome = "passed"
        if outcome in ("failed", "error"):
            steps[-1].outcome = outcome
    return steps, forced
