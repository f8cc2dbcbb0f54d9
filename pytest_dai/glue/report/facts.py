"""Typed run facts: one :class:`RunReport` per DAI run, carried on the test's report.

Everything after the run reads it: the JUnit properties (:meth:`RunReport.properties`, the one
place facts become strings), the "DAI runs" summary, the duration history, ``--dai-rerun-failed``
and the steps file. Under pytest-xdist it crosses from worker to controller as plain data
(:meth:`RunReport.to_dict`, from the ``pytest_report_to_serializable`` hooks and the hand-over
of runs a worker was waiting on when the session was interrupted), and comes back as a
``RunReport``: no string is ever parsed back into a number or a status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, cast

import pytest

from pytest_dai.client.status import RunState
from pytest_dai.glue.base.keys import RUNS_ATTRIBUTE
from pytest_dai.glue.settings.server_options import NO_AGENT

if TYPE_CHECKING:
    from pytest_dai.lifecycle.execution import Execution
    from pytest_dai.lifecycle.session import AnyRun
    from pytest_dai.lifecycle.steps import StepResult
    from pytest_dai.lifecycle.test_config_run import TestConfigResult

__all__ = ["REPORT_ATTRIBUTE", "RunReport", "from_plain", "set_property", "to_plain"]

#: The test report attribute that carries a test's runs (a list of :class:`RunReport`).
REPORT_ATTRIBUTE = RUNS_ATTRIBUTE


#: Properties written only when the server said something for them.
_ONLY_WHEN_KNOWN = ("dai_run_id", "dai_result_id", "dai_run_type", "dai_test_case")


#: The facts of the test's marker run as last known (its steps once it ended).
RUN_REPORT_KEY: pytest.StashKey[RunReport] = pytest.StashKey()


@dataclass
class RunReport:
    """One DAI run as its test's report tells it.

    ``kind`` is ``"model"`` (``key`` the execution id, ``name`` the model, ``run_id`` DAI's
    run id) or ``"test_config"`` (``key`` the task instance id, ``name`` the configuration,
    ``run_id`` the result id, one step a test case run)."""

    kind: str
    key: str
    name: str
    nodeid: str
    #: The server's status word, as last seen.
    status: str
    state: RunState
    url: str
    run_id: str = ""
    agent: str = ""
    #: The run record's ``runtype`` and ``testcase`` where the server gives them (contract 2.7).
    run_type: str = ""
    test_case: str = ""
    #: Seconds, by the server's clock (None: not known).
    duration: float | None = None
    finished: bool = False
    #: Aborted by pytest-dai before it ended, and how the abort went (test configurations).
    aborted: bool = False
    abort_report: str = ""
    steps_total: int | None = None
    steps_failed: int | None = None
    #: With ``--dai-rerun-failed``: the failed run this one re-runs.
    rerun_of: str = ""
    #: Started through ``dai_session`` by the test, not by its marker.
    by_hand: bool = False
    started_at: str = ""
    #: Why the wait stopped before the run ended ("" when it did not).
    interrupted: str = ""
    #: The screenshot the failing action saw (a saved file), and why there is none.
    screenshot: str = ""
    warning: str = ""
    #: Why the run did not pass, in one line (``failed in step 3: ...``), "" when not known.
    reason: str = ""
    steps: list[StepResult] = field(default_factory=list)
    #: Whether the test failed (setup, call or teardown): set on the controller.
    test_failed: bool = False

    @classmethod
    def of(cls, run: AnyRun, nodeid: str, *, by_hand: bool = False) -> RunReport:
        """The facts of ``run`` as it is now."""
        from pytest_dai.lifecycle.journal import journal_key

        config = cast("TestConfigResult", run) if run.kind == "test_config" else None
        if config is not None:
            started = config.record.started_at if config.record is not None else None
            run_id = config.id
            record_of_model = None
        else:
            execution = cast("Execution", run)
            started, run_id = execution.started_at, execution.run_id
            record_of_model = execution.record
        return cls(
            kind=run.kind,
            key=journal_key(run),
            name=run.model,
            nodeid=nodeid,
            status=run.status,
            state=run.state,
            url=run.url,
            run_id=run_id or "",
            agent="" if config is not None else (run.agent or NO_AGENT),
            run_type=(record_of_model and record_of_model.run_type) or "",
            test_case=(record_of_model and record_of_model.test_case) or "",
            duration=run.duration,
            finished=run.finished,
            aborted=run.aborted,
            abort_report=config.abort_report if config is not None else "",
            steps_total=run.steps_total,
            steps_failed=run.steps_failed,
            rerun_of=config.rerun_of if config is not None else "",
            by_hand=by_hand,
            started_at=started.isoformat() if started else "",
        )

    def with_steps(self, steps: list[StepResult], interrupted: str = "") -> RunReport:
        """This report with its steps, and why the wait stopped before the run ended."""
        self.steps = list(steps)
        self.interrupted = interrupted
        return self

    # -- what people read ----------------------------------------------------------------------

    @property
    def cut_short(self) -> bool:
        """Aborted by pytest-dai before the run ended."""
        return self.aborted and not self.finished

    @property
    def passed(self) -> bool:
        """The run itself passed (whatever became of its test)."""
        return self.state is RunState.PASSED

    @property
    def status_text(self) -> str:
        """The status as the JUnit property and the summary show it."""
        return f"Aborted (last seen {self.status})" if self.cut_short else self.status

    @property
    def ended_as(self) -> str:
        """The status as the steps file shows it (``Aborted`` for a run cut short)."""
        return "Aborted" if self.cut_short else self.status

    @property
    def duration_text(self) -> str:
        """``12.3`` (seconds), or "" when not known."""
        return "" if self.duration is None else f"{self.duration:.1f}"

    def properties(self) -> list[tuple[str, str]]:
        """The product spec's ``dai_*`` JUnit properties of the run (the one place where run
        facts become strings)."""
        found = [("dai_rerun_of", self.rerun_of)] if self.rerun_of else []
        if self.kind == "test_config":
            found += [
                ("dai_test_config", self.name),
                ("dai_task_instance_id", self.key),
                ("dai_result_id", self.run_id),
            ]
        else:
            found += [
                ("dai_execution_id", self.key),
                ("dai_run_id", self.run_id),
                ("dai_model", self.name),
                ("dai_agent", self.agent),
                ("dai_run_type", self.run_type),
                ("dai_test_case", self.test_case),
            ]
        found += [
            ("dai_status", self.status_text),
            ("dai_url", self.url),
            ("dai_duration", self.duration_text),
        ]
        found = [(k, v) for k, v in found if v or k not in _ONLY_WHEN_KNOWN]
        if self.steps_total is not None:
            found += [
                ("dai_steps_total", str(self.steps_total)),
                ("dai_steps_failed", str(self.steps_failed or 0)),
            ]
        if self.aborted:
            found.append(("dai_aborted", "true"))
            if self.abort_report:
                found.append(("dai_abort", self.abort_report))
        return found

    # -- plain data, for pytest-xdist ----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the inverse of :meth:`from_dict`)."""
        data = asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """The report :meth:`to_dict` made (unknown keys ignored)."""
        from pytest_dai.lifecycle.steps import StepResult

        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["state"] = RunState(values.get("state", RunState.UNKNOWN.value))
        values["steps"] = [StepResult(**step) for step in values.get("steps", [])]
        return cls(**values)


def set_property(item: pytest.Item, name: str, value: str) -> None:
    """Set a JUnit property of the test (replacing an earlier value of the same name)."""
    item.user_properties[:] = [(k, v) for k, v in item.user_properties if k != name]
    item.user_properties.append((name, value))


def to_plain(value: object) -> object:
    """A report's ``dai_runs`` as plain data (lists of dicts) for serialisation."""
    if isinstance(value, list):
        return [run.to_dict() if isinstance(run, RunReport) else run for run in value]
    return value


def from_plain(value: object) -> list[RunReport]:
    """The inverse of :func:`to_plain` (anything else is dropped)."""
    if not isinstance(value, list):
        return []
    return [
        run if isinstance(run, RunReport) else RunReport.from_dict(run)
        for run in value
        if isinstance(run, (RunReport, dict))
    ]
