"""The hooks behind the "DAI runs" summary: every test report's runs are collected (on the
controller under xdist, where the workers' reports arrive) and written at the end."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.base.keys import EVIDENCE_ATTRIBUTE, RUNS_ATTRIBUTE, is_worker

if TYPE_CHECKING:
    from pytest_dai.glue.report.summary import SummaryCollector

__all__ = ["SummaryHooks"]


class SummaryHooks:
    """Collects every test report's DAI runs and writes the "DAI model runs" summary."""

    def __init__(self, collector: SummaryCollector, config: pytest.Config) -> None:
        self.collector = collector
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the runs from the report; a failed run's evidence goes into the JUnit testcase
        (after pytest's own ``<failure>``)."""
        self.collector.add(report)
        if is_worker(self.config):
            return
        if getattr(report, EVIDENCE_ATTRIBUTE, None) or getattr(report, RUNS_ATTRIBUTE, None):
            from pytest_dai.glue.report.junit_xml import attach_to_junit, keep_one_failure

            attach_to_junit(self.config, report)
            keep_one_failure(self.config, report)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The "DAI model runs" summary: every run with status, duration and address, the
        screenshot of each failed run; in GitHub Actions, the job summary and annotations."""
        if is_worker(terminalreporter.config):
            return
        self.collector.write(terminalreporter)
        if os.environ.get("GITHUB_STEP_SUMMARY") or os.environ.get("GITHUB_ACTIONS") == "true":
            from pytest_dai.glue.report.github import write_github

            write_github(self.collector, terminalreporter)
