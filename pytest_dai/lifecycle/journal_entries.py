"""What the in-flight journal holds (see :mod:`pytest_dai.lifecycle.journal`): a run that was
started (:class:`JournalEntry`) and a start about to be sent (:class:`StartIntent`), each read
back from its file without trusting it (:mod:`pytest_dai.lifecycle.journal_files`)."""

from __future__ import annotations

import itertools
import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_dai.client.safety import is_plain_id
from pytest_dai.lifecycle.journal_files import field_pid, field_pid_start, field_text, field_time
from pytest_dai.lifecycle.processes import process_start_time

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["JournalEntry", "StartIntent", "this_process"]

#: Kinds of run: a model run, or a run of a test configuration.
MODEL = "model"
TEST_CONFIG = "test_config"

_counter = itertools.count()


def this_process() -> dict[str, Any]:
    """Who writes an entry now: pid (and its start time, to tell a reused pid apart), host,
    time."""
    pid = os.getpid()
    return {
        "pid": pid,
        "host": socket.gethostname(),
        "started": time.time(),
        "pid_start": process_start_time(pid),
    }


def _common_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields every journal file has, checked (ValueError or TypeError if one is off)."""
    return {
        "server": field_text(raw, "server"),
        "model": field_text(raw, "model", ""),
        "nodeid": field_text(raw, "nodeid", ""),
        "pid": field_pid(raw),
        "host": field_text(raw, "host", ""),
        "started": field_time(raw),
        "pid_start": field_pid_start(raw),
        "kind": field_text(raw, "kind", MODEL),
        "config_id": field_text(raw, "config_id", ""),
    }


@dataclass(frozen=True, kw_only=True)
class _Written:
    """What every journal file says of itself: the server, what ran (``model``: the model's
    name, or the test configuration's), the test, and the process that wrote it."""

    server: str
    model: str = ""
    nodeid: str = ""
    pid: int
    host: str
    started: float
    pid_start: str | None = None
    #: "model" or "test_config" (then ``config_id`` is the test configuration's id).
    kind: str = MODEL
    config_id: str = ""

    def left_by_dead(
        self, server: str, host: str, alive: Callable[[int, str | None], bool]
    ) -> bool:
        """Whether this was written for ``server`` on ``host`` by another process, one that
        is gone (``alive(pid, pid_start)`` says no)."""
        return (
            self.server == server
            and self.host == host
            and self.pid != os.getpid()
            and not alive(self.pid, self.pid_start)
        )


@dataclass(frozen=True, kw_only=True)
class JournalEntry(_Written):
    """One run in flight: ``execution_id`` is a model run's execution id, or a test
    configuration run's task instance id."""

    execution_id: str

    def describe(self) -> str:
        """``model 'M' (execution X, test T, pid P)`` (or ``test configuration 'C' (task
        instance X, ...)``)."""
        if self.kind == TEST_CONFIG:
            return (
                f"test configuration {self.model!r} (task instance {self.execution_id}, test "
                f"{self.nodeid or '-'}, pid {self.pid})"
            )
        return (
            f"model {self.model!r} (execution {self.execution_id}, test {self.nodeid or '-'}, "
            f"pid {self.pid})"
        )

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> JournalEntry | None:
        """The entry a file holds; None when a field is missing, of the wrong type or out of
        range, or the execution id is not a plain id (tolerance rule 11)."""
        try:
            entry = cls(execution_id=field_text(raw, "execution_id"), **_common_fields(raw))
        except (ValueError, TypeError):
            return None
        return entry if is_plain_id(entry.execution_id) else None


@dataclass(frozen=True, kw_only=True)
class StartIntent(_Written):
    """A start about to be sent: what to look for if its answer is lost.

    ``kind`` "model": a run of model ``model_id`` (named ``model``) on agent ``agent_id``
    (named ``agent``; both empty: no agent). ``kind`` "test_config": a run of the test
    configuration ``config_id``, named ``model``.
    """

    key: str
    model_id: str = ""
    agent_id: str = ""
    agent: str = ""

    @classmethod
    def now(
        cls,
        server: str,
        *,
        model_id: str = "",
        model: str = "",
        agent_id: str = "",
        agent: str = "",
        nodeid: str = "",
        kind: str = MODEL,
        config_id: str = "",
    ) -> StartIntent:
        """An intent of this process, for a start sent now."""
        writer = this_process()
        return cls(
            server=server,
            key=f"{writer['pid']}-{time.monotonic_ns()}-{next(_counter)}",
            model_id=model_id,
            model=model,
            agent_id=agent_id,
            agent=agent,
            nodeid=nodeid,
            kind=kind,
            config_id=config_id,
            **writer,
        )

    def describe(self) -> str:
        """``model 'M' on agent 'A' (test T, pid P)`` (or ``test configuration 'C' (...)``)."""
        what = "test configuration" if self.kind == TEST_CONFIG else "model"
        on = f" on agent {self.agent!r}" if self.agent else ""
        return f"{what} {self.model!r}{on} (test {self.nodeid or '-'}, pid {self.pid})"

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> StartIntent | None:
        """The intent a file holds; None when it is not valid (as :meth:`JournalEntry.from_raw`;
        the key must be a plain id, and a test configuration's id too)."""
        try:
            intent = cls(
                key=field_text(raw, "key"),
                model_id=field_text(raw, "model_id", ""),
                agent_id=field_text(raw, "agent_id", ""),
                agent=field_text(raw, "agent", ""),
                **_common_fields(raw),
            )
        except (ValueError, TypeError):
            return None
        if not is_plain_id(intent.key):
            return None
        if intent.kind == TEST_CONFIG and not is_plain_id(intent.config_id):
            return None
        if intent.kind not in (MODEL, TEST_CONFIG):
            return None
        return intent
