"""A test configuration's parameter overrides can be confirmed: the dry run lists each (name,
value, and the source: the marker or ``dai_parameters_file``), and the JUnit property
``dai_parameters`` names them (names only: a value never reaches the JUnit file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from harness.env import point_env_at
from harness.simulators import wait_idle

from pytest_dai.simulator import DAISimulator

from .conftest import JUNIT, SCENARIO, junit, run

TASKS = "/task_scheduler_service/api/v1/task_instances"
SECRETISH = "Hunter2-value-9c1"


@pytest.fixture
def csim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator with one passing test configuration; the environment points at it."""
    data: dict[str, Any] = dict(SCENARIO)
    data["test_configs"] = [
        {"id": "tc-pass", "name": "Passing", "agent": "agent-1", "runs": [{"model": "Pass"}]}
    ]
    with DAISimulator(data, port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator
        wait_idle(simulator)


def starts(sim: DAISimulator) -> list[Any]:
    return [r for r in sim.request_log() if r.method == "POST" and r.path.startswith(TASKS)]


MODULE = f"""
import pytest

@pytest.mark.dai_test_config("Passing", parameters={{"username": "Lily", "token": {SECRETISH!r}}})
def test_config():
    pass

@pytest.mark.dai_test_config("Passing")
def test_plain():
    pass
"""


def test_the_dry_run_lists_each_override_with_its_value_and_source(
    pytester: pytest.Pytester, csim: DAISimulator
) -> None:
    pytester.makefile(".json", params=json.dumps({"username": "Ann", "retries": 2}))
    pytester.makepyfile(test_params=MODULE)
    result = run(pytester, "--dai-dry-run", "--dai-parameters-file=params.json")
    result.assert_outcomes(skipped=2)
    (line,) = [line for line in result.outlines if line.startswith("test_params.py::test_config")]
    assert "ready" in line
    assert "parameter overrides: username='Lily' (marker), " in line, line
    assert "retries=2 (dai_parameters_file " in line, line
    assert "params.json)" in line, line
    assert "token='Hunter2-value-9c1' (marker)" in line
    (plain,) = [line for line in result.outlines if line.startswith("test_params.py::test_plain")]
    assert "retries=2 (dai_parameters_file " in plain
    assert "(marker)" not in plain
    assert starts(csim) == []


def test_junit_names_the_overridden_parameters_and_never_their_values(
    pytester: pytest.Pytester, csim: DAISimulator
) -> None:
    pytester.makefile(".json", params=json.dumps({"username": "Ann", "retries": 2}))
    pytester.makepyfile(test_params=MODULE)
    result = run(pytester, "--dai-parameters-file=params.json")
    result.assert_outcomes(passed=2)
    cases = junit(pytester)
    assert cases["test_config"].properties["dai_parameters"] == "username, retries, token"
    assert cases["test_plain"].properties["dai_parameters"] == "username, retries"
    text = (pytester.path / JUNIT).read_text(encoding="utf-8")
    assert SECRETISH not in text
    assert "Lily" not in text
    bodies = [r.body for r in starts(csim)]
    assert {"name": "token", "value": SECRETISH} in bodies[0]["parameters"]


def test_no_overrides_no_property(pytester: pytest.Pytester, csim: DAISimulator) -> None:
    pytester.makepyfile(test_params=MODULE)
    result = run(pytester, "-k", "plain")
    result.assert_outcomes(passed=1)
    assert "dai_parameters" not in junit(pytester)["test_plain"].properties
