"""Starting pytest-dai's state for a session, now or when the session first needs it.

A session that gives no DAI setting at all (no ``--dai-*`` option, ``DAI_*`` variable or
``dai_*`` ini key) has not asked for pytest-dai: every setting is its default, and most such
sessions run no DAI test. There the plugin stays dormant (:class:`DormantHooks`): nothing is
resolved, no helper plugin is registered, SIGTERM is left alone, and the session pays next to
nothing for the plugin being installed. The first test that is marked ``dai_model`` or
``dai_test_config``, or uses a ``dai_*`` fixture, starts it (during collection, so the marker
checks and the summary see every test), and so does a fixture asked for by name.

A session that gives any DAI setting starts it at once, in ``pytest_configure``: a bad value is
then a usage error before anything runs.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING

from pytest_dai.glue.keys import SIGTERM_KEY, STATE_KEY, SUMMARY_KEY, is_worker

if TYPE_CHECKING:
    from types import FrameType

    import pytest

    from pytest_dai.glue.state import DAIState

__all__ = ["DAI_FIXTURES", "NO_SERVER_HEADER", "DormantHooks", "plugin_state", "start_plugin"]

#: The report header's line when no server is configured.
NO_SERVER_HEADER = "dai: no server configured (give --dai-url or DAI_URL, or --dai-simulator)"
#: The markers and fixtures that make a test a DAI test.
DAI_MARKERS = ("dai_model", "dai_test_config")
DAI_FIXTURES = frozenset({"dai_session", "dai_execution", "dai_result"})
#: The name :class:`DormantHooks` is registered under.
DORMANT_PLUGIN = "dai-dormant"


def uses_dai(item: pytest.Item) -> bool:
    """Whether ``item`` is a DAI test: marked, or using a ``dai_*`` fixture of a run."""
    if any(item.get_closest_marker(name) is not None for name in DAI_MARKERS):
        return True
    return not DAI_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


class DormantHooks:
    """Registered instead of the plugin's state when the session gave no DAI setting: starts
    the state at the first DAI test collected."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """A DAI test: start pytest-dai's state (once), then step aside."""
        if uses_dai(item):
            plugin_state(self.config)


def plugin_state(config: pytest.Config) -> DAIState:
    """The session's :class:`~pytest_dai.glue.state.DAIState`, started now if the plugin was
    dormant."""
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        dormant = config.pluginmanager.get_plugin(DORMANT_PLUGIN)
        if dormant is not None:
            config.pluginmanager.unregister(dormant)
        state = start_plugin(config)
    return state


def start_plugin(config: pytest.Config) -> DAIState:
    """Resolve the settings (a bad value is a ``pytest.UsageError`` naming its source), start
    ``--dai-simulator``, register the helper plugins and the SIGTERM handler."""
    from pytest_dai.glue import runtest_hooks, session_hooks
    from pytest_dai.glue.interrupted import InterruptHooks
    from pytest_dai.glue.marker_args import MarkerCheck
    from pytest_dai.glue.redaction import RedactionHooks
    from pytest_dai.glue.reporting import SummaryCollector
    from pytest_dai.glue.resolve import resolve_settings
    from pytest_dai.glue.state import DAIState
    from pytest_dai.glue.summary_hooks import SummaryHooks

    state = DAIState(config, resolve_settings(config))
    state.start_simulator()
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
        from pytest_dai.glue.dry_run import DryRunHooks

        manager.register(DryRunHooks(config), "dai-dry-run")
    if manager.hasplugin("xdist") and not is_worker(config):
        from pytest_dai.glue.xdist_hooks import XdistHooks

        manager.register(XdistHooks(state), "dai-xdist")
        if state.settings.dist == "agent":
            from pytest_dai.glue.scheduler import AgentDistPlugin

            manager.register(AgentDistPlugin(config), "dai-dist")
    if state.settings.handle_sigterm:
        _install_sigterm(config)
    return state


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
