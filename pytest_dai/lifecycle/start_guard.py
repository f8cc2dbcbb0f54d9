"""A start that is journalled before it is sent, so that no run is left going unseen.

:meth:`StartGuard.sending` writes the start's intent to the journal, sends the start, and if
no id came back while the start may have created a run anyway, looks for that run and aborts
it (:mod:`pytest_dai.lifecycle.lost_starts`, bounded, Ctrl-C held meanwhile), saying so in the
error or in one notice line. Once the run is known and journalled, :meth:`StartGuard.done`
forgets the intent.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIError
from pytest_dai.lifecycle.lost_starts import may_have_started, recover_lost_start
from pytest_dai.lifecycle.shield import interrupts_held

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pytest_dai.client.calls import Call
    from pytest_dai.client.endpoints import DAIClient
    from pytest_dai.lifecycle.journal import Journal, StartIntent

__all__ = ["StartGuard"]

log = logging.getLogger("pytest_dai")


class StartGuard:
    """Guards the starts of one session: ``journal`` (None: intents kept in memory only),
    ``known()`` the ids of runs that are someone's (never aborted as lost), ``notice`` shows a
    ``dai: ...`` line to the user (a lost start found while no error could carry it)."""

    def __init__(
        self,
        client: DAIClient,
        journal: Journal | None,
        known: Callable[[], set[str]],
        notice: Callable[[str], None],
    ) -> None:
        self.client = client
        self.journal = journal
        self.known = known
        self.notice = notice

    @contextlib.contextmanager
    def sending(self, intent: StartIntent, start: Call) -> Iterator[None]:
        """Journal ``intent``, then run the block that sends ``start``; if it fails, recover
        the run it may have made (see the module docstring) and let the exception go on."""
        self._write(intent)
        try:
            yield
        except BaseException as exc:
            self._lost(intent, start, exc)
            raise

    def done(self, intent: StartIntent) -> None:
        """The start answered and its run is journalled: forget the intent."""
        if self.journal is not None:
            self.journal.remove_intent(intent)

    def _write(self, intent: StartIntent) -> None:
        if self.journal is None:
            return
        try:
            self.journal.record_intent(intent)
        except OSError as exc:
            log.warning("pytest-dai: could not write the run journal: %s", exc)

    def _lost(self, intent: StartIntent, start: Call, exc: BaseException) -> None:
        """The start failed: if it may have started a run anyway, find that run and abort it
        (bounded; Ctrl-C held meanwhile) and say so in the error, or in a notice."""
        if not may_have_started(exc, start):
            self.done(intent)
            return
        with interrupts_held():
            searched, line = recover_lost_start(self.client, intent, self.known())
        if searched:
            self.done(intent)
        if not line:
            return
        if isinstance(exc, DAIError):
            exc.message = f"{exc.message}; {line.removeprefix('dai: ')}"
            exc.args = (exc.message,)
        else:
            self.notice(line)
