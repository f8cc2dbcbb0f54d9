"""The pytest hooks of runs started ahead (``--dai-prestart``, see
:mod:`pytest_dai.glue.run.prestart`): the plan made once the tests are selected, runs started ahead
before each test, lanes freed after it, and the runs no test waited for aborted and reported
at the session's end."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_dai.glue.report.facts import RunReport
from pytest_dai.glue.run.prestart import PRESTART_KEY, Planned, Prestart
from pytest_dai.glue.run.start import start_run

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState

__all__ = ["PrestartHooks", "header_line"]

#: What the header says when runs are started ahead (the change a user must know of).
HEADER = (
    "dai: runs are started ahead (--dai-prestart, at most {limit} not yet waited for): a test's "
    "own fixtures are set up after its run has started; prestart=False keeps a test to its turn"
)


def header_line(limit: int, *, dry_run: bool = False) -> str:
    """The header's line about runs started ahead."""
    if dry_run:
        return "dai: --dai-prestart is off for a dry run (nothing is started)"
    return HEADER.format(limit=limit)


class PrestartHooks:
    """Runs started ahead for the tests this process runs (one process, or an xdist worker:
    the tests it was given)."""

    def __init__(self, state: DAIState) -> None:
        self.state = state
        self.items: list[pytest.Item] = []
        self.index: dict[str, int] = {}
        self.current = 0
        self.prestart = Prestart(state, state.settings.prestart_limit, self.pending, start_run)
        state.config.stash[PRESTART_KEY] = self.prestart
        self._worker = _worker_queue(state.config)

    def pending(self) -> list[pytest.Item]:
        """The tests still to run here, in order, the current one first. On an xdist worker:
        the current test and those the controller has sent to this worker so far."""
        if self._worker is None:
            return self.items[self.current :]
        queue = self._worker
        with queue.lock() as indices:
            waiting = [i for i in indices if isinstance(i, int)]
        return [self.items[i] for i in [self.current, *waiting] if 0 <= i < len(self.items)]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The selected tests (after ``-k``, ``--lf``, ``--dai-rerun-failed`` and other
        plugins' deselection)."""
        self.items = list(session.items)
        self.index = {item.nodeid: i for i, item in enumerate(self.items)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        """Before each test: start ahead what may start now (the test's own run first)."""
        self.current = self.index.get(item.nodeid, self.current)
        if not self.state.settings.dry_run:
            self.prestart.fill()

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        """After each test: its lane is free; a run started ahead for it that it never waited
        for (skipped, or failed in its setup) is aborted."""
        entry = self.prestart.entries.get(nodeid)
        if entry is not None and entry.run is not None and not entry.claimed:
            self._give_up(entry, "started ahead; its test ended without waiting for it")
        self.prestart.finished(nodeid)

    def pytest_keyboard_interrupt(self) -> None:
        """Ctrl-C or SIGTERM: nothing more is started."""
        self.prestart.stopped = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        """Abort the runs started ahead that no test waited for (``-x``, ``--maxfail``,
        Ctrl-C) and report each as aborted."""
        self.prestart.stopped = True
        for entry in list(self.prestart.unclaimed()):
            self._give_up(entry, "started ahead; the session ended before its test's turn")

    def _give_up(self, entry: Planned, why: str) -> None:
        """Abort ``entry``'s run (if still going) and report it with ``why``."""

        run = entry.run
        assert run is not None
        entry.claimed = True
        if not run.finished:
            run.abort()
        report = RunReport.of(run, entry.item.nodeid).with_steps([], why)
        self.state.pending_runs[report.key] = report


def _worker_queue(config: pytest.Config) -> _Queue | None:
    """pytest-xdist's queue of the tests sent to this worker (None: not a worker)."""
    if not hasattr(config, "workerinput"):
        return None
    for plugin in config.pluginmanager.get_plugins():
        queue = getattr(plugin, "torun", None)
        if queue is not None and hasattr(queue, "lock"):
            found: _Queue = queue
            return found
    return None


if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Protocol

    class _Queue(Protocol):
        def lock(self) -> AbstractContextManager[list[object]]: ...
