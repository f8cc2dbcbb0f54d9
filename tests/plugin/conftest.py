"""Fixtures and helpers of the plugin tests.

The inner pytest sessions (``pytester``) talk to a DAI simulator on a free port through the
environment (``DAI_URL``, ``DAI_CLIENT_ID``, ``DAI_CLIENT_SECRET``), exactly as a CI job would.

- ``sim``: a simulator with :data:`SCENARIO` on a free port, one per test (xdist-safe);
  ``dai_env`` points the environment at it.
- ``no_dai_env``: no ``DAI_*`` variable at all.
"""

from __future__ import annotations

import subprocess
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
from harness import inner
from harness.env import point_env_at
from harness.scenarios import agents, changed, model, scenario, step, steps
from harness.simulators import agent_creations, wait_idle

from pytest_dai.simulator import DAISimulator

SECRET = "plugin-S3cret-0e9f7d"
CLIENT_ID = "client:dai:agent:plugin-tests"
FAIL_MESSAGE = "Card declined: expected 'Order confirmed' but saw 'Payment failed'"
ERROR_MESSAGE = "Agent lost the connection to the SUT"

#: time_scale 1000: a step of 10 simulated seconds takes 0.01 s (Pass takes 0.05 s, Slow a
#: minute).
SCENARIO: dict[str, Any] = scenario(
    CLIENT_ID,
    SECRET,
    time_scale=1000,
    agents=[*agents("agent-", 4), {"id": "agent-offline", "online": False}],
    models=[
        model("m-pass", "Pass", step("Open shop", 20), step("Search", 15), step("Pay", 15)),
        model(
            "m-fail",
            "Fail",
            step("Open shop", 10),
            step("Pay by card", 10, "failed", FAIL_MESSAGE),
            step("Confirm", 10),
        ),
        model(
            "m-error",
            "Error",
            step("Open shop", 10),
            step("Connect", 10, "error", ERROR_MESSAGE),
            step("Confirm", 10),
        ),
        model(
            "m-cancel",
            "Cancel",
            *steps(10, "Open shop", "Wait for stock"),
            final_status="cancelled",
        ),
        model("m-slow", "Slow", step("Warm up", 50), step("Soak", 60000)),
    ],
)

#: :data:`SCENARIO` at a tenth of its pace: Pass takes half a second, long enough for the live
#: line and the progress lines the terminal tests look for.
LEISURELY = changed(SCENARIO, time_scale=100)

#: Options every inner session gets: fast polling, and a JUnit file to read.
JUNIT = "junit.xml"
FAST = (*inner.FAST, f"--junitxml={JUNIT}")


# --------------------------------------------------------------------------------------------
# Simulators and the environment


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


def simulator_of(data: dict[str, Any]) -> Iterator[DAISimulator]:
    """A simulator of ``data`` on a free port while the generator runs; no agent created."""
    with DAISimulator(data, port=0) as simulator:
        yield simulator
    assert agent_creations(simulator) == [], "POST /ai/agents creates an agent on DAI"


@pytest.fixture
def sim() -> Iterator[DAISimulator]:
    """A simulator with :data:`SCENARIO` on a free port, for this test only (starting one
    takes milliseconds; a test of its own keeps request logs and agents apart)."""
    yield from simulator_of(SCENARIO)


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
    process = inner.popen(pytester, *FAST, *args, stderr=subprocess.STDOUT)
    try:
        sent_at = inner.signal_when_running(process, simulator, model, signum)
        if again_during_abort:
            assert simulator.wait_for(
                lambda s: process.poll() is not None or bool(s.abort_requests()), timeout=10
            ), "no abort request"
            process.send_signal(signum)
        out, _ = process.communicate(timeout=30)
    finally:
        inner.kill_group(process)
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
