"""The live line: what a DAI run is doing while its test waits.

On a terminal it is rewritten in place, at most once a second, after whatever pytest has
written on the line. Elsewhere (CI logs) it is a line at the start, one every 30 seconds and
one at the end. Nothing with ``-q``. On a pytest-xdist worker the same news goes to the
controller, which prints it (:mod:`pytest_dai.glue.report.progress`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pytest_dai.glue.base.keys import is_worker
from pytest_dai.glue.report.progress import progress_sender
from pytest_dai.glue.report.run_label import run_label
from pytest_dai.glue.report.terminal import TerminalOut

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.report.progress import ProgressSender
    from pytest_dai.lifecycle.session import AnyRun

__all__ = ["LiveLine", "describe_progress"]

TTY_INTERVAL = 1.0
LOG_INTERVAL = 30.0


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


class LiveLine:
    """Shows one run's progress on the terminal; call :meth:`update` after every poll.

    On an xdist worker the news goes to the controller instead (when the controller asked
    for it): the run's start with its address, its progress (every second for a terminal,
    every 30 s for a log) and its end."""

    def __init__(self, config: pytest.Config) -> None:
        self._sender: ProgressSender | None = None
        self._out: TerminalOut | None = None
        if is_worker(config):
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
