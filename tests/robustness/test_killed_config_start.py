"""A session killed between sending a test configuration's start (E7) and its answer leaves an
intent in the journal, and the next session finds the run that start made and aborts it: no
test-configuration run is left going unseen (issue 13, as for model runs in test_hostile)."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
from harness.inner import FAST, finish, popen
from harness.scenarios import changed
from harness.simulators import eventually

from pytest_dai.simulator import DAISimulator

from .hostile import Proxy
from .support import SCENARIO

START = ("POST", "/task_scheduler_service/api/v1/task_instances/tc-soak")

#: The robustness scenario (its "Long" model runs for 10 minutes) with a test configuration.
TEST_CONFIG_SCENARIO = changed(
    SCENARIO,
    test_configs=[{"id": "tc-soak", "name": "Soak", "agent": "a1", "runs": [{"model": "Long"}]}],
)

CONFIG_TEST = """
import pytest

@pytest.mark.dai_test_config("Soak")
def test_soak(dai_result):
    pass
"""


@pytest.fixture
def proxied_scenario() -> dict[str, Any]:
    """The simulator behind the proxy has the test configuration."""
    return TEST_CONFIG_SCENARIO


@pytest.mark.slow
def test_a_killed_test_config_start_is_reaped_by_the_next_session(
    pytester: pytest.Pytester, proxied: tuple[DAISimulator, Proxy]
) -> None:
    sim, proxy = proxied
    proxy.rules[START] = "hang"  # the start reaches the server; its answer never comes back
    pytester.makepyfile(test_soak=CONFIG_TEST)
    process = popen(pytester, *FAST)
    assert eventually(proxy.forwarded.is_set, timeout=20), "the start never reached the proxy"
    assert eventually(lambda: sim.running_count() == 1, timeout=20)
    os.killpg(process.pid, signal.SIGKILL)
    finish(process)
    intents = list(pytester.path.glob("**/*.intent.json"))
    assert len(intents) == 1, "the killed session left nothing to reap"
    assert sim.running_count() == 1
    proxy.rules.clear()
    pytester.makepyfile(test_soak="def test_nothing():\n    pass\n")
    output, rc = finish(popen(pytester, *FAST))
    assert rc == 0, output
    assert eventually(lambda: sim.running_count() == 0, timeout=20), output
    assert "dai: a start of test configuration 'Soak'" in output, output
    assert "aborted with DELETE task_instances/" in output, output
    assert not list(pytester.path.glob("**/*.intent.json"))
