"""The inner pytest: options every inner session gets, and inner sessions in processes of
their own (each in its own process group, as a terminal starts a job) that tests signal, wait
for and kill."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import pytest

from pytest_dai.simulator import DAISimulator

from .simulators import wait_running

#: Options every inner session gets: fast polling.
FAST = ("--dai-poll-interval=0.05",)


def default_sigint() -> None:
    """Python's own SIGINT handler, even where this process was started with SIGINT ignored (a
    shell starts background jobs so, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen(
    pytester: pytest.Pytester,
    *args: str,
    stdout: IO[Any] | int = subprocess.PIPE,
    stderr: IO[Any] | int = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start ``python -m pytest *args`` in ``pytester``'s folder, in a process group of its
    own (its xdist workers too: a signal can go to all of it, as Ctrl-C in a terminal does, and
    a failed test can kill all of it), with a temporary folder of its own."""
    base = pytester.path / f"basetemp-{time.monotonic_ns()}"
    cmd = [sys.executable, "-m", "pytest", f"--basetemp={base}", *args]
    return pytester.popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        cwd=pytester.path,
        preexec_fn=default_sigint,
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL what is left of an inner pytest's process group (it is its group's leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.communicate()


def finish(process: subprocess.Popen[bytes], timeout: float = 60.0) -> tuple[str, int]:
    """Wait for an inner pytest (killing its group if it hangs); its output and exit code."""
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        kill_group(process)
    return ((out or b"") + (err or b"")).decode(errors="replace"), process.returncode


def signal_when_running(
    process: subprocess.Popen[bytes],
    simulator: DAISimulator,
    model: str,
    signum: int,
    *,
    group: bool = False,
    steps_done: int = 0,
    also: Callable[[], bool] = lambda: True,
    timeout: float = 30.0,
) -> float:
    """Once a run of ``model`` is going and polled (see :func:`harness.simulators.running`;
    and ``also()``), send ``signum`` to the inner pytest (``group``: to its process group, as
    Ctrl-C in a terminal does); when it was sent (``time.time()``)."""
    reached = wait_running(
        simulator, process, model, steps_done=steps_done, also=also, timeout=timeout
    )
    assert process.poll() is None, f"the inner pytest ended before the signal: {output(process)}"
    assert reached, f"no run of {model} going: {simulator.executions()}"
    sent_at = time.time()
    if group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    return sent_at


def output(process: subprocess.Popen[bytes]) -> str:
    """What an ended inner pytest printed to its pipes (empty where it wrote elsewhere)."""
    out, err = process.communicate()
    return ((out or b"") + (err or b"")).decode(errors="replace")
