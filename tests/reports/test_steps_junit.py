"""``--dai-junit-steps``: the second JUnit file (a testsuite per run, a testcase per step), as a
CI tool reads it: valid against junit-10.xsd, parsed with junitparser, written atomically by the
controller at session end, also for interrupted sessions and under pytest-xdist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xmlschema
from harness.inner import FAST
from harness.simulators import wait_idle

from pytest_dai.client.status import RunState
from pytest_dai.glue.report import junit_steps
from pytest_dai.glue.report.facts import RunReport
from pytest_dai.lifecycle.steps import StepResult
from pytest_dai.simulator import DAISimulator

from .support import (
    CANCEL_AFTER,
    EXPECTED,
    INTERRUPTED,
    RUNS_MODULE,
    Suite,
    check_suite,
    interrupt,
    leftovers,
    properties,
    pytest_subprocess,
    read_junit,
    read_steps,
)

STEPS = "out/ci/steps.xml"  # a folder that does not exist yet: the plugin makes it
JUNIT = "out/ci/junit.xml"

#: An inner conftest that logs each write of the steps file (who wrote it, how many runs) and
#: records the xdist worker that ran each test as a JUnit property.
WRITES_CONFTEST = """
import os
import pytest
import pytest_dai.glue.report.junit_steps as junit_steps

_write = junit_steps.write_steps_junit

def _logged(path, runs):
    who = os.environ.get("PYTEST_XDIST_WORKER", "controller")
    with open("writes.log", "a", encoding="utf-8") as log:
        log.write(f"{who} {len(runs)}\\n")
    _write(path, runs)

junit_steps.write_steps_junit = _logged

@pytest.fixture(autouse=True)
def _worker(record_property):
    record_property("worker", os.environ.get("PYTEST_XDIST_WORKER", "controller"))
"""


#: An inner conftest that notes each test whose report reached the main process (the xdist
#: controller), so the session is interrupted only once test_passed is in.
REPORTED_CONFTEST = """
import os

def pytest_runtest_logreport(report):
    if report.when == "teardown" and "PYTEST_XDIST_WORKER" not in os.environ:
        with open("reported.log", "a", encoding="utf-8") as log:
            log.write(report.nodeid + "\\n")
"""


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def check_written(pytester: pytest.Pytester) -> None:
    """Only the two JUnit files in the folder (no temporary file left behind), and the steps
    file readable like pytest's own JUnit file (same umask)."""
    folder = pytester.path / "out" / "ci"
    assert leftovers(folder, {"steps.xml", "junit.xml"}) == []
    assert mode(folder / "steps.xml") == mode(folder / "junit.xml")


@pytest.mark.parametrize("test", sorted(EXPECTED))
def test_steps_file_for_each_run_outcome(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema, test: str
) -> None:
    if test == "test_cancelled":
        sim.set_faults(cancel_after=CANCEL_AFTER / 3)
    pytester.makepyfile(test_runs=RUNS_MODULE)
    result = pytester.runpytest(
        f"test_runs.py::{test}", f"--dai-junit-steps={STEPS}", f"--junitxml={JUNIT}", *FAST
    )
    expected = EXPECTED[test]
    result.assert_outcomes(**{expected.test_outcome: 1})

    suites = read_steps(pytester.path / STEPS, schema)
    assert list(suites) == [f"test_runs.py::{test}"]
    suite = suites[f"test_runs.py::{test}"]
    check_suite(suite, expected, sim)
    case = read_junit(pytester.path / JUNIT)[test]
    assert properties(case)["dai_execution_id"] == suite.properties["dai_execution_id"]
    assert properties(case)["dai_url"] == suite.properties["dai_url"]
    check_written(pytester)
    if test == "test_deadline":
        assert suite.properties["dai_interrupted"] == "the run deadline passed"
        assert sim.abort_requests(suite.properties["dai_execution_id"])
    if test == "test_cancelled":
        assert sim.execution(suite.properties["dai_execution_id"])["end_reason"] == (
            "server_cancelled"
        )
        assert not sim.abort_requests()


