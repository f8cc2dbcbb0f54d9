"""``--dai-reap-orphans-only``: abort the runs left going by killed sessions, say so, run nothing.

One line per run aborted (or that could not be aborted), then a total; the exit status is 1 when
a run may still be going (a CI "always" step goes red), 0 otherwise. Nothing is collected or run,
with or without pytest-xdist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.journal import JournalEntry

__all__ = ["ReapOnlyHooks", "reap_only_lines"]

#: The one line :func:`~pytest_dai.lifecycle.reaping.reap_orphans` sums its runs up in
#: (replaced by a line per run).
_SUMMED = "left by an earlier, killed session: "
_FAILED = "dai: could not"


def reap_only_lines(reaped: list[JournalEntry], lines: list[str]) -> tuple[list[str], bool]:
    """The lines to print for runs ``reaped`` and the state's ``lines``, and whether some run
    could not be aborted (or the journal not read)."""
    out = [f"dai: aborted {entry.describe()}" for entry in reaped if entry.kind != "test_config"]
    out += [line for line in lines if _SUMMED not in line]
    failed = sum(1 for line in lines if line.startswith(_FAILED))
    runs = "run" if len(reaped) == 1 else "runs"
    total = f"dai: aborted {len(reaped)} {runs} left by an earlier, killed session"
    if failed:
        total += f"; {failed} could not be aborted or looked for (see above)"
    elif not reaped:
        total = "dai: no runs left by killed sessions"
    return [*out, total], bool(failed)


class ReapOnlyHooks:
    """Registered by ``pytest_sessionstart`` after reaping: collect nothing, run nothing, print
    the lines, exit 0 or 1."""

    def __init__(self, state: DAIState, reaped: list[JournalEntry]) -> None:
        self.lines, self.failed = reap_only_lines(reaped, state.reap_lines)
        state.reap_lines = []  # printed here, not in the report header (absent with -q)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        """Collect nothing."""
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run nothing (also no xdist workers' tests): print the lines instead."""
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in self.lines:
            if reporter is not None:
                reporter.write_line(line, red=line.startswith(_FAILED))
            else:  # pragma: no cover - -p no:terminal
                print(line)
        return True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """1 when a run may still be going, else 0 (not "no tests collected")."""
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if self.failed else pytest.ExitCode.OK
