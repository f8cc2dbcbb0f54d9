"""Starting pytest-dai for a session: resolve the settings, start ``--dai-simulator``, register
the hooks of the session and of each test and the helper plugins, and make SIGTERM act like
Ctrl-C. Imported only when a session starts pytest-dai (see :mod:`pytest_dai.glue.hooks.setup`):
a session that does not use it never loads this module.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING

from pytest_dai.glue.base.keys import SIGTERM_KEY, is_worker
from pytest_dai.glue.hooks.setup import STATE_KEY
from pytest_dai.glue.report.summary import SUMMARY_KEY

if TYPE_CHECKING:
    from types import FrameType

    import pytest

    from pytest_dai.glue.process.state import DAIState

__all__ = ["plugin_state", "restore_sigterm", "start_plugin"]


def plugin_state(config: pytest.Config) -> DAIState:
    """The session's :class:`~pytest_dai.glue.process.state.DAIState`, started now if the
    plugin was dormant."""
    state = config.stash.get(STATE_KEY, None)
    return start_plugin(config) if state is None else state


def start_plugin(config: pytest.Config) -> DAIState:
    """Resolve the settings (a bad value is a ``pytest.UsageError`` naming its source), start
    ``--dai-simulator``, register the helper plugins and the SIGTERM handler."""
    # Imported by their full names: ``from pytest_dai.glue import ...`` would take a module
    # left as an attribute of the package by an earlier in-process session (pytester), whose
    # classes (DAIError...) are not this session's.
    import pytest_dai.glue.hooks.runtest as runtest_hooks
    import pytest_dai.glue.hooks.session as session_hooks
    from pytest_dai.glue.hooks.interrupted import InterruptHooks
    from pytest_dai.glue.hooks.summary import SummaryHooks
    from pytest_dai.glue.markers.check import MarkerCheck
    from pytest_dai.glue.process.simulator import start_simulator
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.glue.report.redaction import RedactionHooks
    from pytest_dai.glue.report.summary import SummaryCollector
    from pytest_dai.glue.settings.resolve import resolve_settings

    state = DAIState(config, resolve_settings(config))
    start_simulator(state)
    config.stash[STATE_KEY] = state
    manager = config.pluginmanager
    manager.register(session_hooks, "dai-session")
    manager.register(runtest_hooks, "dai-runtest")
    manager.register(MarkerCheck(), "dai-markers")
    collector = SummaryCollector()
    config.stash[SUMMARY_KEY] = collector
    manager.register(SummaryHooks(collector, config), "dai-summary")
    manager.register(InterruptHooks(state), "dai-interrupt")
    manager.register(RedactionHooks(config), "dai-redaction")
    if state.settings.dry_run:
        from pytest_dai.glue.run.dry_run import DryRunHooks

        manager.register(DryRunHooks(config), "dai-dry-run")
    if state.settings.prestart and not state.settings.dry_run:
        from pytest_dai.glue.hooks.prestart import PrestartHooks

        manager.register(PrestartHooks(state), "dai-prestart")
    if manager.hasplugin("xdist") and not is_worker(config):
        from pytest_dai.glue.xdist.hooks import XdistHooks

        manager.register(XdistHooks(state), "dai-xdist")
        if state.settings.dist == "agent":
            from pytest_dai.glue.xdist.scheduler import AgentDistPlugin

            manager.register(AgentDistPlugin(config), "dai-dist")
    if state.settings.handle_sigterm:
        _install_sigterm(config)
    _clean_earlier_evidence(config, state)
    return state


def _clean_earlier_evidence(config: pytest.Config, state: DAIState) -> None:
    """(Controller, a session that may write evidence) remove the evidence files earlier
    sessions wrote, once tests are to run (see :mod:`pytest_dai.glue.report.artifacts`)."""
    settings = state.settings
    if is_worker(config) or settings.dry_run or settings.list_names or settings.reap_orphans_only:
        return
    from pytest_dai.glue.report.artifacts import EvidenceCleanup

    config.pluginmanager.register(EvidenceCleanup(settings.artifacts), "dai-evidence-cleanup")


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _install_sigterm(config: pytest.Config) -> None:
    """SIGTERM acts like Ctrl-C (runs are aborted, reports written), if nobody else handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    config.stash[SIGTERM_KEY] = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def restore_sigterm(config: pytest.Config) -> None:
    """Put back the SIGTERM handler :func:`start_plugin` replaced, if it did."""
    previous = config.stash.get(SIGTERM_KEY, None)
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)
