"""Hooks around each test: the DAI run of a marked test starts in ``pytest_runtest_call``
(after every fixture), and its report carries the run's facts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.keys import (
    CALL_START_KEY,
    CONFIG_SPEC_KEY,
    EVIDENCE_KEY,
    PROTOCOL_START_KEY,
    SPEC_KEY,
    STATE_KEY,
    STEPS_KEY,
)
from pytest_dai.glue.redaction import redact_report

if TYPE_CHECKING:
    from collections.abc import Generator

    from pytest_dai.lifecycle.execution import Execution

__all__ = [
    "pytest_dai_map_outcome",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, object]:
    """Know which test is running (runs started by hand are journalled under it) and when
    its setup began (a run's deadline ends before pytest-timeout's)."""
    item.stash[PROTOCOL_START_KEY] = time.monotonic()
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
    item.stash[CALL_START_KEY] = time.monotonic()
    try:
        config_spec = item.stash.get(CONFIG_SPEC_KEY, None)
        spec = item.stash.get(SPEC_KEY, None)
        marked = spec is not None or config_spec is not None
        if marked or "dai_session" in getattr(item, "fixturenames", ()):
            from pytest_dai.glue.failfast import check_server_once

            check_server_once(item.config.stash[STATE_KEY])
        if config_spec is not None:
            from pytest_dai.glue.test_config_runner import run_test_config_test

            result = run_test_config_test(item, item.config.stash[STATE_KEY], config_spec)
            if "dai_result" in getattr(item, "funcargs", {}):
                item.funcargs["dai_result"] = result  # type: ignore[attr-defined]
        if spec is not None:
            from pytest_dai.glue.runner import run_marked_test

            execution = run_marked_test(item, item.config.stash[STATE_KEY], spec)
            if "dai_execution" in getattr(item, "funcargs", {}):
                item.funcargs["dai_execution"] = execution  # type: ignore[attr-defined]
        return (yield)
    except DAIError as exc:
        from pytest_dai.lifecycle.outcome import DAIDryRun

        if isinstance(exc, DAIDryRun):  # from the marker or from a run started by hand
            from pytest_dai.glue.runner import skip

            skip(str(exc))
        state = item.config.stash.get(STATE_KEY, None)
        from pytest_dai.glue.failfast import is_server_wide, note_fault

        if state is not None and is_server_wide(exc):
            raise note_fault(state, item.nodeid, exc) from None
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failure from pytest-dai reads as its message, not as a traceback of the plugin; the
    report carries the run's steps and the runs the test started by hand."""
    report = yield
    state = item.config.stash.get(STATE_KEY, None)
    steps = item.stash.get(STEPS_KEY, None)
    if steps is not None and call.when == "call":
        report.dai_steps = steps.to_dict()  # type: ignore[attr-defined]
        if state is not None:
            state.pending_steps.pop(steps.execution_id, None)
    if state is not None and call.when == "call" and item.nodeid in state.runs_started:
        from pytest_dai.glue.runner import report_runs_by_hand

        by_hand = report_runs_by_hand(item, state)
        if by_hand:
            report.dai_runs = by_hand  # type: ignore[attr-defined]
    excinfo = call.excinfo
    if report.failed and excinfo is not None and isinstance(excinfo.value, DAIError):
        report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
    dai_test = (
        SPEC_KEY in item.stash
        or CONFIG_SPEC_KEY in item.stash
        or EVIDENCE_KEY in item.stash
        or hasattr(report, "dai_runs")
    )
    if call.when == "call" and dai_test:
        from pytest_dai.glue.evidence_hooks import annotate_report

        annotate_report(item, report)
    if state is not None:
        redact_report(report)
    return report


@pytest.hookimpl(trylast=True)
def pytest_dai_map_outcome(item: pytest.Item, execution: Execution) -> str | BaseException:
    """The default outcome mapping (see the product's outcome table)."""
    from pytest_dai.glue.runner import default_map_outcome

    return default_map_outcome(item, execution)
