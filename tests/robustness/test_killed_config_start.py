"""A session killed between sending a test configuration's start (E7) and its answer leaves an
intent in the journal, and the next session finds the run that start made and aborts it: no
test-configuration run is left going unseen (issue 13, as for model runs in test_hostile)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from pytest_dai.simulator import DAISimulator

from .hostile import Proxy

START = ("POST", "/task_scheduler_service/api/v1/task_instances/tc-soak")

SCENARIO = {
    "credentials": {"client_id": "client:dai:agent:killed", "client_secret": "s3cret-killed"},
    "time_scale": 1000,
    "abort_delay": 0.05,
    "agents": [{"id": "a1"}],
    "models": [
        {
            "id": "m-long",
            "name": "Long",
            "steps": [{"name": "Warm up", "duration": 100}, {"name": "Soak", "duration": 600_000}],
        }
    ],
    "test_configs": [{"id": "tc-soak", "name": "Soak", "agent": "a1", "runs": [{"model": "Long"}]}],
}

CONFIG_TEST = """
import pytest

@pytest.mark.dai_test_config("Soak")
def test_soak(dai_result):
    pass
"""


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DAISimulator, Proxy]]:
    """The simulator behind a proxy; inner sessions talk to the proxy."""
    with DAISimulator(SCENARIO, port=0) as sim:
        proxy = Proxy(sim.url)
        for name in [name for name in os.environ if name.startswith("DAI_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("DAI_URL", proxy.url)
        monkeypatch.setenv("DAI_CLIENT_ID", sim.client_id)
        monkeypatch.setenv("DAI_CLIENT_SECRET", sim.client_secret)
        yield sim, proxy
        proxy.close()


def inner(pytester: pytest.Pytester) -> subprocess.Popen[bytes]:
    """An inner pytest in its own process group."""
    base = pytester.path / f"basetemp-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "pytest", f"--basetemp={base}", "--dai-poll-interval=0.1"]
    return pytester.popen(
        command, stdin=subprocess.DEVNULL, start_new_session=True, cwd=pytester.path
    )


def finish(process: subprocess.Popen[bytes], timeout: float = 60.0) -> tuple[str, int]:
    """Its output and exit code (its whole group killed if it hangs)."""
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.communicate()
    return (out + err).decode(errors="replace"), process.returncode


def eventually(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_killed_test_config_start_is_reaped_by_the_next_session(
    pytester: pytest.Pytester, proxied: tuple[DAISimulator, Proxy]
) -> None:
    sim, proxy = proxied
    proxy.rules[START] = "hang"  # the start reaches the server; its answer never comes back
    pytester.makepyfile(test_soak=CONFIG_TEST)
    process = inner(pytester)
    assert eventually(proxy.forwarded.is_set), "the start never reached the proxy"
    assert eventually(lambda: sim.running_count() == 1)
    os.killpg(process.pid, signal.SIGKILL)
    finish(process)
    intents = list(pytester.path.glob("**/*.intent.json"))
    assert len(intents) == 1, "the killed session left nothing to reap"
    assert sim.running_count() == 1
    proxy.rules.clear()
    pytester.makepyfile(test_soak="def test_nothing():\n    pass\n")
    output, rc = finish(inner(pytester))
    assert rc == 0, output
    assert eventually(lambda: sim.running_count() == 0), output
    assert "dai: a start of test configuration 'Soak'" in output, output
    assert "aborted with DELETE task_instances/" in output, output
    assert not list(pytester.path.glob("**/*.intent.json"))
