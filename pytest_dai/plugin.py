"""pytest entry point of pytest-dai (registered as ``dai`` in the ``pytest11`` group).

This module stays cheap to import: it does not import ``requests``, the client or the simulator.
Those are imported the first time a DAI test, fixture or option needs them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue import hookspecs
from pytest_dai.glue.fixtures import (
    _dai_model_marker,
    _dai_simulator_reset,
    dai_execution,
    dai_result,
    dai_session,
    dai_simulator,
)
from pytest_dai.glue.interrupted import InterruptHooks
from pytest_dai.glue.keys import (
    CALL_START_KEY,
    CONFIG_SPEC_KEY,
    EVIDENCE_KEY,
    PROTOCOL_START_KEY,
    RERUN_OF_KEY,
    SPEC_KEY,
    STEPS_KEY,
)
from pytest_dai.glue.options import SETTINGS_KEY, add_options, resolve_settings
from pytest_dai.glue.redaction import RedactionHooks, redact_report
from pytest_dai.glue.reporting import SummaryCollector
from pytest_dai.glue.state import (
    STATE_KEY,
    WORKERINPUT_JOURNAL,
    WORKERINPUT_SIMULATOR,
    WORKERINPUT_STEPS,
    DAIState,
)

WORKERINPUT_TEST_MAP = "dai_test_map_dir"  # glue.agent_map's, without importing it

if TYPE_CHECKING:
    from collections.abc import Generator
    from types import FrameType

    from pytest_dai.glue.options import Settings
    from pytest_dai.lifecycle.execution import Execution

__all__ = [
    "_dai_model_marker",
    "_dai_simulator_reset",
    "dai_execution",
    "dai_result",
    "dai_session",
    "dai_simulator",
]

CONFIG_MARKER_HELP = (
    "dai_test_config(config, *, model=None, suite=None, parameters=None, filter_by=None, "
    "timeout=None): start an Eggplant DAI test configuration after the test's fixtures, wait "
    "for it, and pass only if its result passed"
)
MARKER_HELP = (
    "dai_test_config(config, *, model=None, suite=None, parameters=None, filter_by=None, "
    "timeout=None): start an Eggplant DAI test configuration after the test's fixtures, wait "
    "for it, and pass only if its result passed"
)
MARKER_HELP = (
    "dai_model(model, *, agent=None, test_case=None, sut=None, sut_criteria=None, rerun=None, "
    "step_pause_time=None, timeout=None, min_steps=None): start an Eggplant DAI model run "
    "after the test's fixtures, wait for it, and pass or fail with it"
)

SUMMARY_KEY = pytest.StashKey[SummaryCollector]()
SIGTERM_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``dai`` option group and the ``dai_*`` ini keys."""
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add pytest-dai's hookspecs (``pytest_dai_*``)."""
    pluginmanager.add_hookspecs(hookspecs.DAIHookSpecs)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Resolve the settings once (a bad value is a ``pytest.UsageError`` naming its source),
    register the marker, start ``--dai-simulator`` and the SIGTERM handler."""
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", CONFIG_MARKER_HELP)
    if config.getoption("help", False) or config.getoption("version", False):
        return  # --help must work even when a DAI_* variable is bad: that is how to fix it
    settings = resolve_settings(config)
    state = DAIState(config, settings)
    state.start_simulator()
    config.stash[SETTINGS_KEY] = state.settings
    config.stash[STATE_KEY] = state
    collector = SummaryCollector()
    config.stash[SUMMARY_KEY] = collector
    config.pluginmanager.register(SummaryHooks(collector, config), "dai-summary")
    config.pluginmanager.register(InterruptHooks(state), "dai-interrupt")
    config.pluginmanager.register(RedactionHooks(config), "dai-redaction")
    if state.settings.dry_run:
        from pytest_dai.glue.dry_run import DryRunHooks

        config.pluginmanager.register(DryRunHooks(config), "dai-dry-run")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistHooks(state), "dai-xdist")
        if state.settings.dist == "agent":
            from pytest_dai.glue.scheduler import AgentDistPlugin

            config.pluginmanager.register(AgentDistPlugin(config), "dai-dist")
    if state.settings.handle_sigterm:
        _install_sigterm(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Abort what is still going, stop the simulator, restore the SIGTERM handler."""
    state = config.stash.get(STATE_KEY, None)
    try:
        if state is not None:
            state.close()
    finally:
        previous = config.stash.get(SIGTERM_KEY, None)
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


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
    if state.is_worker:
        state.hand_over_pending_steps()
        return
    collector = config.stash.get(SUMMARY_KEY, None)
    if collector is None:
        return
    collector.add_pending_steps(state.collect_worker_steps())
    from pytest_dai.glue.interrupted import report_aborted_runs

    report_aborted_runs(
        config, collector, [*state.pending_steps.values(), *collector.steps.values()]
    )
    if collector.runs:
        from pytest_dai.glue.history import record_durations
        from pytest_dai.glue.rerun import update_failed_runs

        update_failed_runs(config, collector)
        record_durations(config, collector)
    if state.settings.junit_steps:
        from pytest_dai.glue.junit_steps import write_steps_junit

        runs = {**state.pending_steps, **collector.steps}
        try:
            write_steps_junit(state.settings.junit_steps, list(runs.values()))
        except OSError as exc:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            line = f"dai: could not write the steps file {state.settings.junit_steps}: {exc}"
            if reporter is not None:
                reporter.ensure_newline()
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
    from pytest_dai.glue.rerun import select_reruns

    reruns, deselected = select_reruns(config, items)
    if not reruns:
        return
    for item in items:
        if item.nodeid in reruns:
            item.stash[RERUN_OF_KEY] = reruns[item.nodeid]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid in reruns]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """(xdist worker, ``--dai-dist=agent``) publish each marked test's agent to the
    controller, before xdist tells it the collection is finished."""
    if WORKERINPUT_TEST_MAP in getattr(session.config, "workerinput", {}):
        from pytest_dai.glue.agent_map import publish_test_map

        publish_test_map(session.config, session.items)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show every effective DAI setting and where it came from, secrets masked; runs aborted
    for killed sessions; a warning when pytest-timeout's thread method is in use."""
    settings = config.stash.get(SETTINGS_KEY, None)
    state = config.stash.get(STATE_KEY, None)
    lines: list[str] = []
    if settings is not None:
        from pytest_dai.glue.header import header_lines

        lines = header_lines(config, settings)
        if settings.dist == "agent":
            lines.extend(dist_header_lines(config, settings))
    if state is not None:
        lines.extend(state.reap_lines)
    if state is not None and config.pluginmanager.hasplugin("timeout"):
        from pytest_dai.glue.timeouts import TIMEOUT_MARGIN, timeout_method

        if timeout_method(config) == "thread":
            lines.append(
                "dai: pytest-timeout's thread method ends the whole process on a timeout: each "
                f"DAI run gets its own deadline {TIMEOUT_MARGIN:g} s (at most a quarter of the "
                "timeout) before pytest-timeout's, and runs left by a killed process are "
                "aborted by the next session"
            )
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Abort runs left going by earlier, killed sessions (``dai_reap_orphans``); with
    ``--dai-reap-orphans-only``, do only that and exit."""
    state = session.config.stash.get(STATE_KEY, None)
    if state is None or state.is_worker:
        return
    settings = state.settings
    if not (settings.reap_orphans or settings.reap_orphans_only):
        return
    if settings.reap_orphans_only and settings.url is None:
        raise pytest.UsageError(
            "--dai-reap-orphans-only: no DAI server given (--dai-url, DAI_URL or dai_url)"
        )
    try:
        reaped = state.reap_orphans()
    except DAIError as exc:
        state.reap_lines.append(f"dai: could not check for runs left by killed sessions: {exc}")
        reaped = []
    if settings.reap_orphans_only:
        from pytest_dai.glue.reap_only import ReapOnlyHooks

        session.config.pluginmanager.register(ReapOnlyHooks(state, reaped), "dai-reap-only")


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


class SummaryHooks:
    """Collects every test report's ``dai_*`` properties and steps (on the controller under
    xdist, where the workers' reports arrive) and writes the "DAI model runs" summary."""

    def __init__(self, collector: SummaryCollector, config: pytest.Config) -> None:
        self.collector = collector
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the run's properties and steps from the report; a failed run's evidence goes
        into the JUnit testcase (after pytest's own ``<failure>``)."""
        self.collector.add(report)
        if getattr(report, "dai_evidence", None) and not hasattr(self.config, "workerinput"):
            from pytest_dai.glue.evidence_hooks import attach_to_junit

            attach_to_junit(self.config, report)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The "DAI model runs" summary: every run with status, duration and address, the
        screenshot of each failed run; in GitHub Actions, the job summary and annotations."""
        if hasattr(terminalreporter.config, "workerinput"):
            return
        self.collector.write(terminalreporter)
        if os.environ.get("GITHUB_STEP_SUMMARY") or os.environ.get("GITHUB_ACTIONS") == "true":
            from pytest_dai.glue.github import write_github

            write_github(self.collector, terminalreporter)


class XdistHooks:
    """pytest-xdist hooks, registered only when xdist is present (controller side)."""

    def __init__(self, state: DAIState) -> None:
        self.state = state

    def pytest_configure_node(self, node: Any) -> None:
        """Hand the controller's simulator and journal folder to each worker; take its
        progress news (:mod:`pytest_dai.glue.progress`)."""
        info = self.state.simulator_info()
        if info is not None:
            node.workerinput[WORKERINPUT_SIMULATOR] = info
        node.workerinput[WORKERINPUT_JOURNAL] = str(self.state.journal.directory)
        node.workerinput[WORKERINPUT_STEPS] = str(self.state.worker_steps_dir())
        from pytest_dai.glue.progress import relay_progress

        relay_progress(self.state.config, node)

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        """A worker went down: abort the runs it left going (if it crashed or was killed).

        The controller can hear of a killed worker before its process has finished exiting
        (still alive to ``kill(pid, 0)``), so that worker's runs are aborted whether or not
        its process still looks alive."""
        if error is None or not self.state.settings.reap_orphans:
            return
        pid = self._worker_pid(node)
        before = len(self.state.reap_lines)
        try:
            reaped = self.state.reap_orphans(gone=() if pid is None else (pid,))
        except DAIError as exc:
            reaped = []
            self.state.reap_lines.append(f"dai: could not abort runs of a crashed worker: {exc}")
        reporter = self.state.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        if reaped:
            worker = getattr(getattr(node, "gateway", None), "id", node)
            reporter.write_line(
                f"dai: worker {worker} went down; aborted "
                + "; ".join(entry.describe() for entry in reaped)
            )
        # The report header is written already: show failures to abort now.
        for line in self.state.reap_lines[before:]:
            if line.startswith("dai: could not"):
                reporter.write_line(line)

    @staticmethod
    def _worker_pid(node: Any) -> int | None:
        """The worker's process id, from execnet's remote info that xdist caches when the
        worker starts; None when unknown."""
        info = getattr(getattr(node, "gateway", None), "_cache_rinfo", None)
        pid = getattr(info, "pid", None)
        return pid if isinstance(pid, int) else None


def dist_header_lines(config: pytest.Config, settings: Settings) -> list[str]:
    """Header lines about ``--dai-dist=agent``: without xdist it does nothing; the old
    ``dai_xdist_group_by_agent`` is an alias."""
    lines = []
    if not config.pluginmanager.hasplugin("xdist"):
        lines.append("dai: dai_dist = agent needs pytest-xdist (pip install pytest-xdist); ignored")
    if settings.xdist_group_by_agent and settings.source("dist") == settings.source(
        "xdist_group_by_agent"
    ):
        lines.append(
            "dai: dai_xdist_group_by_agent is deprecated: it now selects dai_dist = agent "
            "(xdist's --dist loadgroup is not needed); write dai_dist = agent instead"
        )
    return lines


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _install_sigterm(config: pytest.Config) -> None:
    """SIGTERM acts like Ctrl-C (runs are aborted, reports written), if nobody else handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    config.stash[SIGTERM_KEY] = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
