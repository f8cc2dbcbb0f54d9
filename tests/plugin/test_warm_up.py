"""An xdist worker gets its DAI session ready (the client imported, a token fetched) while the
controller schedules, instead of in its first DAI test."""

from __future__ import annotations

import json

import pytest

from pytest_dai.simulator import DAISimulator

from .conftest import run_subprocess

#: Inner sessions in processes of their own, signals, soaks: see CONTRIBUTING.md.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("dai_env")]

#: Each worker waits 1 s after its collection (as if the controller were slow to schedule)
#: and notes when each test's setup began.
CONFTEST = """
import json, os, time

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    if hasattr(session.config, "workerinput"):
        time.sleep(1.0)


def pytest_runtest_setup(item):
    with open(f"setup-{os.getpid()}.json", "a") as out:
        out.write(json.dumps({"test": item.name, "at": time.time()}) + "\\n")
"""

TESTS = """
import pytest

@pytest.mark.dai_model("Pass", agent="agent-1")
def test_one():
    pass

@pytest.mark.dai_model("Pass", agent="agent-2")
def test_two():
    pass
"""


def first_setups(pytester: pytest.Pytester) -> list[float]:
    """When each worker's first test began its setup."""
    return [
        min(json.loads(line)["at"] for line in path.read_text().splitlines())
        for path in pytester.path.glob("setup-*.json")
    ]


def test_each_worker_has_its_token_before_its_first_test(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TESTS)
    result = run_subprocess(pytester, "-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    tokens = [r.time for r in dai_env.request_log() if "token" in r.path or "auth" in r.path]
    setups = first_setups(pytester)
    assert len(setups) == 2
    assert len(tokens) == 2  # one per worker, as before
    assert max(tokens) < min(setups)


def test_no_warm_up_without_xdist(pytester: pytest.Pytester, dai_env: DAISimulator) -> None:
    """In one process the first test follows the collection at once: nothing to overlap."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TESTS)
    result = run_subprocess(pytester, "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    tokens = [r.time for r in dai_env.request_log() if "token" in r.path or "auth" in r.path]
    assert len(tokens) == 1
    assert tokens[0] > min(first_setups(pytester))
