"""Fixtures and helpers of the plugin tests.

The inner pytest sessions (``pytester``) talk to a DAI simulator on a free port through the
environment (``DAI_URL``, ``DAI_CLIENT_ID``, ``DAI_CLIENT_SECRET``), exactly as a CI job would.

- ``sim``: a simulator with :data:`SCENARIO` on a free port, one per test (xdist-safe);
  ``dai_env`` points the environment at it.
- ``no_dai_env``: no ``DAI_*`` variable at all.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# In-process inner sessions (pytester.runpytest) unload the modules they imported when they
# end. requests must stay loaded in this process, or a second inner session mixes fresh
# requests classes with stale ones ("ValueError: You can only merge into CookieJar").
import requests  # noqa: F401

from pytest_dai.simulator import DAISimulator

EXECUTIONS = "/execution_service/api/v1/executions"
SECRET = "plugin-S3cret-0e9f7d"
CLIENT_ID = "client:dai:agent:plugin-tests"
FAIL_MESSAGE = "Card declined: expected 'Order confirmed' but saw 'Payment failed'"
ERROR_MESSAGE = "Agent lost the connection to the SUT"

#: time_scale 100: a step of 10 simulated seconds takes 0.1 s.
SCENARIO: dict[str, Any] = {
    "credentials": {"client_id": CLIENT_ID, "client_secret": SECRET},
    "time_scale": 100,
    "abort_delay": 0.05,
    "agents": [
        {"id": "agent-1"},
        {"id": "agent-2"},
        {"id": "agent-3"},
        {"id": "agent-4"},
        {"id": "agent-offline", "online": False},
    ],
    "models": [
        {
            "id": "m-pass",
            "name": "Pass",
            "steps": [
                {"name": "Open shop", "duration": 20},
                {"name": "Search", "duration": 15},
                {"name": "Pay", "duration": 15},
            ],
        },
        {
            "id": "m-fail",
            "name": "Fail",
            "steps": [
                {"name": "Open shop", "duration": 10},
                {
                    "name": "Pay by card",
                    "duration": 10,
                    "outcome": "failed",
                    "message": FAIL_MESSAGE,
                },
                {"name": "Confirm", "duration": 10},
            ],
        },
        {
            "id": "m-error",
            "name": "Error",
            "steps": [
                {"name": "Open shop", "duration": 10},
                {"name": "Connect", "duration": 10, "outcome": "error", "message": ERROR_MESSAGE},
                {"name": "Confirm", "duration": 10},
            ],
        },
        {
            "id": "m-cancel",
            "name": "Cancel",
            "final_status": "cancelled",
            "steps": [
                {"name": "Open shop", "duration": 10},
                {"name": "Wait for stock", "duration": 10},
            ],
        },
        {
            "id": "m-slow",
            "name": "Slow",
            "steps": [
                {"name": "Warm up", "duration": 5},
                {"name": "Soak", "duration": 6000},
            ],
        },
    ],
}

#: Options every inner session gets: fast polling, and a JUnit file to read.
JUNIT = "junit.xml"
FAST = ("--dai-poll-interval=0.1", f"--junitxml={JUNIT}")


# --------------------------------------------------------------------------------------------
# Simulators and the environment


def point_env_at(monkeypatch: pytest.MonkeyPatch, simulator: DAISimulator | None) -> None:
    """Remove every ``DAI_*`` variable; then, given a simulator, set URL, client id and secret."""
    for name in list(os.environ):
        if name.startswith("DAI_"):
            monkeypatch.delenv(name)
    if simulator is not None:
        monkeypatch.setenv("DAI_URL", simulator.url)
        monkeypatch.setenv("DAI_CLIENT_ID", simulator.client_id)
        monkeypatch.setenv("DAI_CLIENT_SECRET", simulator.client_secret)


def wait_idle(simulator: DAISimulator, timeout: float = 5.0) -> None:
    """Wait until no run is going on ``simulator``; fail naming the runs left going."""
    if not simulator.wait_for(lambda s: s.running_count() == 0, timeout=timeout):
        left = [
            (ex["model_name"], ex["execution_id"], ex["status"])
            for ex in simulator.executions()
            if ex["ended_at"] is None
        ]
        pytest.fail(f"runs left going on the simulator: {left}")


AGENTS_PATH = "/ai/agents"


def agent_creations(simulator: DAISimulator) -> list[str]:
    """``POST /ai/agents`` requests (on a real DAI server each one CREATES an agent)."""
    return [
        f"{r.method} {r.path} -> {r.status}"
        for r in simulator.request_log()
        if r.method == "POST" and r.path.rstrip("/") == AGENTS_PATH
    ]


@pytest.fixture(autouse=True)
def never_creates_agents() -> Iterator[list[DAISimulator]]:
    """Every simulator started in this process during a plugin test (the test's own and those
    of in-process inner sessions, ``--dai-simulator`` included) must end the test without a
    single ``POST /ai/agents`` in its request log. Per test, so that simulators of other test
    directories (which create agents on purpose) are never watched."""
    started: list[DAISimulator] = []
    original = DAISimulator.start

    def start(self: DAISimulator) -> DAISimulator:
        if self not in started:
            started.append(self)
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DAISimulator, "start", start)
        yield started
    offending = {repr(s): agent_creations(s) for s in started if agent_creations(s)}
    assert not offending, f"POST /ai/agents was sent (it creates agents on DAI): {offending}"


@pytest.fixture
def sim() -> Iterator[DAISimulator]:
    """A simulator with :data:`SCENARIO` on a free port, for this test only (starting one
    takes milliseconds; a test of its own keeps request logs and agents apart)."""
    with DAISimulator(SCENARIO, port=0) as simulator:
        yield simulator
    assert agent_creations(simulator) == [], "POST /ai/agents creates an agent on DAI"


@pytest.fixture
def dai_env(monkeypatch: pytest.MonkeyPatch, sim: DAISimulator) -> Iterator[DAISimulator]:
    """The environment points at the test's simulator. Afterwards no run may be left going
    on it: the plugin ends or aborts every run it started."""
    point_env_at(monkeypatch, sim)
    yield sim
    wait_idle(sim)


@pytest.fixture
def no_dai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``DAI_*`` variable is set."""
    point_env_at(monkeypatch, None)


