"""The in-flight journal: every run that was started and has not ended, on disk.

A run holds an agent and a system under test for minutes to hours; a run left going by a killed
CI job blocks the next one. So each started run gets a small JSON file (written atomically: a
temporary file, then ``os.replace``) that is removed once the run is final. A later session
against the same server aborts the runs whose recording process is no longer alive on this host
(:meth:`Journal.orphans`). One file per run means concurrent writers (pytest-xdist workers)
never contend.

The journal holds no secret: server URL, execution id, model, test id, pid, host, times.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Journal", "JournalEntry", "default_journal_dir", "pid_alive", "process_start_time"]

SUFFIX = ".run.json"


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux ``/proc``), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # Field 22 (starttime); the command name (field 2) may hold spaces, so split after it.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return fields[0] if fields else None


def pid_alive(pid: int, start_time: str | None = None) -> bool:
    """Whether process ``pid`` is alive (and, where known, is the same process as before).

    A zombie (a dead child its parent has not waited for yet) counts as dead.
    """
    if pid <= 0:
        return False
    if _proc_state(pid) in {"Z", "X"}:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:
        return False
    if start_time is not None:
        now = process_start_time(pid)
        if now is not None and now != start_time:
            return False
    return True


@dataclass(frozen=True)
class JournalEntry:
    """One run in flight."""

    server: str
    execution_id: str
    model: str
    nodeid: str
    pid: int
    host: str
    started: float
    pid_start: str | None = None
    #: "model" (``execution_id`` is an execution id) or "test_config" (a task instance id,
    #: and ``config_id`` the test configuration it ran).
    kind: str = "model"
    config_id: str = ""

    def describe(self) -> str:
        """``model 'M' (execution X, test T, pid P)`` (or ``test configuration 'C' (task
        instance X, ...)``)."""
        if self.kind == "test_config":
            return (
                f"test configuration {self.model!r} (task instance {self.execution_id}, test "
                f"{self.nodeid or '-'}, pid {self.pid})"
            )
        return (
            f"model {self.model!r} (execution {self.execution_id}, test {self.nodeid or '-'}, "
            f"pid {self.pid})"
        )


class Journal:
    """The journal in ``directory`` (made on first write)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"Journal({str(self.directory)!r})"

    def _path(self, pid: int, execution_id: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in execution_id)
        return self.directory / f"{pid}-{safe}{SUFFIX}"

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
        pid = os.getpid()
        entry = JournalEntry(
            server=server,
            execution_id=execution_id,
            model=model,
            nodeid=nodeid,
            pid=pid,
            host=socket.gethostname(),
            started=time.time(),
            pid_start=process_start_time(pid),
            kind=kind,
            config_id=config_id,
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._path(pid, execution_id)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(entry), handle)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return entry

    def remove(self, execution_id: str, pid: int | None = None) -> None:
        """Forget a run (it ended, or was aborted)."""
        with contextlib.suppress(OSError):
            self._path(os.getpid() if pid is None else pid, execution_id).unlink()

    def entries(self) -> list[JournalEntry]:
        """Every entry on disk; unreadable files are skipped (and left for a person to see)."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                raw: Any = json.loads(path.read_text(encoding="utf-8"))
                found.append(
                    JournalEntry(
                        server=str(raw["server"]),
                        execution_id=str(raw["execution_id"]),
                        model=str(raw.get("model", "")),
                        nodeid=str(raw.get("nodeid", "")),
                        pid=int(raw["pid"]),
                        host=str(raw.get("host", "")),
                        started=float(raw.get("started", 0.0)),
                        pid_start=raw.get("pid_start"),
                        kind=str(raw.get("kind", "model")),
                        config_id=str(raw.get("config_id", "")),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def orphans(
        self,
        server: str,
        *,
        host: str | None = None,
        alive: Callable[[int, str | None], bool] = pid_alive,
    ) -> list[JournalEntry]:
        """Entries for ``server`` recorded on this host by processes that are gone."""
        host = socket.gethostname() if host is None else host
        return [
            entry
            for entry in self.entries()
            if entry.server == server
            and entry.host == host
            and entry.pid != os.getpid()
            and not alive(entry.pid, entry.pid_start)
        ]


def default_journal_dir() -> Path:
    """Where the journal lives when pytest's cache is off: a per-user temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"pytest-dai-journal-{uid}"
