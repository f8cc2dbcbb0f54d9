"""Hold Ctrl-C and SIGTERM while a run is being aborted.

Aborting a run is short and bounded (a few seconds at most, see
:meth:`pytest_dai.client.endpoints.DAIClient.abort_execution`), and it is what keeps a run from
going on for hours after its test is gone. A second Ctrl-C, or the SIGTERM a CI system sends
a few seconds after its SIGINT, must not cut it off: such a signal is held until the abort is
done and then delivered as it would have been (usually as ``KeyboardInterrupt``). A third one
is delivered at once, for whoever really wants out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

__all__ = ["interrupts_held"]

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the duration of the block (main thread only; elsewhere
    signals cannot arrive anyway), then deliver the first one that came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[tuple[int, FrameType | None]] = []
    previous: dict[int, Any] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        if held:  # the second signal during the hold: out now
            _restore(previous)
            _deliver(previous.get(signum), signum, frame)
        held.append((signum, frame))

    for held_signal in HELD_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            previous[held_signal] = signal.signal(held_signal, hold)
    try:
        yield
    finally:
        _restore(previous)
        if held:
            signum, frame = held[0]
            _deliver(previous.get(signum), signum, frame)


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        if handler is not None:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, handler)


def _deliver(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Do what the signal would have done without the hold."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)  # the default action (for SIGTERM: end the process)
