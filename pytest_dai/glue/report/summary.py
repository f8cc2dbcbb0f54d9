"""The "DAI runs" terminal summary, built from the runs the test reports carry
(:class:`~pytest_dai.glue.report.facts.RunReport`).

Built from reports (not from this process's runs), so under pytest-xdist the controller sees
every worker's runs and prints the summary once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.base.keys import EVIDENCE_ATTRIBUTE, RUNS_ATTRIBUTE
from pytest_dai.glue.report.escapers import terminal_line

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pytest_dai.glue.report.facts import RunReport

__all__ = ["SummaryCollector"]


#: The runs the reports told of, for the summary, the steps file, history and rerun.
SUMMARY_KEY: pytest.StashKey[SummaryCollector] = pytest.StashKey()


class SummaryCollector:
    """Collects the runs of the test reports; writes the terminal summary."""

    def __init__(self) -> None:
        #: run key (execution id, or task instance id) -> the run, in the order reported
        self.runs: dict[str, RunReport] = {}
        #: runs whose test got no report (the session was interrupted while it waited)
        self.pending: dict[str, RunReport] = {}
        #: test id -> the failure evidence of a failed DAI test (``report.dai_evidence``)
        self.failures: dict[str, dict[str, object]] = {}
        #: test id -> the keys of the runs of its latest call
        self._latest: dict[str, list[str]] = {}

    def add(self, report: pytest.TestReport) -> None:
        """Take the runs a report carries (``report.dai_runs``, the call's), and whether the
        test failed (in any phase: a failing teardown fails the test too).

        Runs are keyed by run, not by test: a test run again in the same session
        (pytest-rerunfailures) shows each of its runs."""
        carried = getattr(report, RUNS_ATTRIBUTE, None)
        if carried:  # (imported only then: a session without DAI runs never needs it)
            from pytest_dai.glue.report.facts import from_plain

            runs = from_plain(carried)
        else:
            runs = []
        if runs:
            self._latest[report.nodeid] = [run.key for run in runs]
        for run in runs:
            known = self.runs.get(run.key)
            run.test_failed = known is not None and known.test_failed
            self.runs[run.key] = run
        if report.failed:
            for key in self._latest.get(report.nodeid, []):
                self.runs[key].test_failed = True
        evidence = getattr(report, EVIDENCE_ATTRIBUTE, None)
        if isinstance(evidence, dict) and report.failed:
            self.failures[report.nodeid] = evidence

    def add_pending(self, runs: Iterable[RunReport]) -> None:
        """Runs whose test got no report (the session was interrupted while it waited: this
        process's, and those an xdist worker handed over); a report's run wins over these."""
        for run in runs:
            if run.key not in self.runs:
                self.pending.setdefault(run.key, run)

    def all_runs(self) -> list[RunReport]:
        """Every run: those without a report first, then the reported ones."""
        return [*self.pending.values(), *self.runs.values()]

    def shown(self, kind: str) -> list[RunReport]:
        """The runs of ``kind`` in the summary: every reported one, and those aborted while
        their test waited."""
        aborted = [run for run in self.pending.values() if run.cut_short]
        return [run for run in [*self.runs.values(), *aborted] if run.kind == kind]

    def lines(self, kind: str = "model") -> list[str]:
        """The summary table of the runs of ``kind``, one line a run (and, for a failed model
        run, its screenshot file or why there is none)."""
        runs = self.shown(kind)
        rows = [HEADERS[kind], *(_row(run) for run in runs)]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        out = []
        for index, row in enumerate(rows):
            out.append("  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5])
            run = runs[index - 1] if index else None
            if run is None or run.kind != "model" or run.by_hand:
                continue
            if run.screenshot:
                out.append(f"    screenshot: {run.screenshot}")
            if run.warning:
                out.append(f"    no screenshot: {run.warning}")
        return out

    def write(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Write the "DAI model runs" section (nothing when no run happened)."""
        for kind, title in (
            ("model", "DAI model runs"),
            ("test_config", "DAI test configurations"),
        ):
            if self.shown(kind):
                terminalreporter.write_sep("=", title)
                for line in self.lines(kind):
                    terminalreporter.write_line(terminal_line(line))


#: The summary tables' columns, by kind of run.
HEADERS = {
    "model": ("model", "agent", "status", "duration", "address", "test"),
    "test_config": ("test configuration", "result", "status", "duration", "address", "test"),
}


def _row(run: RunReport) -> tuple[str, ...]:
    """A run's cells in the summary table of its kind."""
    second = (run.agent or "-") if run.kind == "model" else (run.run_id or "-")
    duration = f"{run.duration_text}s" if run.duration_text else "-"
    return (run.name, second, run.status_text, duration, run.url, run.nodeid)
