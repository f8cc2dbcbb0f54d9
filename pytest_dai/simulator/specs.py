"""The parts of a simulator scenario, as validated: agents, models with their steps and test
cases, test configurations (:mod:`~pytest_dai.simulator.scenario` holds the whole,
:mod:`~pytest_dai.simulator.scenario_parser` reads them from JSON)."""

from __future__ import annotations

from dataclasses import dataclass

STEP_OUTCOMES: tuple[str, ...] = ("passed", "failed", "error")
RUN_OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "cancelled")


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming the file and the field."""


@dataclass(frozen=True)
class SimStepSpec:
    """One step of a model or test case: ``duration`` is in simulated seconds."""

    name: str
    duration: float
    outcome: str = "passed"
    message: str | None = None


@dataclass(frozen=True)
class SimTestCaseSpec:
    """A directed test case of a model."""

    __test__ = False  # not a pytest test class

    id: int
    name: str
    steps: tuple[SimStepSpec, ...]
    final_status: str | None = None
    attempts: tuple[str, ...] = ()
    continue_on_failure: bool = False


@dataclass(frozen=True)
class SimModelSpec:
    """A model: its steps for an explorative run, and its test cases."""

    id: str
    name: str
    steps: tuple[SimStepSpec, ...]
    final_status: str | None = None
    attempts: tuple[str, ...] = ()
    continue_on_failure: bool = False
    test_cases: tuple[SimTestCaseSpec, ...] = ()

    def test_case(self, test_case_id: int) -> SimTestCaseSpec | None:
        """The test case with this id, or ``None``."""
        for case in self.test_cases:
            if case.id == test_case_id:
                return case
        return None


@dataclass(frozen=True)
class SimAgentSpec:
    """An agent as declared in the scenario."""

    id: str
    name: str
    hosted: bool = False
    online: bool = True
    #: With ``Faults.fault_draw`` ``"per_execution"``: runs on agents of the same stream meet the
    #: same faults at the same request count, runs on agents of different streams other ones.
    fault_stream: str = ""


@dataclass(frozen=True)
class RunRef:
    """One test case run of a config: a model id and, optionally, a test case id."""

    model_id: str
    test_case: int | None
    name: str


@dataclass(frozen=True)
class SimTestConfigSpec:
    """A test configuration as declared in the scenario."""

    __test__ = False

    id: str
    name: str
    runs: tuple[RunRef, ...]
    model: str | None = None
    suite: str | None = None
    agent: str | None = None
    result_delay: float = 0.0
    task_instance_in_results: bool = True
    accepts_options: bool = True
    task_abort: str = "supported"
    junit: bool = True
    space: str | None = None
    accepts_previous: bool = True
