"""Reading journal files without trusting them: only small regular files owned by the user,
and only fields of the expected types and ranges (see :mod:`pytest_dai.lifecycle.journal`)."""

from __future__ import annotations

import json
import math
import os
import stat
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ENTRY_SIZE_LIMIT",
    "field_pid",
    "field_pid_start",
    "field_text",
    "field_time",
    "read_entry",
]

#: The largest entry file read (an entry is a few hundred bytes).
ENTRY_SIZE_LIMIT = 64 * 1024
_TEXT_LIMIT = 500


def read_entry(path: Path) -> dict[str, Any] | None:
    """A journal file's JSON object, if the file is a regular file of ours and small."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > ENTRY_SIZE_LIMIT:
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(ENTRY_SIZE_LIMIT + 1)
        raw: Any = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)
    return raw if isinstance(raw, dict) else None


def field_text(raw: dict[str, Any], key: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or len(value) > _TEXT_LIMIT:
        raise ValueError(key)
    return value


def field_pid(raw: dict[str, Any]) -> int:
    value = raw.get("pid")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise ValueError("pid")
    return value


def field_time(raw: dict[str, Any]) -> float:
    value = raw.get("started", 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("started")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError("started")
    return number


def field_pid_start(raw: dict[str, Any]) -> str | None:
    value = raw.get("pid_start")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("pid_start")
    return value
