"""Getting an xdist worker's DAI session ready while the controller schedules.

A pytest-xdist worker that has collected its tests waits for the controller to hand it the
first one. Its first DAI test then imports the client (``requests`` among it), makes the
session and fetches a token before it can start its run: some tenths of a second, in every
worker at once, on the critical path of a parallel suite. :func:`warm_up` does that work in a
background thread during the wait instead. It only prepares what the first test would make
anyway (no listing, no run): what it cannot do (the server is down, no secret) it leaves to
the first test, which reports it as it always does.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from pytest_dai.glue.base.keys import uses_dai

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

    from pytest_dai.glue.process.state import DAIState

__all__ = ["warm_up"]

log = logging.getLogger("pytest_dai")


def warm_up(state: DAIState, items: Sequence[pytest.Item]) -> threading.Thread | None:
    """On an xdist worker with DAI tests to run against a server: make the session and fetch
    a token in a daemon thread. Returns the thread (None when there is nothing to warm)."""

    settings = state.settings
    if not state.is_worker or settings.url is None or settings.dry_run:
        return None
    if not any(uses_dai(item) for item in items):
        return None
    thread = threading.Thread(target=_prepare, args=(state,), name="dai-warm-up", daemon=True)
    thread.start()
    return thread


def _prepare(state: DAIState) -> None:
    try:
        state.session().client.tokens.get()
    except Exception as exc:  # the first DAI test meets it again and reports it
        log.debug("pytest-dai: warming the session up: %s", type(exc).__name__)
