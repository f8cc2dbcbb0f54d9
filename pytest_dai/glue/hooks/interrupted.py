"""An interrupted session (Ctrl-C, SIGTERM) tells the truth about the runs it aborted.

The test that was waiting when the session was interrupted gets no pytest report, so its run
reaches neither the "DAI model runs" summary nor the JUnit XML through the usual way. Its facts
are kept (``DAIState.pending_runs``, and the xdist workers hand theirs to the controller);
from them the controller prints one line per aborted run, lists them in the summary as
``Aborted`` and adds a ``dai_aborted_run`` property to the JUnit XML (under xdist too).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pytest_dai.glue.report.run_label import run_label
from pytest_dai.glue.report.terminal import fresh_line

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pytest

    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.glue.report.summary import SummaryCollector

__all__ = [
    "InterruptHooks",
    "aborted_runs",
    "describe_aborted",
    "record_in_junit",
    "report_aborted_runs",
]

JUNIT_PROPERTY = "dai_aborted_run"

log = logging.getLogger("pytest_dai")


def aborted_runs(runs: Iterable[RunReport]) -> list[RunReport]:
    """The runs pytest-dai aborted before they ended, in the order given."""
    return [run for run in runs if run.cut_short]


def describe_aborted(run: RunReport) -> str:
    """``30834 (Long soak on agent-1)``: the run's id as the server shows it, model, agent."""
    return f"{run.run_id or run.key} ({run_label(run.kind, run.name, run.agent)})"


def report_aborted_runs(config: pytest.Config, collector: SummaryCollector) -> None:
    """One ``dai: aborted run ...`` line per aborted run whose test got no report (the
    session was interrupted while it waited); the summary shows them as ``Aborted``."""
    runs = aborted_runs(collector.pending.values())
    if not runs:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return

    fresh_line(reporter)
    for run in runs:
        reporter.write_line(f"dai: aborted run {describe_aborted(run)}", yellow=True)


def record_in_junit(
    config: pytest.Config, pending: Iterable[RunReport], *, written: bool = False
) -> None:
    """Add a ``dai_aborted_run`` property per aborted run to the JUnit XML file's test suite
    (the interrupted test has no testcase of its own). In one process, before pytest writes
    the file (from ``pytest_keyboard_interrupt``); under pytest-xdist the workers' runs are
    known only once the workers are down, after pytest wrote it (``written``): its JUnit
    writer then writes the file again, with them."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest moved it: the summary still says it
        return
    xml = config.stash.get(xml_key, None)
    runs = aborted_runs(pending)
    if xml is None or not runs:
        return
    for run in runs:
        xml.add_global_property(
            JUNIT_PROPERTY, f"{describe_aborted(run)}: Aborted, {run.nodeid} {run.url}".strip()
        )
    if written:
        try:
            xml.pytest_sessionfinish()
        except OSError as exc:  # pytest wrote it a moment ago: say so, lose nothing else
            log.warning("pytest-dai: could not add the aborted runs to %s: %s", xml.logfile, exc)


class InterruptHooks:
    """Ctrl-C or SIGTERM: the runs it aborted go into the JUnit XML file (written after this
    hook, in ``pytest_sessionfinish``)."""

    def __init__(self, state: DAIState) -> None:
        self.state = state

    def pytest_keyboard_interrupt(self) -> None:
        """Record the aborted runs of this process in the JUnit XML file's properties."""
        if self.state.pending_runs:
            record_in_junit(self.state.config, list(self.state.pending_runs.values()))
