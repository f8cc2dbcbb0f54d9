"""Whether the process that wrote a journal entry is still alive (Linux ``/proc``, else
``kill(pid, 0)``), told apart from a later process that got the same pid."""

from __future__ import annotations

import os

__all__ = ["pid_alive", "process_start_time"]


def _proc_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()
    except OSError:
        return None


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of ``/proc/<pid>/stat``), to tell a reused
    pid apart."""
    fields = _proc_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def pid_alive(pid: int, start_time: str | None = None) -> bool:
    """Whether process ``pid`` is alive (and, where known, is the same process as before).

    A zombie (a dead child its parent has not waited for yet) counts as dead.
    """
    if pid <= 0:
        return False
    fields = _proc_fields(pid)
    if fields and fields[0] in {"Z", "X"}:
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
