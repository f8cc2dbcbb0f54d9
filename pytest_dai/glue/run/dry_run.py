"""``--dai-dry-run``: the plan, as a short table after the session (no ``-rs`` needed).

Each DAI test (a ``dai_model`` or ``dai_test_config`` marker, or the ``dai_session`` fixture)
gets one row: what it would start, or why it could not (a name not found, an agent offline,
the server not usable). The rows travel on the test reports, so the table is printed once, by
the controller, under pytest-xdist too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.base.keys import is_worker
from pytest_dai.glue.markers.model import SPEC_KEY
from pytest_dai.glue.markers.test_config import CONFIG_SPEC_KEY

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["TITLE", "DryRunHooks", "plan_text"]

TITLE = "DAI dry run: nothing was started"
PREFIX = "dry run: "
READY, NOT_READY = "ready", "NOT READY"


def plan_text(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[str, str] | None:
    """(``ready`` or ``NOT READY``, what it would start or why not) of a DAI test's report;
    None for a report that says nothing about the plan (a passed setup, a teardown)."""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if reason.startswith(PREFIX):
            return READY, reason.removeprefix(PREFIX)
        return None
    if report.failed:
        if call.excinfo is not None:
            lines = str(call.excinfo.value).strip().splitlines() or [call.excinfo.typename]
            why = lines[0]
        else:
            why = report.longreprtext.strip().splitlines()[-1:][0] if report.longreprtext else ""
        why = re.sub(r"^(\w+(Error|Exception): )?(@pytest\.mark\.\w+ on \S+: )?", "", why)
        return NOT_READY, why.removeprefix(PREFIX)
    return None


class DryRunHooks:
    """Marks the reports of DAI tests (on the process that runs them) and writes the table
    (on the controller)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rows: dict[str, tuple[str, str]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """A DAI test's report carries its row (``dai_dry_run``), also across xdist."""
        report = yield
        if (
            SPEC_KEY in item.stash
            or CONFIG_SPEC_KEY in item.stash
            or item.get_closest_marker("dai_model") is not None
            or item.get_closest_marker("dai_test_config") is not None
            or "dai_session" in getattr(item, "fixturenames", ())
        ):
            found = plan_text(report, call)
            if found is not None:
                report.dai_dry_run = list(found)  # type: ignore[attr-defined]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the test's row: its plan, or why it is not ready (the first problem wins)."""
        found = getattr(report, "dai_dry_run", None)
        if not isinstance(found, (list, tuple)) or len(found) != 2:
            return
        if self.rows.get(report.nodeid, (READY,))[0] == READY:
            self.rows[report.nodeid] = (str(found[0]), str(found[1]))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The table: one row per DAI test, then the counts."""
        if is_worker(self.config) or not self.rows:
            return
        terminalreporter.write_sep("=", TITLE)
        rows = [("test", "check", "plan")] + [
            (nodeid, state, text) for nodeid, (state, text) in self.rows.items()
        ]
        width = [max(len(row[i]) for row in rows) for i in range(2)]
        for nodeid, state, text in rows:
            line = f"{nodeid.ljust(width[0])}  {state.ljust(width[1])}  {text}".rstrip()
            terminalreporter.write_line(line, red=state == NOT_READY)
        ready = sum(1 for state, _ in self.rows.values() if state == READY)
        missing = len(self.rows) - ready
        terminalreporter.write_line(f"{ready} ready, {missing} not ready")
