"""Interruptions: Ctrl-C, SIGTERM and pytest-timeout abort the running run exactly once, and
runs started by hand that nobody waited for are aborted at session end."""

from __future__ import annotations

import signal

import pytest
from harness.simulators import the_execution

from pytest_dai.simulator import DAISimulator

from .conftest import junit, run, run_subprocess, signal_mid_run

SLOW_AFTER_A_PLAIN_TEST = """
    import pytest

    def test_before():
        pass

    @pytest.mark.dai_model("Slow", agent="agent-1")
    def test_slow():
        pass
    """


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_aborts_the_running_run_exactly_once(
    pytester: pytest.Pytester, dai_env: DAISimulator, signum: int
) -> None:
    pytester.makepyfile(SLOW_AFTER_A_PLAIN_TEST)
    interrupted = signal_mid_run(pytester, dai_env, signum)

    assert interrupted.exit_code == pytest.ExitCode.INTERRUPTED, interrupted.output
    ex = the_execution(dai_env, "Slow")
    aborts = dai_env.abort_requests(ex["execution_id"])
    assert len(aborts) == 1, interrupted.output
    assert len(dai_env.abort_requests()) == 1
    assert aborts[0].time - interrupted.sent_at < 10
    assert "KeyboardInterrupt" in interrupted.output


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_second_signal_during_the_abort_waits_for_it(
    pytester: pytest.Pytester, dai_env: DAISimulator, signum: int
) -> None:
    # The abort is answered 503 twice (Retry-After: 1) before it is accepted: about 2 s, during
    # which a second Ctrl-C (or a CI's SIGTERM after its SIGINT) arrives. It is held until the
    # abort went through, then ends the session as usual.
    dai_env.set_faults(
        burst=2,
        burst_status=503,
        retry_after=1,
        fault_paths=["/execution_service/api/v1/executions/"],
    )
    pytester.makepyfile(SLOW_AFTER_A_PLAIN_TEST)
    interrupted = signal_mid_run(pytester, dai_env, signum, again_during_abort=True)

    assert interrupted.exit_code == pytest.ExitCode.INTERRUPTED, interrupted.output
    assert "KeyboardInterrupt" in interrupted.output
    ex = the_execution(dai_env, "Slow")
    statuses = [r.status for r in dai_env.abort_requests(ex["execution_id"])]
    assert statuses == [503, 503, 204], interrupted.output
    assert dai_env.wait_for(lambda s: the_execution(s, "Slow")["status"] == "Cancelled")
    assert not list((pytester.path / ".pytest_cache").rglob("*.run.json")), "left journalled"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_still_writes_the_junit_file(
    pytester: pytest.Pytester, dai_env: DAISimulator, signum: int
) -> None:
    pytester.makepyfile(SLOW_AFTER_A_PLAIN_TEST)
    interrupted = signal_mid_run(pytester, dai_env, signum)

    assert interrupted.exit_code == pytest.ExitCode.INTERRUPTED, interrupted.output
    cases = junit(pytester)
    assert cases["test_before"].outcome == "passed"


@pytest.mark.slow
def test_pytest_timeout_aborts_the_running_run_exactly_once(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(SLOW_AFTER_A_PLAIN_TEST)
    result = run_subprocess(pytester, "--timeout=2", "--timeout-method=signal")
    result.assert_outcomes(passed=1, failed=1)

    ex = the_execution(dai_env, "Slow")
    aborts = dai_env.abort_requests(ex["execution_id"])
    assert len(aborts) == 1
    assert len(dai_env.abort_requests()) == 1
    assert aborts[0].time - ex["started_at"] < 10
    assert junit(pytester)["test_slow"].outcome == "failure"


@pytest.mark.slow
def test_pytest_timeout_during_a_slow_status_poll_aborts_the_run_exactly_once(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    # Each status poll takes 5 s: pytest-timeout's alarm (2 s) interrupts the first one.
    dai_env.set_faults(latency=5, latency_paths=["/ai/runs"])
    pytester.makepyfile(SLOW_AFTER_A_PLAIN_TEST)
    result = run_subprocess(pytester, "--timeout=2", "--timeout-method=signal")
    result.assert_outcomes(passed=1, failed=1)

    ex = the_execution(dai_env, "Slow")
    aborts = dai_env.abort_requests(ex["execution_id"])
    assert len(aborts) == 1
    assert len(dai_env.abort_requests()) == 1
    assert aborts[0].time - ex["started_at"] < 10
    case = junit(pytester)["test_slow"]
    assert "Timeout" in case.message, case.message
    assert "pytest-timeout" in case.message, case.message


def test_runs_started_by_hand_and_never_waited_for_are_aborted_at_session_end(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(
        """
        def test_start_and_leave(dai_session):
            dai_session.start("Slow", agent="agent-3")
        """
    )
    run(pytester).assert_outcomes(passed=1)

    ex = the_execution(dai_env, "Slow")
    assert len(dai_env.abort_requests(ex["execution_id"])) == 1
    assert dai_env.wait_for(lambda s: the_execution(s, "Slow")["status"] == "Cancelled")
