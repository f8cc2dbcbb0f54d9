"""The live line: what a DAI run is doing while its test waits.

On a terminal it is rewritten in place, at most once a second, after whatever pytest has
written on the line. Elsewhere (CI logs) it is a line at the start, one every 30 seconds and
one at the end. Nothing with ``-q``. On a pytest-xdist worker the same news goes to the
controller, which prints it (:mod:`pytest_dai.glue.progress`).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from pytest_dai.glue.escapers import terminal_line
from pytest_dai.glue.keys import is_worker
from pytest_dai.glue.run_label import run_label

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.progress import ProgressSender
    from pytest_dai.lifecycle.session import AnyRun

__all__ = ["LiveLine", "TerminalOut", "describe_progress", "fresh_line"]

TTY_INTERVAL = 1.0
LOG_INTERVAL = 30.0
#: Narrower room than this on the line: the live text is not shown (it would only be noise).
MIN_ROOM = 16
#: What a terminal echoes for Ctrl-C (``^C``), at the cursor.
ECHO_WIDTH = 2


def fresh_line(reporter: pytest.TerminalReporter) -> None:
    """End the line pytest's terminal is on, also where pytest does not know it is on one (the
    result letters of xdist's workers): what is written next starts a line of its own."""
    reporter.ensure_newline()
    if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
        reporter.line("")


def describe_progress(execution: AnyRun) -> str:
    """``model on agent: state, steps 3/8, 12s``; a run queued for an offline agent says so
    (``Queued (agent 'x' is offline)``). The time is the time so far while the run goes and,
    once it has ended, its duration as the summary shows it (the time so far would count the
    wait for the poll that saw the end)."""
    parts = [run_label(execution.kind, execution.model, execution.agent)]
    state = execution.status
    if execution.agent_offline:
        state += f" ({execution.agent_offline})"
    steps = ""
    if execution.steps_total:
        steps = f", steps {execution.steps_done or 0}/{execution.steps_total}"
        if execution.steps_failed:
            steps += f" ({execution.steps_failed} failed)"
    duration = execution.duration if execution.finished else None
    took = f"{execution.elapsed:.0f}s" if duration is None else f"{duration:.1f}s"
    return f"{parts[0]}: {state}{steps}, {took}"


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


class LiveLine:
    """Shows one run's progress on the terminal; call :meth:`update` after every poll.

    On an xdist worker the news goes to the controller instead (when the controller asked
    for it): the run's start with its address, its progress (every second for a terminal,
    every 30 s for a log) and its end."""

    def __init__(self, config: pytest.Config) -> None:
        self._sender: ProgressSender | None = None
        self._out: TerminalOut | None = None
        if is_worker(config):
            from pytest_dai.glue.progress import progress_sender

            self._sender = progress_sender(config)
            self.enabled = self._sender is not None
            self.tty = bool(self._sender is not None and self._sender.tty)
        else:
            self._out = TerminalOut(config)
            self.enabled = self._out.usable and config.get_verbosity() >= 0
            self.tty = bool(self.enabled and self._out.tty)
        self._last = 0.0
        self._started = False

    def update(self, execution: AnyRun, ahead: str = "") -> None:
        """Show the latest state if it is time to (call after every poll, the first included);
        ``ahead``: what the runs started ahead are doing (``; ahead: 3 going, 5 queued``)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not self._started:
            self._started = True
            if not self.tty:
                label = run_label(execution.kind, execution.model, execution.agent)
                self._line(f"DAI run started: {label}: {execution.url}")
                self._last = now
                return
        if self.tty:
            if now - self._last >= TTY_INTERVAL:
                self._live(describe_progress(execution) + ahead)
                self._last = now
        elif now - self._last >= LOG_INTERVAL:
            self._line(f"DAI run going: {describe_progress(execution)}{ahead}")
            self._last = now

    def end(self, execution: AnyRun, *, quiet: bool = False) -> None:
        """The run ended (or the wait was interrupted): clear the live text. ``quiet``: the
        session was interrupted (the run's abort is told once, at the session's end)."""
        if not self.enabled or not self._started:
            return
        if self.tty:
            if quiet and self._out is not None:
                self._out.wipe()  # Ctrl-C: the terminal echoed ^C after the live text
            else:
                self._live("")
        elif not quiet:
            word = "aborted" if execution.aborted and not execution.finished else "ended"
            self._line(f"DAI run {word}: {describe_progress(execution)}")

    def _live(self, progress: str) -> None:
        """Live text (a terminal): ``progress`` shown after pytest's text, or cleared ("")."""
        if self._sender is not None:
            self._sender.send("live", progress)
        elif self._out is not None:
            self._out.rewrite(f" [DAI {progress}]" if progress else "")

    def _line(self, text: str) -> None:
        if self._sender is not None:
            self._sender.send("line", text)
        elif self._out is not None:
            self._out.line(text)