def closed_port_url() -> str:
    """The URL of a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------------------------
# What the simulator saw


def posts(simulator: DAISimulator) -> list[dict[str, Any]]:
    """Bodies of the start (E1 POST) requests the simulator received."""
    return [
        r.body or {}
        for r in simulator.request_log()
        if r.method == "POST" and r.path.rstrip("/") == EXECUTIONS
    ]


def the_execution(simulator: DAISimulator, model: str) -> dict[str, Any]:
    """The one execution of ``model`` on the simulator."""
    found = [ex for ex in simulator.executions() if ex["model_name"] == model]
    assert len(found) == 1, simulator.executions()
    return found[0]


def running(model: str) -> Any:
    """A ``wait_for`` predicate: a run of ``model`` is running and has been polled since."""

    def predicate(simulator: DAISimulator) -> bool:
        for ex in simulator.executions():
            if ex["model_name"] == model and ex["status"] == "Running":
                return any(
                    r.method == "GET" and r.path == "/ai/runs" and r.time > ex["started_at"]
                    for r in simulator.request_log()
                )
        return False

    return predicate


# --------------------------------------------------------------------------------------------
# Running the inner pytest


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest in this process, with :data:`FAST` options."""
    return pytester.runpytest(*FAST, *args)


def run_subprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner pytest in a process of its own, with :data:`FAST` options."""
    return pytester.runpytest_subprocess(*FAST, *args, timeout=120)


@dataclass
class Interrupted:
    """What an inner pytest interrupted by a signal left: its output, exit code, and when the
    signal was sent (``time.time()``)."""

    output: str
    exit_code: int
    sent_at: float


def signal_mid_run(
    pytester: pytest.Pytester,
    simulator: DAISimulator,
    signum: int,
    *args: str,
    model: str = "Slow",
    again_during_abort: bool = False,
) -> Interrupted:
    """Start the inner pytest in a process of its own, wait until its run of ``model`` is
    running and has been polled, then send ``signum`` to that process (``again_during_abort``:
    and once more as soon as the simulator has seen the first abort request)."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        f"--basetemp={pytester.path / 'basetemp'}",
        *FAST,
        *args,
    ]
    process = pytester.popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=pytester.path,
        # Python's own SIGINT handler, even where this process was started with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        reached = simulator.wait_for(
            lambda s: process.poll() is not None or running(model)(s), timeout=30
        )
        assert reached, f"no run of {model} going"
        assert process.poll() is None, process.communicate()[0].decode(errors="replace")
        sent_at = time.time()
        process.send_signal(signum)
        if again_during_abort:
            assert simulator.wait_for(
                lambda s: process.poll() is not None or bool(s.abort_requests()), timeout=10
            ), "no abort request"
            process.send_signal(signum)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Interrupted(out.decode(errors="replace"), process.returncode, sent_at)


# --------------------------------------------------------------------------------------------
# The JUnit file


@dataclass
class Case:
    """One ``<testcase>`` of pytest's JUnit file."""

    name: str
    #: passed, failure, error or skipped
    outcome: str
    message: str = ""
    text: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    system_out: str = ""


def read_junit(path: Path) -> dict[str, Case]:
    """pytest's JUnit file: its testcases by name."""
    root = ET.parse(path).getroot()
    cases: dict[str, Case] = {}
    for element in root.iter("testcase"):
        case = Case(name=element.get("name", ""), outcome="passed")
        for result in ("failure", "error", "skipped"):
            found = element.find(result)
            if found is not None:
                case.outcome = result
                case.message = found.get("message", "")
                case.text = found.text or ""
                break
        case.properties = {p.get("name", ""): p.get("value", "") for p in element.iter("property")}
        case.system_out = "".join(e.text or "" for e in element.iter("system-out"))
        cases[case.name] = case
    return cases


def junit(pytester: pytest.Pytester) -> dict[str, Case]:
    """The inner session's JUnit file (written with :data:`FAST`)."""
    return read_junit(pytester.path / JUNIT)


def header(result: pytest.RunResult) -> str:
    """The ``dai:`` lines of the report header, joined into one text."""
    return " ".join(line for line in result.outlines if line.startswith("dai: "))


def marked_test(model: str, agent: str = "agent-1", **marker: object) -> str:
    """A test module with one test, ``test_run``, marked ``dai_model(model, agent=...)``."""
    extra = "".join(f", {key}={value!r}" for key, value in marker.items())
    return f"""
        import pytest

        @pytest.mark.dai_model({model!r}, agent={agent!r}{extra})
        def test_run():
            pass
        """
