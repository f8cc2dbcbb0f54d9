"""Simulators in tests: starting them, waiting on them, and reading what they saw."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from pytest_dai.simulator import DAISimulator

from .wire import AGENTS, EXECUTIONS

Predicate = Callable[[DAISimulator], bool]


class Simulators:
    """Simulators a test starts, all stopped by :meth:`stop_all`; ``default``: the scenario
    of :meth:`start` when it is given none."""

    def __init__(self, default: Callable[[], Any] | None = None) -> None:
        self.default = default
        self.started: list[DAISimulator] = []

    def start(
        self, data: Any = None, *, cls: type[DAISimulator] = DAISimulator, **kwargs: Any
    ) -> DAISimulator:
        """Start a simulator of ``data`` (None: the ``default`` scenario; by default on a free
        port)."""
        if data is None and self.default is not None:
            data = self.default()
        simulator = cls(data, **kwargs)
        self.started.append(simulator.start())
        return simulator

    def stop_all(self) -> None:
        """Stop every simulator started here."""
        for simulator in self.started:
            simulator.stop()


# --------------------------------------------------------------------------------------------
# Waiting


def eventually(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02
) -> bool:
    """Whether ``predicate`` comes true within ``timeout`` seconds (asked every ``interval``)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def is_idle_within(simulator: DAISimulator, timeout: float = 5.0) -> bool:
    """Whether no run is going on ``simulator`` within ``timeout`` (aborts take a moment)."""
    return simulator.wait_for(lambda s: s.running_count() == 0, timeout=timeout)


def wait_idle(simulator: DAISimulator, timeout: float = 5.0) -> None:
    """Wait until no run is going on ``simulator``; fail naming the runs left going."""
    if not is_idle_within(simulator, timeout):
        left = [
            (ex["model_name"], ex["execution_id"], ex["status"])
            for ex in simulator.executions()
            if ex["ended_at"] is None
        ]
        pytest.fail(f"runs left going on the simulator after {timeout} s: {left}")


def running(model: str, *, steps_done: int = 0) -> Predicate:
    """A ``wait_for`` predicate: a run of ``model`` is Running with at least ``steps_done`` steps
    done, and the simulator has been polled since it started (so its waiter is in its wait)."""

    def predicate(simulator: DAISimulator) -> bool:
        for ex in simulator.executions():
            if ex["model_name"] == model and ex["status"] == "Running":
                if ex["steps_done"] < steps_done:
                    return False
                started = (ex["started_at"] or 0) + 0.05
                return any(r.method == "GET" and r.time > started for r in simulator.request_log())
        return False

    return predicate


def wait_running(
    simulator: DAISimulator,
    process: subprocess.Popen[bytes],
    model: str,
    *,
    steps_done: int = 0,
    also: Callable[[], bool] = lambda: True,
    timeout: float = 30.0,
) -> bool:
    """Wait until :func:`running` holds (and ``also()``), or the inner pytest ``process`` has
    ended; whether the run is going with the process still alive."""
    predicate = running(model, steps_done=steps_done)
    return (
        simulator.wait_for(
            lambda s: process.poll() is not None or (also() and predicate(s)), timeout=timeout
        )
        and process.poll() is None
    )


# --------------------------------------------------------------------------------------------
# What the simulator saw


def starts(simulator: DAISimulator) -> list[dict[str, Any]]:
    """The bodies of the start (E1 POST) requests the simulator received."""
    return [
        r.body or {}
        for r in simulator.request_log()
        if r.method == "POST" and r.path.rstrip("/") == EXECUTIONS
    ]


def agent_creations(simulator: DAISimulator) -> list[str]:
    """``POST /ai/agents`` requests (on a real DAI server each one CREATES an agent)."""
    return [
        f"{r.method} {r.path} -> {r.status}"
        for r in simulator.request_log()
        if r.method == "POST" and r.path.rstrip("/") == AGENTS
    ]


def statuses(simulator: DAISimulator) -> list[str]:
    """The status of every execution on the simulator, oldest first."""
    return [str(ex["status"]) for ex in simulator.executions()]


def the_execution(simulator: DAISimulator, model: str) -> dict[str, Any]:
    """The one execution of ``model`` on the simulator."""
    found = [ex for ex in simulator.executions() if ex["model_name"] == model]
    assert len(found) == 1, simulator.executions()
    return found[0]


def closed_port_url() -> str:
    """The URL of a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
