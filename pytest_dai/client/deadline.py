"""Total deadlines for HTTP requests (contract rule 12): connect plus every read, not per read.

``requests`` and urllib3 only bound each socket operation: a server that trickles one byte a
second, never finishes its headers or streams an endless body keeps a call going for ever. Here
each attempt of a request gets a total deadline: a watchdog thread shuts the attempt's socket
down when it passes, so the blocked read ends at once (TLS included), and the call fails as a
timeout. Over the attempts, a *budget* (:func:`call_budget`: what is left of a run deadline, an
abort's few seconds) bounds the whole call, retries and ``Retry-After`` sleeps included.

The deadlines live in thread-local scopes, opened by the client around each call
(:func:`request_scope`); requests made outside a scope behave as plain ``requests``.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DeadlineAdapter",
    "RequestScope",
    "call_budget",
    "current_scope",
    "remaining_budget",
    "request_scope",
]


@dataclass
class RequestScope:
    """One call's deadlines: ``attempt_seconds`` per attempt, ``deadline`` (monotonic, or None)
    over all attempts. ``expired`` is set when a deadline cut the call short."""

    attempt_seconds: float
    deadline: float | None
    attempt_deadline: float | None = None
    expired: bool = False

    def begin_attempt(self) -> float:
        """Start an attempt; its deadline. A call past its budget makes no new attempt."""
        now = time.monotonic()
        end = now + self.attempt_seconds
        if self.deadline is not None:
            if now >= self.deadline:
                self.expired = True
                raise ConnectTimeoutError(None, "the call's time budget is used up")
            end = min(end, self.deadline)
        self.attempt_deadline = end
        self.expired = False
        return end

    def finish(self) -> bool:
        """Stop watching this call; True if the last attempt was cut off by its deadline (what
        it received is then incomplete, whatever it looks like)."""
        _WATCHDOG.disarm(self)
        return self.expired


class _Local(threading.local):
    budget: float | None = None
    scope: RequestScope | None = None


_local = _Local()


def current_scope() -> RequestScope | None:
    """The request scope open in this thread, if any."""
    return _local.scope


def remaining_budget() -> float:
    """Seconds left of the innermost budget or call deadline in this thread (inf: none)."""
    scope = _local.scope
    ends = [d for d in (_local.budget, scope.deadline if scope else None) if d is not None]
    return max(min(ends) - time.monotonic(), 0.0) if ends else math.inf


@contextlib.contextmanager
def call_budget(seconds: float | None) -> Iterator[None]:
    """Bound every request made in this thread inside the block to ``seconds`` in all (None:
    no bound; nested budgets only shorten)."""
    previous = _local.budget
    if seconds is not None:
        end = time.monotonic() + max(seconds, 0.0)
        _local.budget = end if previous is None else min(previous, end)
    try:
        yield
    finally:
        _local.budget = previous


@contextlib.contextmanager
def request_scope(attempt_seconds: float) -> Iterator[RequestScope]:
    """Open the scope of one call: each attempt ends within ``attempt_seconds`` (connect and all
    reads), the call within the thread's budget, and a call made inside another (a token fetch
    during an API call) within the outer one's deadlines."""
    outer = _local.scope
    ends = [_local.budget]
    if outer is not None:
        ends += [outer.deadline, outer.attempt_deadline]
    known = [end for end in ends if end is not None]
    scope = RequestScope(attempt_seconds, min(known) if known else None)
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = outer
        _WATCHDOG.disarm(scope)


class _Watchdog:
    """One daemon thread that shuts down the sockets of attempts past their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, RequestScope, socket.socket]] = {}
        self._thread: threading.Thread | None = None

    def arm(self, scope: RequestScope, sock: socket.socket, deadline: float) -> None:
        with self._cond:
            self._armed[id(scope)] = (deadline, scope, sock)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="pytest-dai-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def disarm(self, scope: RequestScope) -> None:
        with self._cond:
            self._armed.pop(id(scope), None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, (deadline, scope, sock) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[key]
                        scope.expired = True
                        with contextlib.suppress(OSError):
                            socket.socket.shutdown(sock, socket.SHUT_RDWR)
                upcoming = [deadline for deadline, _, _ in self._armed.values()]
                self._cond.wait(timeout=min(upcoming) - now if upcoming else None)


_WATCHDOG = _Watchdog()


class _DeadlineConnection:
    """Mixed into urllib3's connections: each request starts an attempt of the open scope, and
    the response is read under the watchdog."""

    sock: socket.socket | None

    def request(self, *args: Any, **kwargs: Any) -> None:
        scope = _local.scope
        if scope is not None:
            scope.begin_attempt()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        scope = _local.scope
        if scope is not None and scope.attempt_deadline is not None and self.sock is not None:
            _WATCHDOG.arm(scope, self.sock, scope.attempt_deadline)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_DeadlineConnection, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections honour the thread's :func:`request_scope`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Make the pool manager, with the deadline-aware connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """A proxy manager (``HTTPS_PROXY``...), with the same connection pools."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
