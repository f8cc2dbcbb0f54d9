"""Reaping for this session (``dai_reap_orphans``): the lifecycle's
:func:`~pytest_dai.lifecycle.reaping.reap_orphans` on this process's journal and server, its
lines kept on the state for the report header."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection

    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.journal import JournalEntry


def reap_left_runs(state: DAIState, gone: Collection[int] = ()) -> list[JournalEntry]:
    """Abort the runs earlier, killed sessions left going on this server; their lines go to
    :attr:`DAIState.reap_lines`. ``gone``: process ids known to be down."""
    if state.settings.url is None:
        return []
    from pytest_dai.lifecycle.reaping import reap_orphans

    reaped, lines = reap_orphans(state.journal, state.settings.url, state.session, gone)
    state.reap_lines.extend(lines)
    return reaped
