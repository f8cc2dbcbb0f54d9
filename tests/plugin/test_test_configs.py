"""``@pytest.mark.dai_test_config``: test configurations as pytest tests, against the simulator
(contract section 2.6): outcomes, late results, the deadline, signals, xdist, reaping, the
steps file, dry run, rerun, parameters and hooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from harness.env import point_env_at
from harness.scenarios import model, steps, with_models
from harness.simulators import wait_idle
from harness.wire import EXECUTIONS

from pytest_dai.simulator import DAISimulator

from .conftest import ERROR_MESSAGE, FAIL_MESSAGE, FAST, SCENARIO, junit

TASKS = "/task_scheduler_service/api/v1/task_instances"
RESULTS = "/api/v2/test_config_results"
SCHEMA = Path(__file__).resolve().parent.parent / "data" / "junit-10.xsd"


def _scenario() -> dict[str, Any]:
    data = with_models(
        SCENARIO,
        model("m-flaky", "Flaky", *steps(10, "Add", "Check"), attempts=["failed", "passed"]),
    )
    data["test_configs"] = [
        {"id": "tc-pass", "name": "Passing", "agent": "agent-1", "runs": [{"model": "Pass"}] * 2},
        {"id": "tc-fail", "name": "Failing", "runs": [{"model": "Pass"}, {"model": "Fail"}]},
        {
            "id": "tc-fail2",
            "name": "Twice failing",
            "runs": [{"model": "Fail"}, {"model": "Error"}],
        },
        {"id": "tc-error", "name": "Erroring", "runs": [{"model": "Error"}]},
        {"id": "tc-cancel", "name": "Cancelled", "runs": [{"model": "Cancel"}]},
        {
            "id": "tc-late",
            "name": "Late",
            "runs": [{"model": "Pass"}],
            "result_delay": 1.0,
            "task_instance_in_results": False,
        },
        {"id": "tc-slow", "name": "Slow", "agent": "agent-2", "runs": [{"model": "Slow"}]},
        {
            "id": "tc-slow405",
            "name": "Slow without task abort",
            "agent": "agent-3",
            "runs": [{"model": "Slow"}],
            "task_abort": "405",
        },
        {"id": "tc-flaky", "name": "Flaky", "runs": [{"model": "Pass"}, {"model": "Flaky"}]},
        {
            "id": "tc-strict",
            "name": "Strict",
            "runs": [{"model": "Pass"}],
            "accepts_options": False,
        },
    ]
    return data


@pytest.fixture
def tsim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator with test configurations; the environment points at it; afterwards no run
    may be left going."""
    with DAISimulator(_scenario(), port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator
        wait_idle(simulator)


def config_test(config: str, body: str = "pass", **marker: object) -> str:
    extra = "".join(f", {key}={value!r}" for key, value in marker.items())
    return f"""
        import pytest

        @pytest.mark.dai_test_config({config!r}{extra})
        def test_config(dai_result):
            {body}
        """


def task_deletes(sim: DAISimulator) -> list[Any]:
    return [r for r in sim.request_log() if r.method == "DELETE" and r.path.startswith(TASKS)]


def e3_deletes(sim: DAISimulator) -> list[Any]:
    return [r for r in sim.request_log() if r.method == "DELETE" and r.path.startswith(EXECUTIONS)]


def starts(sim: DAISimulator) -> list[Any]:
    return [r for r in sim.request_log() if r.method == "POST" and r.path.startswith(TASKS)]


def failure_text(path: Path, name: str = "test_config") -> str:
    """Every ``<failure>``/``<error>`` text of a testcase."""
    root = ET.parse(path).getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == name)
    return "\n".join(
        (e.get("message", "") + "\n" + (e.text or ""))
        for e in case
        if e.tag in ("failure", "error")
    )


