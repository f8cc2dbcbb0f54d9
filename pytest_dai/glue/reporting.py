"""The "DAI model runs" terminal summary, built from test reports' ``dai_*`` properties.

Built from reports (not from this process's runs), so under pytest-xdist the controller sees
every worker's runs and prints the summary once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pytest

    from pytest_dai.lifecycle.steps import RunSteps

__all__ = ["RunSummary", "SummaryCollector"]


@dataclass
class RunSummary:
    """One run as the summary shows it."""

    nodeid: str
    model: str
    agent: str
    status: str
    duration: str
    url: str
    execution_id: str
    run_id: str = ""
    failed: bool = False
    #: Started through ``dai_session`` by the test, not by its marker.
    by_hand: bool = False
    #: "model", or "test_config" (``model`` is then the configuration's name,
    #: ``execution_id`` the task instance id and ``run_id`` the result id).
    kind: str = "model"
    #: The screenshot the failing action saw (saved file), and why there is none.
    screenshot: str = ""
    warning: str = ""


class SummaryCollector:
    """Collects ``dai_*`` properties from reports; writes the terminal summary."""

    def __init__(self) -> None:
        #: execution id -> the run, in the order the runs were reported
        self.runs: dict[str, RunSummary] = {}
        #: execution id -> the run's steps
        self.steps: dict[str, RunSteps] = {}
        #: test id -> the failure evidence of a failed DAI test (``report.dai_evidence``)
        self.failures: dict[str, dict[str, object]] = {}

    def add(self, report: pytest.TestReport) -> None:
        """Take the run's latest properties from a report (setup, call or teardown), and its
        steps (they travel as the report attribute ``dai_steps``).

        Runs are keyed by execution id, not by test: a test run again in the same session
        (pytest-rerunfailures) shows each of its runs."""
        steps = getattr(report, "dai_steps", None)
        if isinstance(steps, dict):
            from pytest_dai.lifecycle.steps import RunSteps

            run_steps = RunSteps.from_dict(steps)
            self.steps[run_steps.execution_id or report.nodeid] = run_steps
        by_hand = getattr(report, "dai_runs", None)
        for run in by_hand if isinstance(by_hand, list) else []:
            if isinstance(run, dict) and _run_key(run):
                self._add(report, {str(k): str(v) for k, v in run.items()}, by_hand=True)
        props = {str(k): str(v) for k, v in report.user_properties}
        evidence = getattr(report, "dai_evidence", None)
        if isinstance(evidence, dict) and report.failed:
            self.failures[report.nodeid] = evidence
        if _run_key(props):
            self._add(report, props)
            run = self.runs[_run_key(props)]
            if isinstance(evidence, dict):
                run.warning = str(evidence.get("warning") or "")

    def _add(self, report: pytest.TestReport, props: dict[str, str], by_hand: bool = False) -> None:
        execution_id = _run_key(props)
        config = "dai_execution_id" not in props
        known = self.runs.get(execution_id)
        self.runs[execution_id] = RunSummary(
            kind="test_config" if config else "model",
            nodeid=report.nodeid,
            model=props.get("dai_test_config" if config else "dai_model", ""),
            agent=props.get("dai_agent", ""),
            status=props.get("dai_status", ""),
            duration=props.get("dai_duration", ""),
            url=props.get("dai_url", ""),
            execution_id=execution_id,
            run_id=props.get("dai_result_id" if config else "dai_run_id", ""),
            failed=report.failed or (known is not None and known.failed),
            by_hand=by_hand or (known is not None and known.by_hand),
            screenshot="" if by_hand else props.get("dai_screenshot", ""),
            warning=known.warning if known is not None else "",
        )

    def add_aborted(self, runs: list[RunSteps]) -> None:
        """Runs aborted while their test waited (the session was interrupted, so the test
        got no report): shown as ``Aborted``."""
        for run in runs:
            self.runs.setdefault(
                run.execution_id,
                RunSummary(
                    nodeid=run.nodeid,
                    model=run.model,
                    agent=run.agent,
                    status="Aborted",
                    duration=f"{run.duration:.1f}" if run.duration else "",
                    url=run.url,
                    execution_id=run.execution_id,
                    run_id=run.run_id,
                    kind=run.kind,
                ),
            )

    def add_pending_steps(self, pending: object) -> None:
        """Steps an xdist worker was still waiting on when the session was interrupted (sent
        with the worker's output); a report's steps win over these."""
        if not isinstance(pending, list) or not pending:
            return
        from pytest_dai.lifecycle.steps import RunSteps

        for data in pending:
            if isinstance(data, dict) and data.get("execution_id"):
                self.steps.setdefault(str(data["execution_id"]), RunSteps.from_dict(data))

    def lines(self, kind: str = "model") -> list[str]:
        """The summary table of the runs of ``kind``, one line a run (and, for a failed model
        run, its screenshot file or why there is none)."""
        if kind == "test_config":
            return self._config_lines()
        runs = [run for run in self.runs.values() if run.kind == "model"]
        rows = [
            (
                run.model,
                run.agent or "-",
                run.status,
                f"{run.duration}s" if run.duration else "-",
                run.url,
                run.nodeid,
            )
            for run in runs
        ]
        header = ("model", "agent", "status", "duration", "address", "test")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
        out = []
        for index, row in enumerate([header, *rows]):
            cells = [row[i].ljust(widths[i]) for i in range(5)]
            out.append("  ".join(cells) + "  " + row[5])
            run = runs[index - 1] if index else None
            if run is not None and run.screenshot:
                out.append(f"    screenshot: {run.screenshot}")
            if run is not None and run.warning:
                out.append(f"    no screenshot: {run.warning}")
        return out

    def write(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Write the "DAI model runs" section (nothing when no run happened)."""
        kinds = {run.kind for run in self.runs.values()}
        for kind, title in (
            ("model", "DAI model runs"),
            ("test_config", "DAI test configurations"),
        ):
            if kind in kinds:
                terminalreporter.write_sep("=", title)
                for line in self.lines(kind):
                    terminalreporter.write_line(line)

    def _config_lines(self) -> list[str]:
        rows = [
            (
                run.model,
                run.run_id or "-",
                run.status,
                f"{run.duration}s" if run.duration else "-",
                run.url,
                run.nodeid,
            )
            for run in self.runs.values()
            if run.kind == "test_config"
        ]
        header = ("test configuration", "result", "status", "duration", "address", "test")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
        return [
            "  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5]
            for row in [header, *rows]
        ]


def _run_key(props: Mapping[str, object]) -> str:
    """A run's key in the summary: its execution id, or a test config's task instance id."""
    return str(props.get("dai_execution_id") or props.get("dai_task_instance_id") or "")
