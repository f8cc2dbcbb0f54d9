"""The plugin's state for one pytest process, and that only: its settings, simulator, DAI
session and journal (both made on first use), the runs its tests started, the first fault of
the whole server. Starting the simulator (:mod:`~pytest_dai.glue.process.simulator`), making the
session (:mod:`~pytest_dai.glue.process.connect`), reaping (:mod:`~pytest_dai.glue.process.reaping`)
and the hand-over under xdist (:mod:`pytest_dai.glue.xdist.handover`) are done elsewhere.

Everything heavy (``requests``, the client, the simulator) is imported lazily, the first time a
DAI test, fixture or option needs it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_dai.glue.base.keys import (
    WORKERINPUT_JOURNAL,
    is_worker,
    worker_input,
)
from pytest_dai.glue.report.terminal import notice
from pytest_dai.glue.settings.values import SETTINGS_KEY

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.glue.settings.values import Settings
    from pytest_dai.lifecycle.journal import Journal
    from pytest_dai.lifecycle.session import AnyRun, DAISession
    from pytest_dai.simulator import DAISimulator


@dataclass(frozen=True)
class ServerFault:
    """The first server-wide fault of the session and the test that met it
    (:mod:`pytest_dai.glue.process.failfast`)."""

    nodeid: str
    message: str


log = logging.getLogger("pytest_dai")


class DAIState:
    """Per-process plugin state, kept in ``config.stash[STATE_KEY]``."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        config.stash[SETTINGS_KEY] = settings
        self.simulator: DAISimulator | None = None
        self._session: DAISession | None = None
        self._journal: Journal | None = None
        self._lock = threading.Lock()
        #: The test running now (runs started by hand are journalled under it).
        self.current_nodeid = ""
        #: Header lines about runs left by earlier sessions (process/reaping.py).
        self.reap_lines: list[str] = []
        #: Runs started while a test ran (by its marker or through ``dai_session``), by test id,
        #: until that test's report is made.
        self.runs_started: dict[str, list[AnyRun]] = {}
        #: Runs this process waited for (facts and steps), by run key, until their test's report
        #: is made: what an interrupted session still tells of.
        self.pending_runs: dict[str, RunReport] = {}
        #: (Controller, under xdist) where the workers leave their pending runs
        #: (:mod:`pytest_dai.glue.xdist.handover`).
        self.steps_dir: str | None = None
        #: The first fault of the whole server met in this process (see process/failfast.py).
        self.server_fault: ServerFault | None = None
        #: Whether the server had its one cheap look before the first call (process/failfast.py).
        self.server_checked = False
        #: With ``--dai-rerun-failed``: what it re-runs this session (shown after collection).
        self.rerun_line = ""

    def __repr__(self) -> str:
        return f"DAIState(url={self.settings.url!r}, session={self._session is not None})"

    @property
    def settings(self) -> Settings:
        """The session's settings: the one copy, ``config.stash[SETTINGS_KEY]`` (with the
        simulator's connection once :meth:`start_simulator` ran)."""
        return self.config.stash[SETTINGS_KEY]

    @property
    def is_worker(self) -> bool:
        """True in a pytest-xdist worker."""
        return is_worker(self.config)

    # -- the DAI session ----------------------------------------------------------------------

    def session(self) -> DAISession:
        """The session's authenticated client, made on first use.

        Raises :class:`DAIConfigError` (one line, naming the setting to give) when no server
        or no secret is configured.
        """
        with self._lock:
            if self._session is None:
                from pytest_dai.glue.process.connect import make_session

                self._session = make_session(
                    self.settings,
                    journal=self.journal,
                    notice=lambda line: notice(self.config, line),
                    on_start=self._journal_started,
                    on_end=self._journal_ended,
                    current_test=lambda: self.current_nodeid,
                )
            return self._session

    # -- the in-flight journal ----------------------------------------------------------------

    @property
    def journal(self) -> Journal:
        """The journal: the controller's folder under xdist, else pytest's cache (or a temp
        folder when the cache is off)."""
        from pytest_dai.lifecycle.journal import Journal, default_journal_dir

        if self._journal is None:
            given = worker_input(self.config).get(WORKERINPUT_JOURNAL)
            if given:
                self._journal = Journal(given, tighten=True)  # the controller made it
            elif getattr(self.config, "cache", None) is not None:
                self._journal = Journal(self.config.cache.mkdir("dai-journal"), tighten=True)
            else:
                self._journal = Journal(default_journal_dir())
        return self._journal

    def _journal_started(self, execution: AnyRun) -> None:
        from pytest_dai.lifecycle.journal import journal_key

        if self.current_nodeid:
            self.runs_started.setdefault(self.current_nodeid, []).append(execution)
        try:
            self.journal.record(
                self.settings.url or "",
                journal_key(execution),
                model=execution.model,
                nodeid=self.current_nodeid,
                kind=execution.kind,
                config_id=getattr(getattr(execution, "config", None), "id", ""),
            )
        except OSError as exc:
            log.warning("pytest-dai: could not write the run journal: %s", exc)

    def _journal_ended(self, execution: AnyRun) -> None:
        from pytest_dai.lifecycle.journal import journal_key

        self.journal.remove(journal_key(execution))

    def close(self) -> None:
        """Abort the runs still going, close the client, then stop the simulator."""
        with self._lock:
            session, self._session = self._session, None
        try:
            for execution in session.close() if session is not None else []:
                log.warning("pytest-dai: aborted unfinished run %s at session end", execution.id)
        finally:
            if self.simulator is not None:
                self.simulator.stop()
                self.simulator = None
