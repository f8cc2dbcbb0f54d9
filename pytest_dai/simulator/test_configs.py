"""Test configurations in the DAI simulator (contract section 2.6): the scenario's
``test_configs``, their runs, and the routes E7 to E11, E13, E14 and the task-instance abort.

A test configuration lists test case runs (a model, or one of its test cases). Starting one
(E7) queues each as an ordinary model execution of the engine, on the config's agent (one
after another) or on agents the server picks, so aborts, faults, queueing and logs behave as
for model runs. The result (E8) is derived from those executions: queued while all are
queued, running until all have ended, then Cancelled, Error, Failed or Passed (the worst).

Scenario schema (``"test_configs"``, optional)::

    {"id": "tc-nightly", "name": "Nightly shop",
     "model": "Shop checkout",           // optional: the model name it is listed under
     "suite": "Suites/Shop.suite",       // optional: the suite name (script-based configs)
     "agent": "agent-1",                 // optional: run every test case there, in order
     "runs": [{"model": "Shop checkout"}, {"model": "User login", "test_case": 12}],
     "result_delay": 0,                  // real seconds before the result shows in E8
     "task_instance_in_results": true,   // false: E8 records carry no task_instance_id
     "accepts_options": true,            // false: E7 with a body answers 422
     "task_abort": "supported",          // "404" or "405": no task-instance abort
     "junit": true,                      // false: E13 answers 404
     "space": "Shared space",            // optional: the space it is in (E14 space_name)
     "accepts_previous": true}           // false: E7 naming a previous task instance: 422
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.runs import StartOptions

if TYPE_CHECKING:
    from pytest_dai.simulator.engine import Engine
    from pytest_dai.simulator.faults import Faults
    from pytest_dai.simulator.runs import SimRun
    from pytest_dai.simulator.specs import RunRef, SimTestConfigSpec

__all__ = [
    "SEVERITY",
    "TestConfigRun",
    "TestConfigState",
]

SEVERITY = {"Cancelled": 4, "Error": 3, "Failed": 2, "Passed": 1}


@dataclass(eq=False)
class TestConfigRun:
    """One start (E7) of a test configuration and its result."""

    __test__ = False

    spec: SimTestConfigSpec
    task_instance_id: str
    result_id: int
    created_at: float
    visible_at: float
    executions: list[tuple[RunRef, SimRun]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    abort_requested: bool = False

    def status(self) -> str:
        """The canonical status word, from the executions."""
        statuses = [execution.status for _, execution in self.executions]
        if not statuses:
            return "Passed"
        if all(execution.ended_at is not None for _, execution in self.executions):
            return max(statuses, key=lambda word: SEVERITY.get(word, 3))
        if all(word == "Queued" for word in statuses):
            return "Queued"
        return "Running"

    def times(self) -> tuple[float | None, float | None]:
        """(start, end): the first execution's start, the last one's end once all ended."""
        starts = [ex.started_at for _, ex in self.executions if ex.started_at is not None]
        ends = [ex.ended_at for _, ex in self.executions]
        start = min(starts) if starts else (self.created_at if not self.executions else None)
        if not self.executions:
            return start, self.created_at
        end = max(e for e in ends if e is not None) if all(e is not None for e in ends) else None
        return start, end


class TestConfigState:
    """The simulator's test-config runs (guarded by the engine's lock)."""

    __test__ = False

    def __init__(self, configs: tuple[SimTestConfigSpec, ...]) -> None:
        self.configs = configs
        self.runs: list[TestConfigRun] = []
        self._next_result = 9001

    def config(self, key: str) -> SimTestConfigSpec | None:
        """The config with this id (or, failing that, this name)."""
        return next((c for c in self.configs if c.id == key), None) or next(
            (c for c in self.configs if c.name == key), None
        )

    def start(
        self, engine: Engine, spec: SimTestConfigSpec, body: dict[str, Any] | None, faults: Faults
    ) -> TestConfigRun:
        """Queue every (filtered) test case run of ``spec`` on the engine."""
        now = time.time()
        grace = faults.no_record_grace
        run = TestConfigRun(
            spec=spec,
            task_instance_id=str(uuid.uuid4()),
            result_id=self._next_result,
            created_at=now,
            visible_at=now + spec.result_delay + grace,
            body=body,
        )
        self._next_result += 1
        for ref in self._selected(spec, body):
            options = StartOptions(
                model_id=ref.model_id, agent_id=spec.agent, test_case_id=ref.test_case
            )
            execution = engine.start(options=options, faults=faults, now=now)
            run.executions.append((ref, execution))
        self.runs.append(run)
        return run

    def _selected(self, spec: SimTestConfigSpec, body: dict[str, Any] | None) -> list[RunRef]:
        """The runs a start's filters keep (``step_status_include`` looks at the config's
        previous result, as a re-run of the failed steps does)."""
        filters = (body or {}).get("filters") or {}
        chosen = list(spec.runs)
        include = {str(w).casefold() for w in filters.get("step_status_include") or []}
        if include:
            # The previous task instance named (contract 2.7), else the config's last run.
            named = self.find(str((body or {}).get("previous_task_instance_id") or ""))
            previous = named if named is not None and named.spec is spec else None
            previous = previous or next((r for r in reversed(self.runs) if r.spec is spec), None)
            if previous is not None:
                last = {ref.name: ex.status.casefold() for ref, ex in previous.executions}
                chosen = [ref for ref in chosen if last.get(ref.name) in include]
        names_in = set(filters.get("test_case_name_include") or [])
        names_out = set(filters.get("test_case_name_exclude") or [])
        if names_in:
            chosen = [ref for ref in chosen if ref.name in names_in]
        return [ref for ref in chosen if ref.name not in names_out]

    def find(self, task_instance_id: str) -> TestConfigRun | None:
        """The run started as ``task_instance_id``."""
        return next((r for r in self.runs if r.task_instance_id == task_instance_id), None)

    def by_result(self, result_id: str) -> TestConfigRun | None:
        """The run whose result id is ``result_id``."""
        return next((r for r in self.runs if str(r.result_id) == result_id), None)

    def by_test_result(self, test_result_id: str) -> SimRun | None:
        """The execution behind a test result id (its run id)."""
        for run in self.runs:
            for _, execution in run.executions:
                if str(execution.run_id) == test_result_id:
                    return execution
        return None
