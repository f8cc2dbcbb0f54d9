"""``--dai-reap-orphans-only``: abort the runs left going by killed sessions, say so, run nothing.

One line per run aborted (or that could not be aborted), then a total; the exit status is 1 when
a run may still be going (a CI "always" step goes red), 0 otherwise. Nothing is collected or run,
with or without pytest-xdist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.glue.hooks.lines_only import FAILED, LinesOnlyHooks

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.journal import JournalEntry

__all__ = ["ReapOnlyHooks", "reap_only_lines"]

#: The one line :func:`~pytest_dai.lifecycle.reaping.reap_orphans` sums its runs up in
#: (replaced by a line per run).
_SUMMED = "left by an earlier, killed session: "


def reap_only_lines(reaped: list[JournalEntry], lines: list[str]) -> tuple[list[str], bool]:
    """The lines to print for runs ``reaped`` and the state's ``lines``, and whether some run
    could not be aborted (or the journal not read)."""
    out = [f"dai: aborted {entry.describe()}" for entry in reaped if entry.kind != "test_config"]
    out += [line for line in lines if _SUMMED not in line]
    failed = sum(1 for line in lines if line.startswith(FAILED))
    runs = "run" if len(reaped) == 1 else "runs"
    total = f"dai: aborted {len(reaped)} {runs} left by an earlier, killed session"
    if failed:
        total += f"; {failed} could not be aborted or looked for (see above)"
    elif not reaped:
        total = "dai: no runs left by killed sessions"
    return [*out, total], bool(failed)


class ReapOnlyHooks(LinesOnlyHooks):
    """Registered by ``pytest_sessionstart`` after reaping: collect nothing, run nothing, print
    the lines, exit 1 when a run may still be going, else 0."""

    def __init__(self, state: DAIState, reaped: list[JournalEntry]) -> None:
        self._lines, self.failed = reap_only_lines(reaped, state.reap_lines)
        state.reap_lines = []  # printed here, not in the report header (absent with -q)

    def lines(self) -> list[str]:
        """A line per run aborted (or not), then the total."""
        return self._lines
