"""Reaping: the runs that earlier sessions on this host started and left going when they were
killed (their process is gone), found in the journal and aborted; and the runs that starts a
killed session sent without an answer may have created (:mod:`~pytest_dai.lifecycle.lost_starts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIError
from pytest_dai.lifecycle.journal import JournalRefusedError, pid_alive
from pytest_dai.lifecycle.lost_starts import recover_lost_start
from pytest_dai.lifecycle.test_config_support import reap_test_config

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from pytest_dai.lifecycle.journal import Journal, JournalEntry
    from pytest_dai.lifecycle.session import DAISession


def reap_orphans(
    journal: Journal, url: str, session: Callable[[], DAISession], gone: Collection[int] = ()
) -> tuple[list[JournalEntry], list[str]]:
    """Abort the runs of ``url`` left by killed sessions: (the runs aborted, the lines that tell
    of them and of those that could not be). ``session`` is asked only when there is one.

    ``gone``: process ids known to be down even if they still look alive (a crashed xdist
    worker may not have finished exiting when the controller hears of it)."""

    def alive(pid: int, start: str | None) -> bool:
        return pid not in gone and pid_alive(pid, start)

    try:
        journal.check()
    except JournalRefusedError as exc:
        return [], [f"dai: {exc}"]
    lines = _reap_intents(journal, url, session, alive)
    reaped: list[JournalEntry] = []
    failed: list[str] = []
    for entry in journal.orphans(url, alive=alive):
        try:
            if entry.kind == "test_config":
                told = reap_test_config(session().test_config_api, entry)
                lines.append(f"dai: {entry.describe()}: {told}")
            else:
                session().client.abort_execution(entry.execution_id)
        except DAIError as exc:
            failed.append(f"{entry.describe()}: {exc}")
            continue
        journal.remove(entry.execution_id, pid=entry.pid)
        reaped.append(entry)
    if reaped:
        runs = "run" if len(reaped) == 1 else "runs"
        lines.append(
            f"dai: aborted {len(reaped)} {runs} left by an earlier, killed session: "
            + "; ".join(entry.describe() for entry in reaped)
        )
    lines.extend(f"dai: could not abort a run left by a killed session: {line}" for line in failed)
    return reaped, lines


def _reap_intents(
    journal: Journal,
    url: str,
    session: Callable[[], DAISession],
    alive: Callable[[int, str | None], bool],
) -> list[str]:
    """Starts that a killed session sent without getting an answer: find and abort the runs
    they may have created; the lines that tell of them."""
    intents = journal.orphan_intents(url, alive=alive)
    if not intents:
        return []  # (the usual case: no request made)
    try:
        client = session().client
    except DAIError as exc:
        return [f"dai: could not look for runs of lost starts: {exc}"]
    lines = []
    known = {entry.execution_id for entry in journal.entries()}
    for intent in intents:
        searched, line = recover_lost_start(client, intent, known)
        if searched:
            journal.remove_intent(intent)
        if line:
            lines.append(line)
    return lines
