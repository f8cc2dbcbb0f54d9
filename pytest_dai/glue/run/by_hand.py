"""Runs a test started by hand through ``dai_session`` (``start``, ``start_test_config``):
they go out with the test's report like a marker's run, steps and all, so the summary, the
steps file and the JUnit properties (with their step counts) show them."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.base.keys import EXECUTION_KEY
from pytest_dai.glue.report.facts import RunReport

if TYPE_CHECKING:
    import pytest

    from pytest_dai.lifecycle.execution import Execution
    from pytest_dai.lifecycle.session import AnyRun
    from pytest_dai.lifecycle.test_config_run import TestConfigResult

__all__ = ["report_runs_by_hand"]

#: Why a run started by hand has steps not reached when its test ended before the run did.
NOT_WAITED = "the test ended before the run did (it is aborted at the session's end)"


def report_runs_by_hand(item: pytest.Item, runs: list[AnyRun]) -> list[RunReport]:
    """The runs the test started through ``dai_session`` (every run it started but its
    marker's), with their steps. A test without a marker run also gets their ``dai_*`` JUnit
    properties, one group a run in the order they started."""
    found = [_report(run, item.nodeid) for run in runs]
    if found and EXECUTION_KEY not in item.stash:
        for run in found:
            item.user_properties.extend((name, value) for name, value in run.properties() if value)
    return found


def _report(run: AnyRun, nodeid: str) -> RunReport:
    """A run's facts and steps as its test ends (the log asked quickly: the run is not ours to
    wait for)."""
    why = "" if run.finished else NOT_WAITED
    report = RunReport.of(run, nodeid, by_hand=True)
    if run.kind == "test_config":
        from pytest_dai.lifecycle.test_config_outcome import config_steps, quick_test_results

        result = cast("TestConfigResult", run)
        quick_test_results(result)
        return report.with_steps(config_steps(result, interrupted=why), why)
    from pytest_dai.lifecycle.steps import run_steps

    execution = cast("Execution", run)
    try:
        logs = execution.logs(quick=True)
    except DAIError:
        logs = None
    return report.with_steps(run_steps(execution, logs, nodeid=nodeid, interrupted=why).steps, why)