# -- outcomes -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_passing_config_properties_subtests_junit_and_summary(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(
        config_test(
            "Passing",
            "assert dai_result.passed and len(dai_result.test_results) == 2\n"
            "            assert dai_result.junit().startswith('<?xml')",
        )
    )
    result = pytester.runpytest_subprocess(
        *FAST, "--dai-artifacts=evidence", "-o", "verbosity_subtests=1", "--strict-markers"
    )
    assert result.ret == 0
    assert "1 passed, 2 subtests passed" in result.stdout.str()
    props = junit(pytester)["test_config"].properties
    assert props["dai_test_config"] == "Passing"
    assert props["dai_status"] == "PASSED"
    assert props["dai_task_instance_id"]
    assert props["dai_url"] == f"{tsim.url}/controller/results/runs/{props['dai_result_id']}"
    assert float(props["dai_duration"]) > 0
    saved = Path(props["dai_junit"])
    assert saved.parent == pytester.path / "evidence"
    assert ET.parse(saved).getroot().tag == "testsuite"
    out = result.stdout.str()
    assert out.count("DAI test configurations") == 1
    assert "DAI model runs" not in out
    assert len(starts(tsim)) == 1
    # its duration is kept apart from a model's of the same name, for the next wait's schedule
    durations = json.loads((pytester.path / ".pytest_cache/v/dai/durations").read_text())
    assert list(durations) == ["test config: Passing"]


@pytest.mark.slow
def test_failing_config_names_the_failed_test_case(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Failing"))
    result = pytester.runpytest_subprocess(*FAST)
    assert result.ret == 1
    out = result.stdout.str()
    assert "DAIRunFailed: DAI test configuration 'Failing'" in out
    assert "Fail (model Fail): Failed" in out
    assert FAIL_MESSAGE in out
    assert "/controller/results/runs/" in out
    assert "SUBFAILED[Fail]" in out  # the failed test case as a pytest subtest
    text = failure_text(pytester.path / "junit.xml")
    assert "Fail (model Fail): Failed" in text
    # one <failure>, the test's own (it names the failed test case), not one per subtest too
    root = ET.parse(pytester.path / "junit.xml").getroot()
    (case,) = [c for c in root.iter("testcase") if c.get("name") == "test_config"]
    assert [e.tag for e in case if e.tag in ("failure", "error")] == ["failure"]
    assert next(root.iter("testsuite")).get("failures") == "1"
    assert junit(pytester)["test_config"].properties["dai_status"] == "FAILED"
    # the screenshot the failed test case's failing action saw, saved as evidence (E10 -> E12)
    shot = Path(junit(pytester)["test_config"].properties["dai_screenshot"])
    assert shot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_each_failed_test_case_keeps_its_own_screenshot(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    """Like a model run's: the frame each failed test case's failing action saw (walked back
    in that test case's log), saved under dai_artifacts, a dai_screenshot property and an
    ATTACHMENT line each."""
    pytester.makepyfile(config_test("Twice failing"))
    result = pytester.runpytest_subprocess(*FAST, "--dai-artifacts=evidence")
    assert result.ret == 1
    root = ET.parse(pytester.path / "junit.xml").getroot()
    (case,) = [c for c in root.iter("testcase") if c.get("name") == "test_config"]
    shots = [
        Path(p.get("value", "")) for p in case.iter("property") if p.get("name") == "dai_screenshot"
    ]
    failed = [ex for ex in tsim.executions() if ex["status"] in ("Failed", "Error")]
    assert len(shots) == len(failed) == 2
    wanted = {tsim.failing_screenshot(ex["execution_id"]) for ex in failed}
    assert None not in wanted
    assert {shot.read_bytes() for shot in shots} == {png for _image, png in wanted}  # type: ignore[misc]
    assert len({shot.read_bytes() for shot in shots}) == 2  # each its own frame
    assert all(shot.parent == pytester.path / "evidence" for shot in shots)
    attached = "".join(e.text or "" for e in case.iter("system-out"))
    for shot in shots:
        assert f"[[ATTACHMENT|{shot}]]" in attached


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "error", "words"),
    [
        ("Erroring", "DAIRunError", ERROR_MESSAGE),
        ("Cancelled", "DAIRunCancelled", "was cancelled on the server"),
    ],
)
def test_error_and_cancelled_on_the_server(
    pytester: pytest.Pytester, tsim: DAISimulator, config: str, error: str, words: str
) -> None:
    pytester.makepyfile(config_test(config))
    result = pytester.runpytest_subprocess(*FAST)
    assert result.ret == 1
    out = result.stdout.str()
    assert f"{error}: DAI test configuration {config!r}" in out
    assert words in out
    assert task_deletes(tsim) == []  # ended on the server: nothing to abort