@pytest.mark.parametrize("dialect", ["upper", "alt_words", "everything"])
def test_steps_file_whatever_words_and_ids_the_server_uses(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema, dialect: str
) -> None:
    sim.dialect = dialect
    pytester.makepyfile(test_runs=RUNS_MODULE)
    tests = ["test_errored", "test_failed", "test_passed"]
    result = pytester.runpytest(
        *(f"test_runs.py::{test}" for test in tests), f"--dai-junit-steps={STEPS}", *FAST
    )
    result.assert_outcomes(passed=1, failed=2)
    suites = read_steps(pytester.path / STEPS, schema)
    assert sorted(suites) == [f"test_runs.py::{test}" for test in tests]
    for test in tests:
        check_suite(suites[f"test_runs.py::{test}"], EXPECTED[test], sim)


@pytest.mark.slow
def test_steps_file_under_xdist_written_once_by_the_controller(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    sim.set_faults(cancel_after=CANCEL_AFTER)
    pytester.makepyfile(test_runs=RUNS_MODULE)
    pytester.makeconftest(WRITES_CONFTEST)
    tests = sorted(EXPECTED)
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        *(f"test_runs.py::{test}" for test in tests),
        f"--dai-junit-steps={STEPS}",
        f"--junitxml={JUNIT}",
        *FAST,
    )
    result.assert_outcomes(passed=1, failed=len(tests) - 1)

    assert (pytester.path / "writes.log").read_text().splitlines() == [f"controller {len(tests)}"]
    cases = read_junit(pytester.path / JUNIT)
    assert {properties(cases[test])["worker"] for test in tests} == {"gw0", "gw1"}
    suites = read_steps(pytester.path / STEPS, schema)
    assert sorted(suites) == [f"test_runs.py::{test}" for test in tests]
    for test in tests:
        check_suite(suites[f"test_runs.py::{test}"], EXPECTED[test], sim)
        assert (
            properties(cases[test])["dai_execution_id"]
            == suites[f"test_runs.py::{test}"].properties["dai_execution_id"]
        )
    check_written(pytester)


def interrupted_session(
    pytester: pytest.Pytester, sim: DAISimulator, *xdist: str, steps_done: int
) -> str:
    """Run test_passed then test_interrupted; SIGINT once the "Long" run of test_interrupted
    has ``steps_done`` steps done. Returns the inner pytest's output."""
    pytester.makepyfile(test_runs=RUNS_MODULE)
    pytester.makeconftest(REPORTED_CONFTEST)
    reported = pytester.path / "reported.log"

    def passed_is_in() -> bool:
        return reported.exists() and "test_runs.py::test_passed" in reported.read_text()

    process = pytest_subprocess(
        pytester,
        *xdist,
        "test_runs.py::test_passed",
        "test_runs.py::test_interrupted",
        f"--dai-junit-steps={STEPS}",
        f"--junitxml={JUNIT}",
        *FAST,
    )
    code = interrupt(process, sim, "Long", steps_done=steps_done, also=passed_is_in)
    output = (pytester.path / "stdout.txt").read_text() + (pytester.path / "stderr.txt").read_text()
    assert code == pytest.ExitCode.INTERRUPTED, output
    wait_idle(sim)
    (long_run,) = [ex for ex in sim.executions() if ex["model_name"] == "Long"]
    assert long_run["aborted"], "the interrupted run was not aborted"
    return output


