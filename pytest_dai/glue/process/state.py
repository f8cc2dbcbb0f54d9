"""The plugin's state for one pytest process: settings, the simulator, the DAI session.

Everything heavy (``requests``, the client, the simulator) is imported here lazily, the first
time a DAI test, fixture or option needs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.glue.base.keys import (
    WORKERINPUT_JOURNAL,
    WORKERINPUT_SIMULATOR,
    WORKERINPUT_STEPS,
    is_worker,
    worker_input,
)
from pytest_dai.glue.settings.values import SETTINGS_KEY

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.glue.settings.values import Settings
    from pytest_dai.lifecycle.journal import Journal, JournalEntry
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
        #: Header lines about runs left by earlier sessions (see :meth:`reap_orphans`).
        self.reap_lines: list[str] = []
        #: Runs started while a test ran (by its marker or through ``dai_session``), by test id,
        #: until that test's report is made.
        self.runs_started: dict[str, list[AnyRun]] = {}
        #: Runs this process waited for (facts and steps), by run key, until their test's report
        #: is made: what an interrupted session still tells of.
        self.pending_runs: dict[str, RunReport] = {}
        self._steps_dir: str | None = None
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

    # -- the simulator ------------------------------------------------------------------------

    def start_simulator(self) -> None:
        """With ``--dai-simulator``: start it (controller) or use the controller's (worker)."""
        if self.settings.simulator is None:
            return
        if self.is_worker:
            info = worker_input(self.config).get(WORKERINPUT_SIMULATOR)
            if info:
                self.config.stash[SETTINGS_KEY] = self.settings.with_simulator(**info)
                return
        from pytest_dai.simulator import DAISimulator, ScenarioError

        scenario = self.settings.simulator or None
        try:
            simulator = DAISimulator(scenario)
            simulator.start()
        except ScenarioError as exc:
            raise pytest.UsageError(f"--dai-simulator: {exc}") from None
        self.simulator = simulator
        self.config.stash[SETTINGS_KEY] = self.settings.with_simulator(
            url=simulator.url,
            token_url=simulator.token_url,
            client_id=simulator.client_id,
            client_secret=simulator.client_secret,
        )

    def simulator_info(self) -> dict[str, Any] | None:
        """What a pytest-xdist worker needs to talk to this process's simulator."""
        if self.simulator is None:
            return None
        return {
            "url": self.settings.url,
            "token_url": self.settings.token_url,
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }

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
                    notice=self.notice,
                    on_start=self._journal_started,
                    on_end=self._journal_ended,
                    current_test=lambda: self.current_nodeid,
                )
            return self._session

    def notice(self, line: str) -> None:
        """Show one ``dai: ...`` line on the terminal now (past output capture); on an xdist
        worker, or without a terminal, as a warning in the log."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or self.is_worker:
            log.warning("pytest-dai: %s", line.removeprefix("dai: "))
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            from pytest_dai.glue.report.terminal import fresh_line

            fresh_line(reporter)
            reporter.write_line(line, yellow=True)

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

    def reap_orphans(self, gone: Collection[int] = ()) -> list[JournalEntry]:
        """Abort runs that earlier sessions on this host started and left going when they were
        killed (their process is gone). Sets :attr:`reap_lines` for the report header.

        ``gone``: process ids known to be down even if they still look alive (a crashed xdist
        worker may not have finished exiting when the controller hears of it)."""
        if self.settings.url is None:
            return []
        from pytest_dai.client.errors import DAIError
        from pytest_dai.lifecycle.journal import pid_alive

        def alive(pid: int, start: str | None) -> bool:
            return pid not in gone and pid_alive(pid, start)

        from pytest_dai.lifecycle.journal import JournalRefusedError

        try:
            self.journal.check()
        except JournalRefusedError as exc:
            self.reap_lines.append(f"dai: {exc}")
            return []
        self._reap_intents(alive)
        orphans = self.journal.orphans(self.settings.url, alive=alive)
        if not orphans:
            return []
        reaped: list[JournalEntry] = []
        failed: list[str] = []
        for entry in orphans:
            try:
                if entry.kind == "test_config":
                    from pytest_dai.lifecycle.test_config_support import reap_test_config

                    self.reap_lines.append(
                        f"dai: {entry.describe()}: "
                        + reap_test_config(self.session().test_config_api, entry)
                    )
                else:
                    self.session().client.abort_execution(entry.execution_id)
            except DAIError as exc:
                failed.append(f"{entry.describe()}: {exc}")
                continue
            self.journal.remove(entry.execution_id, pid=entry.pid)
            reaped.append(entry)
        if reaped:
            runs = "run" if len(reaped) == 1 else "runs"
            self.reap_lines.append(
                f"dai: aborted {len(reaped)} {runs} left by an earlier, killed session: "
                + "; ".join(entry.describe() for entry in reaped)
            )
        for line in failed:
            self.reap_lines.append(f"dai: could not abort a run left by a killed session: {line}")
        return reaped

    def _reap_intents(self, alive: Callable[[int, str | None], bool]) -> None:
        """Starts that a killed session sent without getting an answer: find and abort the
        runs they may have created (:mod:`pytest_dai.lifecycle.lost_starts`)."""
        intents = self.journal.orphan_intents(self.settings.url or "", alive=alive)
        if not intents:
            return  # (the usual case: nothing imported, no request made)
        from pytest_dai.client.errors import DAIError
        from pytest_dai.lifecycle.lost_starts import recover_lost_start

        try:
            client = self.session().client
        except DAIError as exc:
            self.reap_lines.append(f"dai: could not look for runs of lost starts: {exc}")
            return
        known = {entry.execution_id for entry in self.journal.entries()}
        for intent in intents:
            searched, line = recover_lost_start(client, intent, known)
            if searched:
                self.journal.remove_intent(intent)
            if line:
                self.reap_lines.append(line)

    # -- runs of an interrupted session on xdist workers -------------------------------------

    def worker_steps_dir(self) -> str:
        """(Controller) a folder where workers leave the runs they were waiting on when the
        session was interrupted: no test report carries those."""
        if self._steps_dir is None:
            self._steps_dir = tempfile.mkdtemp(prefix="pytest-dai-steps-")
        return self._steps_dir

    def hand_over_pending_runs(self) -> None:
        """(Worker) leave this worker's pending runs in the controller's folder."""
        folder = worker_input(self.config).get(WORKERINPUT_STEPS)
        if not folder or not self.pending_runs:
            return
        data = [run.to_dict() for run in self.pending_runs.values()]
        from pytest_dai.glue.base.handover import leave_json

        try:
            leave_json(folder, f"{os.getpid()}.json", data)
        except OSError as exc:
            log.warning("pytest-dai: could not hand the run steps to the controller: %s", exc)

    def collect_worker_runs(self) -> list[RunReport]:
        """(Controller) the pending runs the workers left, and the folder removed."""
        folder, self._steps_dir = self._steps_dir, None
        if folder is None:
            return []
        from pytest_dai.glue.report.facts import from_plain

        found: list[RunReport] = []
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith(".json"):
                try:
                    with open(os.path.join(folder, name), encoding="utf-8") as handle:
                        found.extend(from_plain(json.load(handle)))
                except (OSError, ValueError, TypeError):
                    continue
        shutil.rmtree(folder, ignore_errors=True)
        return found

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
