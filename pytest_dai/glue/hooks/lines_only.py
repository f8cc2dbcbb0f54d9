"""A session that prints lines instead of testing (``--dai-list``, ``--dai-reap-orphans-only``):
nothing is collected or run, with or without pytest-xdist, and the exit status says whether
something could not be done."""

from __future__ import annotations

import pytest

__all__ = ["FAILED", "LinesOnlyHooks"]

#: How a line that says something could not be done starts (shown in red).
FAILED = "dai: could not"


class LinesOnlyHooks:
    """Collect nothing, run nothing (also no xdist workers' tests), print :meth:`lines`, then
    exit 1 when :attr:`failed` is set, else 0 (never "no tests collected")."""

    failed = False

    def lines(self) -> list[str]:
        """The lines to print (may set :attr:`failed`)."""
        raise NotImplementedError

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        """Collect nothing."""
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run nothing: print the lines instead."""
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in self.lines():
            if reporter is not None:
                reporter.write_line(line, red=line.startswith(FAILED))
            else:  # pragma: no cover - -p no:terminal
                print(line)
        return True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """0, or 1 when something could not be done."""
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if self.failed else pytest.ExitCode.OK
