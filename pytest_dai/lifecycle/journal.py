"""The in-flight journal: every run that was started and has not ended, on disk.

A run holds an agent and a system under test for minutes to hours; a run left going by a killed
CI job blocks the next one. So each started run gets a small JSON file (written atomically: a
temporary file, then ``os.replace``) that is removed once the run is final. A later session
against the same server aborts the runs whose recording process is no longer alive on this host
(:meth:`Journal.orphans`). One file per run means concurrent writers (pytest-xdist workers)
never contend.

The journal holds no secret: server URL, execution id, model, test id, pid, host, times.

Before a start is sent (a model run's or a test configuration's), an *intent* is written
(``*.intent.json``): if no id comes back (the connection dropped, a timeout, a 5xx, Ctrl-C
mid-request), the run may exist anyway, and the intent says what and since when to look for
(see :mod:`pytest_dai.lifecycle.lost_starts`). It is replaced by the run's entry once the id is
known.

The journal is trusted only if it is ours: its folder is made private (0700) and refused when
it is a symbolic link, owned by someone else, or writable by group or others; an entry file is
read only if it is a regular file we own, and its execution id must be a plain id (tolerance
rule 11). So an entry planted by another user never causes a request.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_dai.client.safety import is_plain_id
from pytest_dai.lifecycle.journal_entries import JournalEntry, StartIntent, this_process
from pytest_dai.lifecycle.journal_files import read_entry
from pytest_dai.lifecycle.processes import pid_alive, process_start_time

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "Journal",
    "JournalEntry",
    "JournalRefusedError",
    "StartIntent",
    "default_journal_dir",
    "journal_key",
    "pid_alive",
    "process_start_time",
]

SUFFIX = ".run.json"
INTENT_SUFFIX = ".intent.json"


class JournalRefusedError(OSError):
    """The journal folder is not safe to trust (someone else's, or writable by others)."""


class Journal:
    """The journal in ``directory`` (made on first write, private to the user).

    ``tighten``: the folder is one pytest-dai made itself (in pytest's cache, whose folders
    follow the umask): if it is ours but open to group or others, make it private (0700)
    rather than refuse it. Entry files are checked one by one either way."""

    def __init__(self, directory: str | os.PathLike[str], *, tighten: bool = False) -> None:
        self.directory = Path(directory)
        self.tighten = tighten

    def __repr__(self) -> str:
        return f"Journal({str(self.directory)!r})"

    def _path(self, pid: int, execution_id: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in execution_id)
        return self.directory / f"{pid}-{safe}{SUFFIX}"

    # -- the folder -----------------------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`JournalRefusedError` (one line naming the folder) unless the folder
        is safe to trust: a real folder (not a link), ours, not writable by group or others.
        A missing folder is fine (nothing to read)."""
        try:
            info = os.lstat(self.directory)
        except FileNotFoundError:
            return
        problem = ""
        if not stat.S_ISDIR(info.st_mode):
            problem = "is not a folder (a link or a file)"
        elif hasattr(os, "getuid") and info.st_uid != os.getuid():
            problem = f"is owned by another user (uid {info.st_uid})"
        elif info.st_mode & 0o022 and self.tighten:
            os.chmod(self.directory, 0o700)
        elif info.st_mode & 0o022:
            problem = f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):o})"
        if problem:
            raise JournalRefusedError(
                f"run journal folder {str(self.directory)!r} {problem}: not used (make it "
                "private to you, or remove it)"
            )

    def _ensure(self) -> None:
        """Make the folder (0700) if it is missing, then :meth:`check` it."""
        if not self.directory.exists():
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.directory, 0o700)
        self.check()

    def _write(self, target: Path, data: dict[str, Any]) -> None:
        self._ensure()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _read_all(self, suffix: str) -> list[dict[str, Any]]:
        """Every trusted entry file with ``suffix``, parsed; nothing if the folder is not ours."""
        try:
            self.check()
        except JournalRefusedError:
            return []
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*{suffix}")):
            raw = read_entry(path)
            if raw is not None:
                found.append(raw)
        return found

    # -- runs ---------------------------------------------------------------------------------

    def record(
        self,
        server: str,
        execution_id: str,
        *,
        model: str = "",
        nodeid: str = "",
        kind: str = "model",
        config_id: str = "",
    ) -> JournalEntry:
        """Write the entry for a run this process just started (``kind`` "test_config": a
        task instance of the test configuration ``config_id``)."""
        entry = JournalEntry(
            server=server,
            execution_id=execution_id,
            model=model,
            nodeid=nodeid,
            kind=kind,
            config_id=config_id,
            **this_process(),
        )
        self._write(self._path(entry.pid, execution_id), asdict(entry))
        return entry

    def remove(self, execution_id: str, pid: int | None = None) -> None:
        """Forget a run (it ended, or was aborted)."""
        with contextlib.suppress(OSError):
            self._path(os.getpid() if pid is None else pid, execution_id).unlink()

    def entries(self) -> list[JournalEntry]:
        """Every valid entry on disk; files that are not ours, unreadable or invalid (an
        execution id that is not a plain id...) are skipped and left for a person to see."""
        found = (JournalEntry.from_raw(raw) for raw in self._read_all(SUFFIX))
        return [entry for entry in found if entry is not None]

    def orphans(
        self,
        server: str,
        *,
        host: str | None = None,
        alive: Callable[[int, str | None], bool] = pid_alive,
    ) -> list[JournalEntry]:
        """Entries for ``server`` recorded on this host by processes that are gone."""
        host = socket.gethostname() if host is None else host
        return [entry for entry in self.entries() if entry.left_by_dead(server, host, alive)]

    # -- start intents ------------------------------------------------------------------------

    def record_intent(self, intent: StartIntent) -> StartIntent:
        """Write an intent just before its start is sent (see the module docstring)."""
        self._write(self.directory / f"{intent.key}{INTENT_SUFFIX}", asdict(intent))
        return intent

    def remove_intent(self, intent: StartIntent) -> None:
        """Forget an intent (the start answered, or its run was found)."""
        if is_plain_id(intent.key):
            with contextlib.suppress(OSError):
                (self.directory / f"{intent.key}{INTENT_SUFFIX}").unlink()

    def intents(self) -> list[StartIntent]:
        """Every valid intent on disk (same trust rules as :meth:`entries`)."""
        found = (StartIntent.from_raw(raw) for raw in self._read_all(INTENT_SUFFIX))
        return [intent for intent in found if intent is not None]

    def orphan_intents(
        self,
        server: str,
        *,
        alive: Callable[[int, str | None], bool] = pid_alive,
    ) -> list[StartIntent]:
        """Intents for ``server`` left on this host by processes that are gone."""
        host = socket.gethostname()
        return [intent for intent in self.intents() if intent.left_by_dead(server, host, alive)]


def default_journal_dir() -> Path:
    """Where the journal lives when pytest's cache is off: a per-user temporary folder (made
    0700, and refused if someone else made it first: see :meth:`Journal.check`)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"pytest-dai-journal-{uid}"


def journal_key(run: object) -> str:
    """A run's id in the journal: the execution id, or a test config's task instance id."""
    task = getattr(run, "task_instance_id", None)
    return str(task) if task is not None else str(getattr(run, "id", ""))
