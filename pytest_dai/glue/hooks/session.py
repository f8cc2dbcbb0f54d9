"""Hooks of the whole session: reaping runs left by killed sessions at its start, the test
selection of ``--dai-rerun-failed``, and what the controller writes at its end (the steps
file, the failed runs and the duration history)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.base.keys import RERUN_OF_KEY, WORKERINPUT_TEST_MAP, worker_input
from pytest_dai.glue.hooks.setup import STATE_KEY
from pytest_dai.glue.report.summary import SUMMARY_KEY

if TYPE_CHECKING:
    from pytest_dai.glue.report.summary import SummaryCollector

__all__ = [
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_report_collectionfinish",
    "pytest_sessionfinish",
    "pytest_sessionstart",
]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Abort runs left going by earlier, killed sessions (``dai_reap_orphans``); with
    ``--dai-reap-orphans-only``, do only that and exit."""
    state = session.config.stash.get(STATE_KEY, None)
    if state is None or state.is_worker:
        return
    settings = state.settings
    if settings.list_names:  # --dai-list: that listing only (one request), nothing else
        from pytest_dai.glue.hooks.list_names import ListHooks

        session.config.pluginmanager.register(ListHooks(state, settings.list_names), "dai-list")
        return
    if not (settings.reap_orphans or settings.reap_orphans_only):
        return
    if settings.reap_orphans_only and settings.url is None:
        raise pytest.UsageError(
            "--dai-reap-orphans-only: no DAI server given (--dai-url, DAI_URL or dai_url)"
        )
    from pytest_dai.glue.process.reaping import reap_left_runs

    try:
        reaped = reap_left_runs(state)
    except DAIError as exc:
        state.reap_lines.append(f"dai: could not check for runs left by killed sessions: {exc}")
        reaped = []
    if settings.reap_orphans_only:
        from pytest_dai.glue.hooks.reap_only import ReapOnlyHooks

        session.config.pluginmanager.register(ReapOnlyHooks(state, reaped), "dai-reap-only")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Abort runs started by hand through ``dai_session`` that are still going; on the
    controller, write the steps JUnit file and remember the failed runs for a rerun.

    Last, so that under xdist the workers are down (and have left the steps of runs they
    were waiting on when the session was interrupted) before the controller writes."""
    config = session.config
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        return
    if state._session is not None:
        state._session.abort_unfinished()
    from pytest_dai.glue.xdist.handover import collect_worker_runs, hand_over_pending_runs

    if state.is_worker:
        hand_over_pending_runs(state)
        return
    collector = config.stash.get(SUMMARY_KEY, None)
    if collector is None:
        return
    handed_over = collect_worker_runs(state)
    collector.add_pending([*state.pending_runs.values(), *handed_over])
    from pytest_dai.glue.hooks.interrupted import record_in_junit, report_aborted_runs

    report_aborted_runs(config, collector)
    record_in_junit(config, handed_over, written=True)  # this process's: at the interrupt
    if collector.runs:
        from pytest_dai.glue.report.history import record_durations
        from pytest_dai.glue.report.rerun import update_failed_runs

        update_failed_runs(config, collector)
        record_durations(config, collector)
    if state.settings.junit_steps:
        _write_steps(session, state.settings.junit_steps, collector)


def _write_steps(session: pytest.Session, path: str, collector: SummaryCollector) -> None:
    """The steps file, of every run (one that cannot be written fails the session)."""
    from pytest_dai.glue.report.junit_steps import write_steps_junit

    try:
        write_steps_junit(path, collector.all_runs())
    except OSError as exc:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        line = f"dai: could not write the steps file {path}: {exc}"
        if reporter is not None:
            from pytest_dai.glue.report.terminal import fresh_line

            fresh_line(reporter)
            reporter.write_line(line, red=True)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dai-rerun-failed``: keep only the tests whose DAI run failed last time, each to
    re-run just the failed run (``rerun_id``)."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.settings.rerun_failed:
        return
    from pytest_dai.glue.report.rerun import rerun_line, select_reruns

    reruns, deselected = select_reruns(config, items)
    state.rerun_line = rerun_line(len(reruns))
    if not reruns:
        return
    for item in items:
        if item.nodeid in reruns:
            item.stash[RERUN_OF_KEY] = reruns[item.nodeid]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid in reruns]


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """After "collected N items": what ``--dai-rerun-failed`` re-runs."""
    state = config.stash.get(STATE_KEY, None)
    return [state.rerun_line] if state is not None and state.rerun_line else []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """(xdist worker) get the DAI session ready while the controller schedules; with
    ``--dai-dist=agent``, publish each marked test's agent to the controller, before xdist
    tells it the collection is finished."""
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None and state.is_worker:
        from pytest_dai.glue.xdist.warm_up import warm_up

        warm_up(state, session.items)
    if WORKERINPUT_TEST_MAP in worker_input(session.config):
        from pytest_dai.glue.xdist.agent_map import publish_test_map

        publish_test_map(session.config, session.items)
