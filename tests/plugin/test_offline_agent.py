"""A run queued for an agent the server lists as offline: the live line and the failure say so;
``dai_offline_agent = fail`` fails the test at once (the queued run aborted); the agent listing
is asked a bounded number of times. Against the simulator's offline agent (``agent-offline``)."""

from __future__ import annotations

import pytest
from harness.wire import AGENTS, RUNS

# Imported before the in-process inner sessions (see tests/reports/conftest.py): the failure's
# class must be the one the plugin's report hook knows.
from pytest_dai.simulator import DAISimulator

from .conftest import junit, marked_test, run, run_subprocess

OFFLINE = "agent 'agent-offline' is offline"


def listings(sim: DAISimulator) -> int:
    return sum(1 for r in sim.request_log() if r.method == "GET" and r.path == AGENTS)


def polls(sim: DAISimulator) -> int:
    return sum(1 for r in sim.request_log() if r.method == "GET" and r.path.startswith(RUNS))


@pytest.mark.slow
def test_wait_the_deadline_failure_and_the_live_line_say_the_agent_is_offline(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass", agent="agent-offline", timeout=1.5))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert f"DAI run aborted: Pass on agent-offline: Queued ({OFFLINE})" in out, out
    case = junit(pytester)["test_run"]
    assert "DAIRunTimeout" in case.message
    assert f"last status Queued ({OFFLINE})" in case.message, case.message
    assert f"{OFFLINE}: the run waited in its queue until the deadline" in case.text
    assert len(dai_env.abort_requests()) == 1
    # the listing: once when first seen queued (beside the resolution's), then every 6 polls
    assert listings(dai_env) <= 2 + polls(dai_env) // 6 + 1, (listings(dai_env), polls(dai_env))


@pytest.mark.parametrize("args", [["--dai-offline-agent=fail"], ["-o", "dai_offline_agent=fail"]])
def test_fail_fails_at_once_with_the_reason_and_aborts_the_run(
    pytester: pytest.Pytester, dai_env: DAISimulator, args: list[str]
) -> None:
    pytester.makepyfile(marked_test("Pass", agent="agent-offline", timeout=600))
    result = run(pytester, *args)
    result.assert_outcomes(failed=1)
    case = junit(pytester)["test_run"]
    assert case.message.startswith("DAIAgentOffline: DAI run of model 'Pass'"), case.message
    assert OFFLINE in case.message
    assert "dai_offline_agent = fail" in case.message
    assert len(dai_env.abort_requests()) == 1, "the queued run was not aborted"
    assert case.properties["dai_status"].startswith("Aborted"), case.properties


def test_fail_lets_a_run_on_an_online_agent_pass(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass", agent="agent-1"))
    result = run(pytester, "--dai-offline-agent=fail")
    result.assert_outcomes(passed=1)
    assert dai_env.abort_requests() == []


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--dai-offline-agent=maybe"],
            "--dai-offline-agent from the command line: expected wait or fail, got 'maybe'",
        ),
        (
            ["-o", "dai_offline_agent=never"],
            "dai_offline_agent from the ini file: expected wait or fail, got 'never'",
        ),
    ],
)
@pytest.mark.slow
def test_a_bad_value_is_one_line(
    pytester: pytest.Pytester, dai_env: DAISimulator, args: list[str], line: str
) -> None:
    pytester.makepyfile(marked_test("Pass"))
    result = run_subprocess(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [text for text in result.stderr.lines if text.strip()]
    assert any(line in text for text in errors), errors
    assert dai_env.abort_requests() == []