def check_interrupted_suite(suites: dict[str, Suite], sim: DAISimulator) -> None:
    assert "test_runs.py::test_interrupted" in suites, sorted(suites)
    suite = suites["test_runs.py::test_interrupted"]
    assert suite.properties["dai_model"] == "Long"
    assert suite.properties["dai_interrupted"].startswith("the session was interrupted")
    run = sim.execution(suite.properties["dai_execution_id"])
    assert run is not None
    assert suite.properties["dai_url"] == f"{sim.url}/runs/{run['run_id']}"
    names = list(suite.steps)
    assert [name[:4] for name in names] == ["001 ", "002 ", "003 "]
    # the step the run was in: the log cannot tell how it went; the next one was never reached
    outcome, text = suite.steps[names[1]]
    assert outcome == "unknown", (names[1], outcome, text)
    assert text.startswith("result unknown: the session was interrupted"), text
    assert "(aborted by pytest-dai)" in text
    outcome, text = suite.steps[names[2]]
    assert outcome == "skipped", (names[2], outcome, text)
    assert text.startswith(INTERRUPTED), text
    assert "(aborted by pytest-dai)" in text
    assert suite.skipped == 1


@pytest.mark.slow
def test_interrupted_session_still_writes_the_steps_file(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    interrupted_session(pytester, sim, steps_done=1)
    suites = read_steps(pytester.path / STEPS, schema)
    assert sorted(suites) == ["test_runs.py::test_interrupted", "test_runs.py::test_passed"]
    check_suite(suites["test_runs.py::test_passed"], EXPECTED["test_passed"], sim)
    check_interrupted_suite(suites, sim)
    check_written(pytester)


@pytest.mark.slow
def test_interrupted_session_keeps_steps_already_passed(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    interrupted_session(pytester, sim, steps_done=1)
    suite = read_steps(pytester.path / STEPS, schema)["test_runs.py::test_interrupted"]
    assert next(iter(suite.steps.items())) == ("001 Warm up", ("passed", ""))


@pytest.mark.slow
def test_interrupted_xdist_session_still_writes_the_steps_file(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    interrupted_session(pytester, sim, "-n", "2", steps_done=1)
    suites = read_steps(pytester.path / STEPS, schema)
    check_suite(suites["test_runs.py::test_passed"], EXPECTED["test_passed"], sim)
    check_written(pytester)


@pytest.mark.slow
def test_interrupted_xdist_session_lists_the_interrupted_run(
    pytester: pytest.Pytester, sim: DAISimulator, schema: xmlschema.XMLSchema
) -> None:
    interrupted_session(pytester, sim, "-n", "2", steps_done=1)
    check_interrupted_suite(read_steps(pytester.path / STEPS, schema), sim)


# --------------------------------------------------------------------------------------------
# The writer itself: what any run's data must come out as, and the atomic write.


def run_with(*steps: StepResult) -> RunReport:
    return RunReport(
        kind="model",
        key="e-1",
        name="Model <1>",
        agent="agent-1",
        status="Failed",
        state=RunState.FAILED,
        url="http://dai.example/runs/7",
        nodeid="test_x.py::test_x",
        duration=1.5,
        steps=list(steps),
    )


@pytest.mark.parametrize(
    "message",
    [
        "\x1b",  # nothing left once the control characters are dropped
        "\n\nsecond line is the first with text",
        "truncated emoji \ud83d from a UTF-16 server",  # a lone surrogate (JSON "\ud83d")
        "non-characters \ufffe\uffff",
        "x" * 2000,
    ],
)
def test_steps_file_stays_valid_for_any_step_message(
    tmp_path: Path, schema: xmlschema.XMLSchema, message: str
) -> None:
    path = tmp_path / "steps.xml"
    junit_steps.write_steps_junit(
        path,
        [
            run_with(
                StepResult(1, "001 a\x07", "failed", 0.5, message),
                StepResult(2, "002 b", "error", 0.5, message),
                StepResult(3, "003 c", "skipped", 0.0, message),
            )
        ],
    )
    suites = read_steps(path, schema)
    assert [outcome for outcome, _ in suites["test_x.py::test_x"].steps.values()] == [
        "failure",
        "error",
        "skipped",
    ]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "steps.xml"
    path.write_text("old", encoding="utf-8")

    def broken(runs: list[RunReport]) -> bytes:
        raise RuntimeError("disk full")

    monkeypatch.setattr(junit_steps, "steps_xml", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        junit_steps.write_steps_junit(path, [run_with()])
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["steps.xml"]
