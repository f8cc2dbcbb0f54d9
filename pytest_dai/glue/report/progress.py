"""Progress of DAI runs under pytest-xdist: the workers tell, the controller prints.

A worker's live line (:class:`pytest_dai.glue.report.live.LiveLine`) sends each piece of news (a run
started, with its address; its progress; its end) to the controller over the worker's own xdist
channel, as an event of its own (``dai_progress``). The controller takes these events from the
channel before xdist would (xdist knows only its own events) and queues them with the test
reports, so they are printed by the controller's main loop: once, in the order they happened,
a run's end before its test's result, between xdist's own output.

- In a log (no terminal): ``[gw0] DAI run started: Shop on agent-1: https://.../runs/30834``,
  a ``going`` line every 30 s, an ``ended`` line.
- On a terminal: the running runs' progress, rewritten in place after pytest's text
  (``[DAI gw0 Shop on agent-1: Running, steps 3/8, 12s | gw1 ...]``), cleared before pytest
  writes anything else.

This leans on two xdist internals (the controller's per-worker channel callback and its event
queue). Where they are missing, the controller does not ask for progress and the workers send
none: the tests run as before, without progress.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.glue.base.keys import worker_input
from pytest_dai.glue.report.terminal import TerminalOut

if TYPE_CHECKING:
    from collections.abc import Callable, Generator


__all__ = ["EVENT", "ProgressRelay", "ProgressSender", "progress_sender", "relay_progress"]

#: The event's name on the xdist channel, and the key in ``workerinput`` that asks for it.
EVENT = "dai_progress"
WORKERINPUT_PROGRESS = "dai_progress"
RELAY_NAME = "dai-progress"


class ProgressSender:
    """(Worker) sends progress news to the controller."""

    def __init__(self, send: Callable[..., None], *, tty: bool) -> None:
        self._send = send
        #: The controller's terminal is a terminal (live text) rather than a log (lines).
        self.tty = tty

    def send(self, kind: str, text: str) -> None:
        """``kind`` ``"line"`` (a line of its own) or ``"live"`` (live text; "" clears it)."""
        # The channel may be closing (session interrupted): that news is lost, nothing else.
        with contextlib.suppress(Exception):
            self._send(EVENT, kind=kind, text=text)


def progress_sender(config: pytest.Config) -> ProgressSender | None:
    """(Worker) a sender, when the controller asked for progress; else None."""
    asked = worker_input(config).get(WORKERINPUT_PROGRESS)
    if not isinstance(asked, dict):
        return None
    for plugin in config.pluginmanager.get_plugins():
        send = getattr(plugin, "sendevent", None)
        if type(plugin).__name__ == "WorkerInteractor" and callable(send):
            return ProgressSender(send, tty=bool(asked.get("tty")))
    return None


def relay_progress(config: pytest.Config, node: Any) -> None:
    """(Controller, ``pytest_configure_node``) take ``node``'s progress events and ask it for
    them, if this xdist version lets us; once per session the relay is registered."""
    if config.get_verbosity() < 0:
        return
    relay = config.pluginmanager.get_plugin(RELAY_NAME)
    if relay is None:
        dsession = config.pluginmanager.get_plugin("dsession")
        if dsession is None or not hasattr(dsession, "queue"):
            return
        relay = ProgressRelay(config)
        dsession.worker_dai_progress = relay.show  # DSession calls "worker_" + event name
        config.pluginmanager.register(relay, RELAY_NAME)
    original = getattr(node, "process_from_remote", None)
    putevent = getattr(node, "putevent", None)
    if original is None or putevent is None:
        return

    def process_from_remote(eventcall: object) -> None:
        """(execnet's receiver thread) queue our events with xdist's; the rest to xdist."""
        if isinstance(eventcall, tuple) and len(eventcall) == 2 and eventcall[0] == EVENT:
            putevent((EVENT, {"node": node, **eventcall[1]}))
            return
        original(eventcall)

    node.process_from_remote = process_from_remote  # xdist sets the callback after this hook
    node.workerinput[WORKERINPUT_PROGRESS] = {"tty": relay.out.tty}


class ProgressRelay:
    """(Controller) prints the workers' progress news, in the main loop of xdist."""

    def __init__(self, config: pytest.Config) -> None:
        self.out: TerminalOut = TerminalOut(config)
        #: Live text of each worker with a run going (terminal), by worker id.
        self.live: dict[str, str] = {}

    def show(self, node: Any, kind: str = "line", text: str = "", **_: object) -> None:
        """One event from a worker: print its line, or update the live text."""
        worker = str(getattr(getattr(node, "gateway", None), "id", "gw?"))
        if kind == "live":
            if text:
                self.live[worker] = text
            else:
                self.live.pop(worker, None)
            self._render()
        elif text:
            self._clear()
            self.out.line(f"[{worker}] {text}", fresh=True)
            self._render()

    def _render(self) -> None:
        if not self.live:
            self._clear()
            return
        runs = " | ".join(f"{worker} {text}" for worker, text in sorted(self.live.items()))
        self.out.rewrite(f" [DAI {runs}]")

    def _clear(self) -> None:
        if self.out.shown:
            self.out.rewrite("")

    def _around(self) -> Generator[None, object, object]:
        """Live text off while pytest writes, back on after."""
        self._clear()
        try:
            return (yield)
        finally:
            self._render()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logstart(self) -> Generator[None, object, object]:
        """pytest writes the test id (``-v``): the live text goes after it."""
        return (yield from self._around())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self) -> Generator[None, object, object]:
        """pytest writes the result: the live text goes after it."""
        return (yield from self._around())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logfinish(self) -> Generator[None, object, object]:
        """pytest may write its ``[NN%]`` column: the live text goes after it."""
        return (yield from self._around())

    @pytest.hookimpl(tryfirst=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """A worker is down: its runs are over, and xdist writes a line."""
        self.live.pop(str(getattr(getattr(node, "gateway", None), "id", "gw?")), None)
        self._clear()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        """No live text under the summary."""
        self.live.clear()
        self._clear()

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self) -> None:
        """No live text before pytest's interrupt line (nor the first characters of it that
        the terminal's ``^C`` echo would leave)."""
        self.live.clear()
        self.out.wipe()
