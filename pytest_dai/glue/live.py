"""The live line: what a DAI run is doing while its test waits.

On a terminal it is rewritten in place, at most once a second, after whatever pytest has
written on the line. Elsewhere (CI logs) it is a line at the start, one every 30 seconds and
one at the end. Nothing on pytest-xdist workers, nothing with ``-q``.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from pytest_dai.lifecycle.execution import Execution

__all__ = ["LiveLine", "describe_progress"]

TTY_INTERVAL = 1.0
LOG_INTERVAL = 30.0


def describe_progress(execution: Execution) -> str:
    """``model on agent: state, steps 3/8, 12s``."""
    parts = [f"{execution.model}" + (f" on {execution.agent}" if execution.agent else "")]
    state = execution.status
    steps = ""
    if execution.steps_total:
        steps = f", steps {execution.steps_done or 0}/{execution.steps_total}"
        if execution.steps_failed:
            steps += f" ({execution.steps_failed} failed)"
    return f"{parts[0]}: {state}{steps}, {execution.elapsed:.0f}s"


class LiveLine:
    """Shows one run's progress on the terminal; call :meth:`update` after every poll."""

    def __init__(self, config: pytest.Config) -> None:
        self._reporter = config.pluginmanager.get_plugin("terminalreporter")
        self._capture = config.pluginmanager.get_plugin("capturemanager")
        self.enabled = (
            self._reporter is not None
            and not hasattr(config, "workerinput")
            and config.get_verbosity() >= 0
        )
        self.tty = bool(self.enabled and getattr(self._reporter, "isatty", False))
        self._shown = ""
        self._last = 0.0
        self._started = False

    def update(self, execution: Execution) -> None:
        """Show the latest state if it is time to (call after every poll, the first included)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not self._started:
            self._started = True
            if not self.tty:
                self._line(f"DAI run started: {describe_progress(execution)} {execution.url}")
                self._last = now
                return
        if self.tty:
            if now - self._last >= TTY_INTERVAL:
                self._rewrite(f" [DAI {describe_progress(execution)}]")
                self._last = now
        elif now - self._last >= LOG_INTERVAL:
            self._line(f"DAI run going: {describe_progress(execution)}")
            self._last = now

    def end(self, execution: Execution, *, quiet: bool = False) -> None:
        """The run ended (or the wait was interrupted): clear the live text. ``quiet``: the
        session was interrupted (the run's abort is told once, at the session's end)."""
        if not self.enabled or not self._started:
            return
        if self.tty:
            self._rewrite("")
        elif not quiet:
            word = "aborted" if execution.aborted and not execution.finished else "ended"
            self._line(f"DAI run {word}: {describe_progress(execution)}")

    def _rewrite(self, text: str) -> None:
        assert self._reporter is not None
        old = len(self._shown)
        # Backspaces keep what pytest wrote before us on this line (the test's path).
        out = "\b" * old + text
        if len(text) < old:
            pad = old - len(text)
            out += " " * pad + "\b" * pad
        with self._uncaptured():
            self._reporter.write(out)
            self._reporter.flush()
        self._shown = text

    def _line(self, text: str) -> None:
        assert self._reporter is not None
        with self._uncaptured():
            self._reporter.write_line(text)

    def _uncaptured(self) -> contextlib.AbstractContextManager[None]:
        """Write past pytest's output capture (as pytest's own live logging does)."""
        if self._capture is None:
            return contextlib.nullcontext()
        return self._capture.global_and_fixture_disabled()  # type: ignore[no-any-return]
