"""Writing on pytest's terminal past its bookkeeping and output capture: the live line's text
after what pytest wrote on the line, or lines of their own (also the xdist controller's relay of
the workers' news, :mod:`pytest_dai.glue.report.progress`)."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from pytest_dai.glue.base.keys import is_worker
from pytest_dai.glue.report.escapers import terminal_line

if TYPE_CHECKING:
    import pytest

#: Narrower room than this on the line: the live text is not shown (it would only be noise).
MIN_ROOM = 16
#: What a terminal echoes for Ctrl-C (``^C``), at the cursor.
ECHO_WIDTH = 2


log = logging.getLogger("pytest_dai")


def notice(config: pytest.Config, line: str) -> None:
    """Show one ``dai: ...`` line on the terminal now (past output capture); on an xdist
    worker, or without a terminal, as a warning in the log."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or is_worker(config):
        log.warning("pytest-dai: %s", line.removeprefix("dai: "))
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        fresh_line(reporter)
        reporter.write_line(line, yellow=True)


def fresh_line(reporter: pytest.TerminalReporter) -> None:
    """End the line pytest's terminal is on, also where pytest does not know it is on one (the
    result letters of xdist's workers): what is written next starts a line of its own."""
    reporter.ensure_newline()
    if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
        reporter.line("")


class TerminalOut:
    """Writes on pytest's terminal without breaking its bookkeeping: live text after what pytest
    wrote on the line (:meth:`rewrite`), or lines of their own (:meth:`line`)."""

    def __init__(self, config: pytest.Config) -> None:
        self._reporter = config.pluginmanager.get_plugin("terminalreporter")
        self._capture = config.pluginmanager.get_plugin("capturemanager")
        self.tty = bool(getattr(self._reporter, "isatty", False))
        self._shown = ""

    @property
    def usable(self) -> bool:
        """There is a terminal reporter to write with."""
        return self._reporter is not None

    @property
    def shown(self) -> bool:
        """Live text is on the line now."""
        return bool(self._shown)

    def rewrite(self, text: str) -> None:
        """Show ``text`` after what pytest has written on the line, replacing what we showed.

        Backspaces keep pytest's text (the test's path and its results so far). pytest's
        terminal writer counts the width of the current line to pad its ``[NN%]`` column;
        it would count our text (and backspaces) too, so its count is put back as it was:
        once the live text is cleared, the line is exactly what pytest wrote. The text is cut
        to fit the line (a wrapped line cannot be backspaced over)."""
        if self._reporter is None:
            return
        text = terminal_line(text)
        writer = getattr(self._reporter, "_tw", None)
        if text:
            used = getattr(writer, "width_of_current_line", 0)
            # (room is kept for a ^C echo too: a wrapped line cannot be wiped)
            room = int(getattr(writer, "fullwidth", 80)) - int(used) - 1 - ECHO_WIDTH
            if room < MIN_ROOM:
                text = ""
            elif len(text) > room:
                text = text[: room - 4] + "...]"
        old = len(self._shown)
        if not text and not old:
            return
        out = "\b" * old + text
        if len(text) < old:
            pad = old - len(text)
            out += " " * pad + "\b" * pad
        saved = getattr(writer, "_current_line", None)
        with self._uncaptured():
            self._reporter.write(out)
            self._reporter.flush()
        if saved is not None:
            writer._current_line = saved  # type: ignore[union-attr]
        self._shown = text

    def wipe(self) -> None:
        """Clear the live text after a Ctrl-C. The terminal echoed ``^C`` after it, so the
        cursor is no longer where :meth:`rewrite` left it and backspaces would leave the
        text's first characters (``test_long.py  [``): the line is written again from its
        start instead, pytest's text, then blanks over ours and the echo, then pytest's text
        once more (the cursor where pytest expects it)."""
        if self._reporter is None or not self._shown:
            return
        writer = getattr(self._reporter, "_tw", None)
        saved = getattr(writer, "_current_line", None)
        if saved is None:
            self.rewrite("")
            return
        used = int(getattr(writer, "width_of_current_line", len(saved)))
        room = int(getattr(writer, "fullwidth", 80)) - used - 1
        pad = max(min(len(self._shown) + ECHO_WIDTH, room), 0)
        with self._uncaptured():
            self._reporter.write("\r" + saved + " " * pad + "\r" + saved)
            self._reporter.flush()
        writer._current_line = saved  # type: ignore[union-attr]
        self._shown = ""

    def line(self, text: str, *, fresh: bool = False) -> None:
        """A line of its own (CI logs). pytest's idea of the current line (the file whose
        results it is writing, or the test id with ``-v``) is kept, so it goes on with the
        results on the next line instead of writing the file name or test id again.

        ``fresh`` (under xdist, where pytest starts each result line anew): pytest is told the
        line is done, so it does not end it again with an empty line."""
        if self._reporter is None:
            return
        text = terminal_line(text)
        writer = getattr(self._reporter, "_tw", None)
        with self._uncaptured():
            if getattr(writer, "width_of_current_line", 1) != 0:
                self._reporter.line("")
            if fresh and getattr(self._reporter, "verbosity", 0) > 0:
                # pytest -v under xdist writes a test id at its start after ending the line it
                # is on, empty or not: the line is left open, as pytest leaves its own result
                # lines there, for pytest to end when it writes next (no blank line).
                self._reporter.write(text, flush=True)
                self._reporter.currentfspath = -2
                return
            self._reporter.line(text)
        if fresh and getattr(self._reporter, "currentfspath", None) is not None:
            self._reporter.currentfspath = None

    def _uncaptured(self) -> contextlib.AbstractContextManager[None]:
        """Write past pytest's output capture (as pytest's own live logging does)."""
        if self._capture is None:
            return contextlib.nullcontext()
        return self._capture.global_and_fixture_disabled()  # type: ignore[no-any-return]