@pytest.mark.slow
def test_a_result_that_appears_late_is_found_by_start_time(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Late", "assert dai_result.id is not None"))
    result = pytester.runpytest_subprocess(*FAST)
    result.assert_outcomes(passed=1)
    polls = [r for r in tsim.request_log() if r.path == RESULTS]
    assert len(polls) > 1  # E8 listed nothing at first: queued, not an error
    assert junit(pytester)["test_config"].properties["dai_status"] == "PASSED"


@pytest.mark.slow
def test_past_its_deadline_the_run_is_aborted_with_one_delete(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Slow", timeout=1))
    result = pytester.runpytest_subprocess(*FAST)
    assert result.ret == 1
    out = result.stdout.str()
    assert "DAIRunTimeout" in out
    assert "passed its deadline of 1 s and was aborted" in out
    assert len(task_deletes(tsim)) == 1
    assert e3_deletes(tsim) == []
    props = junit(pytester)["test_config"].properties
    assert props["dai_aborted"] == "true"
    assert props["dai_abort"].startswith("aborted with DELETE task_instances/")
    assert tsim.wait_for(lambda s: s.running_count() == 0, timeout=5)


@pytest.mark.slow
def test_abort_falls_back_to_e3_when_the_server_has_no_task_abort(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Slow without task abort", timeout=1))
    result = pytester.runpytest_subprocess(*FAST)
    assert result.ret == 1
    assert len(task_deletes(tsim)) == 1
    assert len(e3_deletes(tsim)) == 1
    abort = junit(pytester)["test_config"].properties["dai_abort"]
    assert "not supported by this server (404/405)" in abort
    assert "aborted 1 running model execution(s) one by one" in abort


# -- signals, xdist, hard kills -----------------------------------------------------------------


def _config_running(sim: DAISimulator, process: subprocess.Popen[bytes]) -> bool:
    """The inner session's config run is going and E8 was polled after it started."""
    if process.poll() is not None:
        return True
    going = [ex for ex in sim.executions() if ex["status"] == "Running"]
    return bool(going) and any(
        r.path == RESULTS and r.time > (going[0]["started_at"] or 0) for r in sim.request_log()
    )


def _popen(pytester: pytest.Pytester, *args: str) -> subprocess.Popen[bytes]:
    return pytester.popen(
        [sys.executable, "-m", "pytest", f"--basetemp={pytester.path / 'bt'}", *FAST, *args],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=pytester.path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_abort_the_run_within_10_s(
    pytester: pytest.Pytester, tsim: DAISimulator, signum: int
) -> None:
    pytester.makepyfile(config_test("Slow"))
    process = _popen(pytester)
    try:
        assert tsim.wait_for(lambda s: _config_running(s, process), timeout=30)
        assert process.poll() is None, process.communicate()[0].decode()
        sent = time.time()
        process.send_signal(signum)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    (delete,) = task_deletes(tsim)
    print(f"{signal.Signals(signum).name}: abort sent {delete.time - sent:.2f} s after the signal")
    assert delete.time - sent < 10, out
    assert tsim.wait_for(lambda s: s.running_count() == 0, timeout=10)
    assert process.returncode != 0
    assert b"KeyboardInterrupt" in out or b"Interrupted" in out


@pytest.mark.slow
def test_under_xdist_every_testcase_has_properties_and_the_summary_is_once(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(
        test_a=config_test("Passing"),
        test_b=config_test("Failing"),
        test_c="""
            import pytest

            @pytest.mark.dai_model("Pass", agent="agent-4")
            def test_model():
                pass
            """,
    )
    result = pytester.runpytest_subprocess(*FAST, "-n", "2")
    assert result.ret == 1
    root = ET.parse(pytester.path / "junit.xml").getroot()
    for case in root.iter("testcase"):
        names = {p.get("name") for p in case.iter("property")}
        assert names & {"dai_execution_id", "dai_task_instance_id"}, case.get("name")
    configs = [
        {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in root.iter("testcase")
    ]
    assert sorted(c.get("dai_test_config", "") for c in configs) == ["", "Failing", "Passing"]
    out = result.stdout.str()
    assert out.count("DAI test configurations") == 1
    assert out.count("DAI model runs") == 1


@pytest.mark.slow
def test_a_hard_kill_is_reaped_by_the_next_session(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(test_slow=config_test("Slow"), test_plain="def test_plain():\n    pass\n")
    process = _popen(pytester, "test_slow.py")
    try:
        assert tsim.wait_for(lambda s: _config_running(s, process), timeout=30)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert tsim.running_count() == 1
    assert task_deletes(tsim) == []
    result = pytester.runpytest_subprocess(*FAST, "test_plain.py")
    out = result.stdout.str()
    assert "dai: aborted 1 run left by an earlier, killed session: test configuration 'Slow'" in out
    assert "aborted with DELETE task_instances/" in out
    assert len(task_deletes(tsim)) == 1
    assert sorted(pytester.path.glob("**/*.run.json")) == []


# -- reports, dry run, rerun, parameters, hooks ---------------------------------------------


@pytest.mark.slow
def test_steps_file_one_testcase_per_test_case_run_and_schema_valid(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(test_a=config_test("Failing"), test_b=config_test("Passing"))
    pytester.runpytest_subprocess(*FAST, "--dai-junit-steps=steps.xml")
    path = pytester.path / "steps.xml"
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(path))
    suites = {
        s.get("name", "").split(" (")[0]: s for s in ET.parse(path).getroot().iter("testsuite")
    }
    failing = [(c.get("name"), [e.tag for e in c]) for c in suites["Failing"].iter("testcase")]
    assert failing == [("001 Pass", []), ("002 Fail", ["failure"])]
    assert len(list(suites["Passing"].iter("testcase"))) == 2
    props = {p.get("name"): p.get("value") for p in suites["Failing"].iter("property")}
    assert props["dai_test_config"] == "Failing"
    assert props["dai_task_instance_id"]


@pytest.mark.slow
def test_dry_run_resolves_names_and_starts_nothing(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(test_a=config_test("Passing"), test_b=config_test("Pasing"))
    result = pytester.runpytest_subprocess(*FAST, "--dai-dry-run", "-rs")
    result.assert_outcomes(skipped=1, failed=1)
    out = result.stdout.str()
    assert "dry run: would start test configuration 'Passing'" in out
    assert "close matches: 'Passing'" in out
    assert starts(tsim) == []


@pytest.mark.slow
def test_rerun_failed_reruns_only_failed_steps(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Flaky"))
    first = pytester.runpytest_subprocess(*FAST)
    assert first.ret == 1
    first_props = junit(pytester)["test_config"].properties
    failed_result = first_props["dai_result_id"]
    second = pytester.runpytest_subprocess(*FAST, "--dai-rerun-failed", "-rA")
    second.assert_outcomes(passed=1)
    # The re-run names the failed run's task instance (contract 2.7, ours).
    assert starts(tsim)[-1].body == {
        "filters": {"step_status_include": ["Failed", "Error"]},
        "previous_task_instance_id": first_props["dai_task_instance_id"],
    }
    props = junit(pytester)["test_config"].properties
    assert props["dai_rerun_of"] == failed_result
    assert "re-ran only the failed and errored steps of result" in second.stdout.str()


@pytest.mark.slow
def test_parameters_from_file_and_marker_travel_in_the_start_body(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makefile(".json", params=json.dumps({"username": "Ann", "retries": 2}))
    pytester.makepyfile(
        config_test(
            "Passing",
            parameters={"username": "Lily"},
            filter_by={"test_case_name_exclude": "login_user"},
        )
    )
    result = pytester.runpytest_subprocess(*FAST, "--dai-parameters-file=params.json")
    result.assert_outcomes(passed=1)
    assert starts(tsim)[0].body == {
        "parameters": [{"name": "username", "value": "Lily"}, {"name": "retries", "value": 2}],
        "filters": {"test_case_name_exclude": ["login_user"]},
    }


@pytest.mark.slow
def test_a_server_refusing_parameters_is_one_clear_line(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Strict", parameters={"username": "Lily"}))
    result = pytester.runpytest_subprocess(*FAST)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*does not accept parameter overrides when starting a test*"])
    assert len(starts(tsim)) == 1  # never retried without them


@pytest.mark.slow
def test_bad_marker_and_bad_parameters_file_are_one_line(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile(config_test("Passing", suite="x", model="y", colour="red"))
    result = pytester.runpytest_subprocess(*FAST)
    result.stdout.fnmatch_lines(["*@pytest.mark.dai_test_config on *unknown keyword *colour*"])
    pytester.makefile(".json", bad="[1, 2]")
    bad = pytester.runpytest_subprocess(*FAST, "--dai-parameters-file=bad.json")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "--dai-parameters-file on the command line" in bad.stderr.str()
    assert starts(tsim) == []


@pytest.mark.slow
def test_hooks_tell_the_kinds_apart_and_map_outcome_applies(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makeconftest(
        """
        def pytest_dai_execution_started(item, execution):
            print("STARTED", execution.kind, execution.task_instance_id is not None)

        def pytest_dai_execution_finished(item, execution):
            print("FINISHED", execution.kind, execution.status)

        def pytest_dai_map_outcome(item, execution):
            if execution.kind == "test_config" and execution.state == "cancelled":
                return "skipped"
        """
    )
    pytester.makepyfile(test_a=config_test("Cancelled"), test_b=config_test("Passing"))
    result = pytester.runpytest_subprocess(*FAST, "-s")
    result.assert_outcomes(passed=1, skipped=1)
    out = result.stdout.str()
    assert out.count("STARTED test_config True") == 2
    assert "FINISHED test_config CANCELLED" in out


@pytest.mark.slow
def test_started_by_hand_through_the_session(pytester: pytest.Pytester, tsim: DAISimulator) -> None:
    pytester.makepyfile(
        """
        def test_by_hand(dai_session):
            run = dai_session.start_test_config("Passing")
            run.wait(timeout=60)
            assert run.passed
            assert [t.passed for t in run.test_results] == [True, True]
            assert run.test_results[0].logs()
        """
    )
    result = pytester.runpytest_subprocess(*FAST)
    result.assert_outcomes(passed=1)
    props = junit(pytester)["test_by_hand"].properties
    assert props["dai_test_config"] == "Passing"
    assert "DAI test configurations" in result.stdout.str()


@pytest.mark.slow
def test_github_annotation_and_job_summary_for_a_failed_config(
    pytester: pytest.Pytester, tsim: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_gh=config_test("Failing"))
    result = pytester.runpytest_subprocess(*FAST)
    assert result.ret == 1
    # the annotation points at the marker's line (line 3 of the module)
    result.stdout.fnmatch_lines(["::error file=test_gh.py,line=3,*DAIRunFailed*Failing*"])
    assert "Failing" in summary.read_text(encoding="utf-8")


@pytest.mark.slow
def test_faults_on_the_test_config_endpoints_are_ridden_out(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    # one transient 500 on the start (retried once, as seen on DAI 26.2.2), 503s on the polls
    tsim.set_faults(burst=1, burst_status=500, fault_paths=[TASKS])
    pytester.makepyfile(config_test("Passing"))
    tsim.clear_log()
    first = pytester.runpytest_subprocess(*FAST)
    first.assert_outcomes(passed=1)
    assert [r.status for r in starts(tsim)] == [500, 201]
    tsim.set_faults(error_rate=0.3, error_statuses=[502, 503], fault_paths=[RESULTS], seed=7)
    second = pytester.runpytest_subprocess(*FAST)
    second.assert_outcomes(passed=1)
    assert any(r.status in (502, 503) for r in tsim.request_log() if r.path == RESULTS)


@pytest.mark.slow
def test_dai_result_without_the_marker_is_a_usage_error(
    pytester: pytest.Pytester, tsim: DAISimulator
) -> None:
    pytester.makepyfile("def test_x(dai_result):\n    pass\n")
    result = pytester.runpytest_subprocess(*FAST)
    result.stdout.fnmatch_lines(["*the dai_result fixture needs @pytest.mark.dai_test_config*"])


@pytest.mark.slow
def test_pytest_timeout_aborts_the_run_once(pytester: pytest.Pytester, tsim: DAISimulator) -> None:
    pytester.makepyfile(config_test("Slow"))
    result = pytester.runpytest_subprocess(*FAST, "--timeout=3", "--timeout-method=signal")
    assert result.ret == 1
    assert len(task_deletes(tsim)) == 1
    assert "pytest-timeout" in result.stdout.str()


def test_the_registered_marker_help_shows_the_signature_the_marker_is_checked_against() -> None:
    from pytest_dai.glue.markers.test_config import SIGNATURE
    from pytest_dai.plugin import CONFIG_MARKER_HELP

    assert CONFIG_MARKER_HELP.startswith(SIGNATURE + ":")
