"""interrupts_held: a Ctrl-C or SIGTERM during an abort waits for the abort, a second one
does not."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from pytest_dai.lifecycle.shield import interrupts_held


class Terminated(Exception):
    pass


@pytest.fixture(autouse=True)
def python_sigint() -> Iterator[None]:
    """Python's own SIGINT handler, whatever the process running the tests was given."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def sigterm_raises() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def held_block(steps: list[str], *signals: int) -> None:
    """Send ``signals`` to this process inside interrupts_held, noting each step reached."""
    with interrupts_held():
        for signum in signals:
            os.kill(os.getpid(), signum)
            steps.append(f"after {signal.Signals(signum).name}")
    steps.append("after the block")


def test_a_signal_is_held_until_the_block_ends_then_delivered() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        held_block(steps, signal.SIGINT)
    assert steps == ["after SIGINT"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_goes_to_the_handler_it_had(sigterm_raises: None) -> None:
    steps: list[str] = []
    with pytest.raises(Terminated):
        held_block(steps, signal.SIGTERM)
    assert steps == ["after SIGTERM"]


def test_a_second_signal_is_delivered_at_once() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        held_block(steps, signal.SIGINT, signal.SIGINT)
    assert steps == ["after SIGINT"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_signal_no_change() -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    with interrupts_held():
        pass
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_outside_the_main_thread_it_does_nothing() -> None:
    seen: list[object] = []

    def worker() -> None:
        with interrupts_held():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]
