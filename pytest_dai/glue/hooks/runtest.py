"""Hooks around each test: the DAI run of a marked test starts in ``pytest_runtest_call``
(after every fixture), and its report carries the run's facts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.base.keys import (
    CALL_START_KEY,
    EXECUTION_KEY,
    IN_SUBTESTS_KEY,
    PROTOCOL_START_KEY,
    RUNS_ATTRIBUTE,
)
from pytest_dai.glue.base.user_hooks import from_user_hook
from pytest_dai.glue.hooks.setup import STATE_KEY
from pytest_dai.glue.markers.model import SPEC_KEY
from pytest_dai.glue.markers.test_config import CONFIG_SPEC_KEY
from pytest_dai.glue.report.evidence import EVIDENCE_KEY
from pytest_dai.glue.report.facts import RUN_REPORT_KEY
from pytest_dai.glue.report.redaction import redact_report

if TYPE_CHECKING:
    from collections.abc import Generator

    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.lifecycle.execution import Execution

__all__ = [
    "pytest_dai_map_outcome",
    "pytest_report_from_serializable",
    "pytest_report_to_serializable",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, object]:
    """Know which test is running (runs started by hand are journalled under it) and when
    its setup began (a run's deadline ends before pytest-timeout's)."""
    item.stash[PROTOCOL_START_KEY] = time.monotonic()
    if RUN_REPORT_KEY in item.stash:  # a test run again (pytest-rerunfailures): a new run
        del item.stash[RUN_REPORT_KEY]
    state = item.config.stash.get(STATE_KEY, None)
    if state is not None:
        state.current_nodeid = item.nodeid
    try:
        return (yield)
    finally:
        if state is not None:
            state.current_nodeid = ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """For a ``dai_model`` (or ``dai_test_config``) test: start the run, wait for it, then
    run the test body."""
    __tracebackhide__ = from_user_hook
    item.stash[CALL_START_KEY] = time.monotonic()
    try:
        config_spec = item.stash.get(CONFIG_SPEC_KEY, None)
        spec = item.stash.get(SPEC_KEY, None)
        marked = spec is not None or config_spec is not None
        if marked or "dai_session" in getattr(item, "fixturenames", ()):
            from pytest_dai.glue.process.failfast import check_server_once

            check_server_once(item.config.stash[STATE_KEY])
        if config_spec is not None:
            from pytest_dai.glue.run.test_config import run_test_config_test

            result = run_test_config_test(item, item.config.stash[STATE_KEY], config_spec)
            if "dai_result" in getattr(item, "funcargs", {}):
                item.funcargs["dai_result"] = result  # type: ignore[attr-defined]
        if spec is not None:
            from pytest_dai.glue.run.runner import run_marked_test

            execution = run_marked_test(item, item.config.stash[STATE_KEY], spec)
            if "dai_execution" in getattr(item, "funcargs", {}):
                item.funcargs["dai_execution"] = execution  # type: ignore[attr-defined]
        return (yield)
    except DAIError as exc:
        from pytest_dai.lifecycle.outcome import DAIDryRun

        if isinstance(exc, DAIDryRun):  # from the marker or from a run started by hand
            from pytest_dai.glue.run.runner import skip

            skip(str(exc))
        state = item.config.stash.get(STATE_KEY, None)
        from pytest_dai.glue.process.failfast import is_server_wide, note_fault

        if state is not None and is_server_wide(exc):
            raise note_fault(state, item.nodeid, exc) from None
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failure from pytest-dai reads as its message, not as a traceback of the plugin; the
    call's report carries the test's runs (``report.dai_runs``: a :class:`RunReport` each, the
    marker's and those started by hand, steps and all)."""
    report = yield
    state = item.config.stash.get(STATE_KEY, None)
    if item.stash.get(IN_SUBTESTS_KEY, False):  # a subtest's report (a test case run)
        if state is not None:
            redact_report(report)
        return report
    excinfo = call.excinfo
    if call.when == "call" and state is not None:
        runs = _runs_of(item, state)
        if runs:
            if excinfo is not None:
                from pytest_dai.glue.report.failure_reason import note_reason

                note_reason(runs, excinfo.value)
            setattr(report, RUNS_ATTRIBUTE, runs)
    if report.failed and excinfo is not None and isinstance(excinfo.value, DAIError):
        report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
    dai_test = (
        SPEC_KEY in item.stash
        or CONFIG_SPEC_KEY in item.stash
        or EVIDENCE_KEY in item.stash
        or hasattr(report, RUNS_ATTRIBUTE)
    )
    if call.when == "call" and dai_test:
        from pytest_dai.glue.run.evidence import annotate_report

        annotate_report(item, report, excinfo.value if excinfo is not None else None)
    if state is not None:
        redact_report(report)
    return report


def _runs_of(item: pytest.Item, state: DAIState) -> list[RunReport]:
    """The runs the test's call report carries: its marker's (with the failure evidence's
    screenshot), then those it started by hand."""
    runs = []
    marker_run = item.stash.get(RUN_REPORT_KEY, None)
    if marker_run is not None:
        state.pending_runs.pop(marker_run.key, None)
        evidence = item.stash.get(EVIDENCE_KEY, None)
        # A test configuration's screenshots are its failed test cases' (JUnit properties).
        if evidence is not None and marker_run.kind == "model":
            marker_run.screenshot, marker_run.warning = evidence.screenshot, evidence.warning
        runs.append(marker_run)
    marker = item.stash.get(EXECUTION_KEY, None)
    by_hand = [run for run in state.runs_started.pop(item.nodeid, []) if run is not marker]
    if by_hand:  # (imported only then: a marked test's report is made close to its timeout)
        from pytest_dai.glue.run.by_hand import report_runs_by_hand

        runs.extend(report_runs_by_hand(item, by_hand))
    return runs


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    report: pytest.CollectReport | pytest.TestReport,
) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
    """The report's runs as plain data (pytest-xdist sends the report to the controller)."""
    data = yield
    if data is not None and RUNS_ATTRIBUTE in data:
        from pytest_dai.glue.report.facts import to_plain

        data[RUNS_ATTRIBUTE] = to_plain(data[RUNS_ATTRIBUTE])
    return data


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(
    data: dict[str, Any],
) -> Generator[None, object, object]:
    """The report's runs back as :class:`RunReport` (on the xdist controller)."""
    report = yield
    if isinstance(report, pytest.TestReport) and hasattr(report, RUNS_ATTRIBUTE):
        from pytest_dai.glue.report.facts import from_plain

        setattr(report, RUNS_ATTRIBUTE, from_plain(getattr(report, RUNS_ATTRIBUTE)))
    return report


@pytest.hookimpl(trylast=True)
def pytest_dai_map_outcome(item: pytest.Item, execution: Execution) -> str | BaseException:
    """The default outcome mapping (see the product's outcome table)."""
    from pytest_dai.glue.run.runner import default_map_outcome

    return default_map_outcome(item, execution)
