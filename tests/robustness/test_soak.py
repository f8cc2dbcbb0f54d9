"""Soak: many runs through faults a client can ride out, with no false failure and no run left.

Twenty short model runs (inner ``-n 2``) against a simulator whose tokens live 2 s, that fails
20 % of requests with 429/500/502/503/504 (``Retry-After: 0`` on 429 and 503) and drops 3 % of
connections, with ``--dai-request-retries 8 --dai-backoff-factor 0.05``: every test passes and
no run is left going. And a server restart in the middle of two runs does not fail them.

On purpose, the client never sends a start (E1, a POST) again after a 500/502/504 or a dropped
connection: the server may have started the run, and a second start would start a second run
(see ``pytest_dai.client.http.StartSafeRetry``). Those are faults no client can safely ride
out, so for E1 :class:`StartSafeFaults` turns them into what a server sends when it did
nothing (a 5xx into 503, a drop into 429); every other endpoint gets them all. The simulator's
``fault_paths`` narrows where faults apply, not which ones, hence the subclass.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from harness.inner import FAST, finish, kill_group, popen
from harness.scenarios import changed
from harness.simulators import is_idle_within, statuses
from harness.wire import EXECUTIONS

from pytest_dai.simulator import DAISimulator

from .support import SCENARIO, journal_files

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = pytest.mark.slow

RUNS = 20
INJECTED = frozenset({429, 500, 502, 503, 504})


def counts(output: str) -> dict[str, int]:
    """The outcome counts of an inner session's last line: {"passed": 20, "failed": 1}."""
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?)", output)}


class StartSafeFaults(DAISimulator):
    """The simulator, with the faults on E1 limited to 429 and 503 (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        decide = self._state.fault_action  # the simulator's own decision, then narrowed

        def fault_action(path: str, execution: str | None = None) -> str | int | None:
            action = decide(path, execution)
            if path == EXECUTIONS and action is not None:
                return 429 if action == "drop" else 503 if action in (500, 502, 504) else action
            return action

        self._state.fault_action = fault_action  # type: ignore[method-assign]


SOAK_MODULE = f"""
import pytest

@pytest.mark.parametrize(
    "n",
    [
        pytest.param(n, marks=pytest.mark.dai_model("Soak", agent=f"a{{n % 8 + 1}}"))
        for n in range({RUNS})
    ],
)
def test_soak(n, dai_execution):
    assert dai_execution.passed
    assert dai_execution.steps_failed == 0
"""

#: Four steps of 0.2 s; a medium one of 3 s for the restart.
MODELS = [
    {
        "id": "m-soak",
        "name": "Soak",
        "steps": [{"name": f"Step {n}", "duration": 200} for n in range(1, 5)],
    },
    {
        "id": "m-medium",
        "name": "Medium",
        "steps": [{"name": f"Step {n}", "duration": 750} for n in range(1, 5)],
    },
]


def test_soak_through_faults_and_short_tokens(
    pytester: pytest.Pytester,
    make_sim: Callable[..., DAISimulator],
    record_row: Callable[..., None],
) -> None:
    sim = make_sim(changed(SCENARIO, models=MODELS, token_lifetime=2), cls=StartSafeFaults)
    sim.set_faults(
        error_rate=0.2,
        error_statuses=sorted(INJECTED),
        retry_after=0,
        drop_rate=0.03,
        seed=20261128,
    )
    pytester.makepyfile(test_soak=SOAK_MODULE)

    started = time.monotonic()
    process = popen(
        pytester,
        *FAST,
        "-n",
        "2",
        "--dai-request-retries=8",
        "--dai-backoff-factor=0.05",
        "test_soak.py",
    )
    try:
        # Twice, every token is revoked at once (as by a server restart with a new key): the
        # calls that get a 401 fetch a fresh token and are sent once more.
        for at in (3.0, 6.0):
            sim.wait_for(lambda s, at=at: time.monotonic() - started >= at, timeout=at)
            sim.expire_tokens()
        output, rc = finish(process)
    finally:
        kill_group(process)
    elapsed = time.monotonic() - started
    sim.clear_faults()

    idle = is_idle_within(sim)
    log = sim.request_log()
    codes = Counter(record.status for record in log)
    outcomes = counts(output)
    record_row(
        "soak",
        case="20 runs, faults",
        runs=len(sim.executions()),
        passed=outcomes.get("passed", 0),
        failures=sum(n for word, n in outcomes.items() if word != "passed"),
        left_going=sim.running_count(),
        requests=len(log),
        token_requests=sim.token_requests(),
        tokens=len(sim.issued_tokens()),
        faults_5xx_429=sum(codes[code] for code in INJECTED),
        drops=codes[0],
        status_401=codes[401],
        e1_faults=sum(1 for r in log if r.path == EXECUTIONS and r.status in INJECTED),
        seconds=round(elapsed, 1),
    )

    assert rc == 0, output
    assert outcomes == {"passed": RUNS}, output
    assert idle, sim.executions()
    assert statuses(sim) == ["Passed"] * RUNS
    assert journal_files(pytester.path) == []
    # The faults did happen, on every kind of request, and tokens did expire.
    assert sum(codes[code] for code in INJECTED) >= 30, codes
    assert codes[0] >= 3, codes
    assert len(sim.issued_tokens()) >= 4, sim.issued_tokens()
    assert codes[401] >= 1, codes


RESTART_MODULE = """
import pytest

@pytest.mark.dai_model("Medium", agent="a1")
def test_one(dai_execution):
    assert dai_execution.passed

@pytest.mark.dai_model("Medium", agent="a2")
def test_two(dai_execution):
    assert dai_execution.passed
"""


def test_server_restart_mid_run_fails_no_run(
    pytester: pytest.Pytester,
    make_sim: Callable[..., DAISimulator],
    record_row: Callable[..., None],
) -> None:
    sim = make_sim(changed(SCENARIO, models=MODELS))
    pytester.makepyfile(test_restart=RESTART_MODULE)
    process = popen(pytester, *FAST, "-n", "2", "test_restart.py")
    try:
        both = sim.wait_for(lambda s: statuses(s) == ["Running", "Running"], timeout=30)
        assert both, sim.executions()
        sim.stop()
        time.sleep(1)
        sim.start()
        output, rc = finish(process)
    finally:
        kill_group(process)

    idle = is_idle_within(sim)
    record_row(
        "soak",
        case="restart mid-run",
        runs=len(sim.executions()),
        passed=counts(output).get("passed", 0),
        failures=sum(n for word, n in counts(output).items() if word != "passed"),
        left_going=sim.running_count(),
        requests=len(sim.request_log()),
        token_requests=sim.token_requests(),
        tokens=len(sim.issued_tokens()),
    )
    assert rc == 0, output
    assert "2 passed" in output, output
    assert idle
    assert statuses(sim) == ["Passed", "Passed"]
