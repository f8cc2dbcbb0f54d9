"""Helpers of the CI-report tests: the fast scenario, the inner test module, and readers for the
JUnit files a CI tool would read (schema + junitparser)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import junitparser
import pytest
import xmlschema
from harness import inner
from harness.scenarios import agents, model, scenario, step, steps
from harness.wire import RUNS

from pytest_dai.simulator import DAISimulator

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "junit-10.xsd"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: The session reason the plugin gives for steps a Ctrl-C / SIGINT left unreached.
INTERRUPTED = "not reached: the session was interrupted"

# time_scale 3000: a step of 60 simulated seconds takes 0.02 s (Passing takes 0.05 s).
SCENARIO: dict[str, Any] = scenario(
    "client:dai:agent:reports",
    "reports-s3cret",
    time_scale=3000,
    agents=agents("a", 8),
    models=[
        model("m-pass", "Passing", *steps(50, "Open shop", "Search", "Pay")),
        model(
            "m-fail",
            "Failing",
            step("Open shop", 50),
            step(
                "Pay by card",
                50,
                "failed",
                "Card declined: expected 'Order confirmed' but saw 'Failed'",
            ),
            step("Confirm", 50),
        ),
        model(
            "m-error",
            "Erroring",
            step("Open shop", 50),
            step("Connect", 50, "error", "Agent lost the SUT connection <&> \x1b[31mred\x1b[0m"),
            step("Confirm", 50),
        ),
        # With the fault cancel_after (see CANCEL_AFTER), the server cancels it in step 3.
        model(
            "m-cancel",
            "Cancelled",
            *steps(100, "Open shop", "Wait for stock"),
            step("Wait forever", 180000),
            step("Never", 50),
        ),
        model("m-long", "Long", step("Warm up", 100), *steps(180000, "Soak", "Cool down")),
        model(
            "m-flaky",
            "Flaky",
            step("Open basket", 50),
            step("Check total", 50, message="Total did not update"),
            attempts=["failed", "passed"],
        ),
    ],
)

#: The fault ``cancel_after`` (simulated seconds: 3000 a real second) that makes the server
#: cancel the "Cancelled" model in its third step. Longer than the deadline of test_deadline
#: (0.4 s), so that run is aborted by pytest-dai before the server would cancel it.
CANCEL_AFTER = 4500

#: The inner test module: one DAI test per outcome, each on its own agent.
RUNS_MODULE = """
import pytest

@pytest.mark.dai_model("Passing", agent="a1")
def test_passed():
    pass

@pytest.mark.dai_model("Failing", agent="a2")
def test_failed():
    pass

@pytest.mark.dai_model("Erroring", agent="a3")
def test_errored():
    pass

@pytest.mark.dai_model("Cancelled", agent="a4")
def test_cancelled():
    pass

@pytest.mark.dai_model("Long", agent="a5", timeout=0.4)
def test_deadline():
    pass

@pytest.mark.dai_model("Long", agent="a6")
def test_interrupted():
    pass
