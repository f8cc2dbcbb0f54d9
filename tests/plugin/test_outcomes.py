"""Each row of the product's outcome table, end to end against the simulator."""

from __future__ import annotations

import pytest
from harness.simulators import closed_port_url, starts, the_execution

from pytest_dai.simulator import DAISimulator

from .conftest import ERROR_MESSAGE, FAIL_MESSAGE, junit, marked_test, run


def test_passed_run_passes_with_its_properties(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Pass", agent="agent-2"))
    run(pytester).assert_outcomes(passed=1)

    case = junit(pytester)["test_run"]
    ex = the_execution(dai_env, "Pass")
    assert case.outcome == "passed"
    assert case.properties["dai_execution_id"] == ex["execution_id"]
    assert case.properties["dai_model"] == "Pass"
    assert case.properties["dai_agent"] == "agent-2"
    assert case.properties["dai_status"] == "Passed"
    assert case.properties["dai_url"] == f"{dai_env.url}/runs/{ex['run_id']}"
    assert float(case.properties["dai_duration"]) > 0


def test_failed_run_fails_with_dai_run_failed_and_what_went_wrong(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Fail"))
    result = run(pytester)
    result.assert_outcomes(failed=1)

    case = junit(pytester)["test_run"]
    ex = the_execution(dai_env, "Fail")
    assert case.outcome == "failure"
    assert case.message.startswith("DAIRunFailed: ")
    assert "status Failed" in case.text
    assert f"failed in step 2: {FAIL_MESSAGE}" in case.text
    assert "last error lines of the run log:" in case.text
    assert f"run: {dai_env.url}/runs/{ex['run_id']}" in case.text
    assert case.properties["dai_status"] == "Failed"


def test_error_run_fails_with_dai_run_error(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Error"))
    run(pytester).assert_outcomes(failed=1)

    case = junit(pytester)["test_run"]
    assert case.outcome == "failure"
    assert case.message.startswith("DAIRunError: ")
    assert "status Error" in case.text
    assert ERROR_MESSAGE in case.text


def test_run_cancelled_on_the_server_fails_with_dai_run_cancelled(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Cancel"))
    run(pytester).assert_outcomes(failed=1)

    case = junit(pytester)["test_run"]
    assert case.outcome == "failure"
    assert case.message.startswith("DAIRunCancelled: ")
    assert "cancelled on the server" in case.text
    assert dai_env.abort_requests() == [], "pytest-dai aborted a run the server cancelled"


def test_run_deadline_aborts_the_run_once_then_fails_with_dai_run_timeout(
    pytester: pytest.Pytester, dai_env: DAISimulator
) -> None:
    pytester.makepyfile(marked_test("Slow", timeout=0.3))
    run(pytester).assert_outcomes(failed=1)

    case = junit(pytester)["test_run"]
    ex = the_execution(dai_env, "Slow")
    assert case.outcome == "failure"
    assert case.message.startswith("DAIRunTimeout: ")
    assert "deadline of 0.3 s" in case.text
    assert len(dai_env.abort_requests(ex["execution_id"])) == 1
    assert len(dai_env.abort_requests()) == 1
    assert dai_env.wait_for(lambda s: the_execution(s, "Slow")["status"] == "Cancelled")


def test_auth_fault_fails_with_one_line_and_no_secret(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wrong-Secret-4711"
    monkeypatch.setenv("DAI_CLIENT_SECRET", wrong)
    pytester.makepyfile(marked_test("Pass"))
    result = run(pytester, "-v")
    result.assert_outcomes(failed=1)

    case = junit(pytester)["test_run"]
    assert case.outcome == "failure"
    assert case.message.startswith("DAIAuthError: ")
    assert "\n" not in case.text.strip()
    result.stdout.fnmatch_lines(["DAIAuthError: token endpoint *: 401 *check the client secret)"])
    assert "pytest_dai/" not in result.stdout.str(), "a traceback of the plugin was shown"
    output = result.stdout.str() + result.stderr.str() + (pytester.path / "junit.xml").read_text()
    assert wrong not in output
    assert dai_env.client_secret not in output
    assert starts(dai_env) == []


def test_network_fault_fails_with_one_line(
    pytester: pytest.Pytester, dai_env: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAI_URL", closed_port_url())
    pytester.makepyfile(marked_test("Pass"))
    result = run(pytester, "--dai-request-retries=1")
    result.assert_outcomes(failed=1)

    case = junit(pytester)["test_run"]
    assert case.outcome == "failure"
    assert case.message.startswith("DAIConnectionError: ")
    assert "connection refused" in case.message
    assert "\n" not in case.text.strip()
    result.stdout.fnmatch_lines(["DAIConnectionError: DAI server *: connection refused (*"])
    assert "pytest_dai/" not in result.stdout.str(), "a traceback of the plugin was shown"