"""


@dataclass(frozen=True)
class Expected:
    """What the steps file must say about the run of one test of :data:`RUNS_MODULE`.

    ``steps``: per step, the outcome (passed, failure, error, skipped) and a text its result
    must contain; ``name``: the step's name where the run reached it (None: not reached).
    """

    model: str
    test_outcome: str
    steps: tuple[tuple[str, str | None, str], ...]


def _reached(*names: str) -> tuple[tuple[str, str | None, str], ...]:
    return tuple(("passed", name, "") for name in names)


EXPECTED: dict[str, Expected] = {
    "test_passed": Expected("Passing", "passed", _reached("Open shop", "Search", "Pay")),
    "test_failed": Expected(
        "Failing",
        "failed",
        (
            *_reached("Open shop"),
            ("failure", "Pay by card", "Card declined: expected 'Order confirmed' but saw"),
            ("skipped", None, "not reached: the run ended as Failed"),
        ),
    ),
    "test_errored": Expected(
        "Erroring",
        "failed",
        (
            *_reached("Open shop"),
            # The ESC characters of the ANSI colour codes are shown escaped (server text is made
            # safe where it is parsed: pytest_dai.client.server_text).
            ("error", "Connect", "Agent lost the SUT connection <&> \\x1b[31mred\\x1b[0m"),
            ("skipped", None, "not reached: the run ended as Error"),
        ),
    ),
    "test_cancelled": Expected(
        "Cancelled",
        "failed",
        (
            *_reached("Open shop", "Wait for stock"),
            ("skipped", "Wait forever", "the run ended as Cancelled during this step"),
            ("skipped", None, "not reached: the run ended as Cancelled"),
        ),
    ),
    "test_deadline": Expected(
        "Long",
        "failed",
        (
            *_reached("Warm up"),
            ("unknown", "Soak", "result unknown: the run deadline passed during this step"),
            ("skipped", None, "not reached: the run deadline passed (aborted by pytest-dai)"),
        ),
    ),
}


def check_suite(suite: Suite, expected: Expected, simulator: DAISimulator) -> None:
    """The suite of one run: its steps in order with their outcomes and texts, the counts, and
    the properties that lead back to the run (execution id, run address)."""
    assert len(suite.steps) == len(expected.steps), suite.steps
    for number, ((name, (outcome, text)), (want, step_name, want_text)) in enumerate(
        zip(suite.steps.items(), expected.steps, strict=True), start=1
    ):
        assert name.startswith(f"{number:03d} "), name
        if step_name is not None:
            assert name == f"{number:03d} {step_name}"
        assert outcome == want, f"{name}: {outcome} {text!r}"
        ended = "the run ended as "
        if ended in want_text:  # the reason quotes the server's own status word
            head, tail = want_text.split(ended)
            word, space, rest = tail.partition(" ")
            want_text = head + ended + simulator.dialect.status_word(word) + space + rest
        assert want_text in text, f"{name}: {text!r}"
    outcomes = suite.outcomes()
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (
        len(outcomes),
        outcomes.count("failure"),
        outcomes.count("error"),
        outcomes.count("skipped"),
    )
    run = simulator.execution(suite.properties["dai_execution_id"])
    assert run is not None, suite.properties
    assert run["model_name"] == expected.model
    assert suite.properties["dai_url"] == f"{simulator.url}/runs/{run['run_id']}"
    assert suite.properties["dai_model"] == expected.model
    assert suite.properties["dai_execution_id"] in suite.name


@dataclass
class Suite:
    """One ``<testsuite>`` of the steps file, as a CI tool sees it."""

    name: str
    tests: int
    failures: int
    errors: int
    skipped: int
    properties: dict[str, str]
    #: step name -> (outcome, message): outcome is passed, failure, error, skipped or unknown.
    steps: dict[str, tuple[str, str]]

    def outcomes(self) -> list[str]:
        return [outcome for outcome, _ in self.steps.values()]


def read_steps(path: Path, schema: xmlschema.XMLSchema) -> dict[str, Suite]:
    """Validate the steps file against the schema, parse it with junitparser (as a CI tool
    would), and return its suites by ``dai_test`` (the test id that ran the run)."""
    suites = {suite.properties["dai_test"]: suite for suite in read_step_suites(path, schema)}
    assert len(suites) == len(read_step_suites(path, schema)), "two runs of one test"
    return suites


def read_step_suites(path: Path, schema: xmlschema.XMLSchema) -> list[Suite]:
    """The steps file's suites (one a model run) in file order, validated and parsed."""
    schema.validate(str(path))
    document = junitparser.JUnitXml.fromfile(str(path))
    suites: list[Suite] = []
    for suite in document:
        props = {p.name: p.value for p in suite.properties()}
        steps: dict[str, tuple[str, str]] = {}
        for case in suite:
            results = list(case.result)
            assert len(results) <= 1, f"{case.name}: more than one result: {results}"
            if not results and case._elem.get("status") == "unknown":
                assert case.system_out, f"{case.name}: unknown without a reason"
                steps[case.name] = ("unknown", case.system_out)
            elif not results:
                steps[case.name] = ("passed", "")
            else:
                result = results[0]
                kind = type(result).__name__.lower()
                assert result.message, f"{case.name}: {kind} without a message"
                assert result.message in (result.text or ""), f"{case.name}: {result.message!r}"
                steps[case.name] = (kind, result.text or "")
        assert props.get("dai_test"), f"suite {suite.name} has no dai_test property"
        suites.append(
            Suite(
                name=suite.name,
                tests=suite.tests,
                failures=suite.failures,
                errors=suite.errors,
                skipped=suite.skipped,
                properties=props,
                steps=steps,
            )
        )
    return suites


def read_junit(path: Path) -> dict[str, junitparser.TestCase]:
    """pytest's own JUnit file: its testcases by name."""
    document = junitparser.JUnitXml.fromfile(str(path))
    return {case.name: case for suite in document for case in suite}


def properties(case: junitparser.TestCase) -> dict[str, str]:
    """A testcase's properties."""
    found = case.child(junitparser.Properties)
    return {} if found is None else {prop.name: prop.value for prop in found}


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in ``folder`` other than ``keep`` (a temporary file left behind shows here)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def pytest_subprocess(pytester: pytest.Pytester, *args: str) -> subprocess.Popen[bytes]:
    """Start the inner pytest in its own process group (so a signal can go to the controller
    and its xdist workers, as Ctrl-C in a terminal does); output to stdout.txt / stderr.txt."""
    with (
        open(pytester.path / "stdout.txt", "wb") as out,
        open(pytester.path / "stderr.txt", "wb") as err,
    ):
        return inner.popen(pytester, *args, stdout=out, stderr=err)


def answered(simulator: DAISimulator, model: str) -> bool:
    """The inner pytest has taken an answer about the running run of ``model``: two status polls
    for it came since it started (the second is sent only once the first's answer was taken).
    One poll is not enough: the simulator logs a request before it answers, so a signal sent
    then can cut the answer off, and the plugin would know neither the run id nor its steps."""
    for ex in simulator.executions():
        if ex["model_name"] == model and ex["status"] == "Running":
            since = ex["started_at"] or 0.0
            one_run = f"{RUNS}/{ex['run_id']}"  # the run's own record, once its id is known
            polls = [
                r
                for r in simulator.request_log()
                if r.time > since and (
                    r.path == one_run
                    or (r.path == RUNS and r.query.get("execution_id") == ex["execution_id"])
                )
            ]  # fmt: skip
            return len(polls) >= 2
    return False


def interrupt(
    process: subprocess.Popen[bytes],
    simulator: DAISimulator,
    model: str,
    *,
    steps_done: int,
    also: Callable[[], bool] = lambda: True,
    timeout: float = 30.0,
) -> int:
    """Once a run of ``model`` is running with ``steps_done`` steps done and the inner pytest
    has had an answer about it (and ``also()`` is true), send SIGINT to the inner pytest's
    process group; return its exit code."""
    try:
        inner.signal_when_running(
            process,
            simulator,
            model,
            signal.SIGINT,
            group=True,
            steps_done=steps_done,
            also=lambda: also() and answered(simulator, model),
            timeout=timeout,
        )
        code: int = process.wait(timeout=timeout)
    finally:
        inner.kill_group(process)
    return code
