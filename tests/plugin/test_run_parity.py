"""Two kinds of run, one road: the same scenario run as a model run (``dai_model``) and as a test
configuration (``dai_test_config``) shows the user the same things: a dead server is reported
once and the other tests are not tried again, TLS spoken to a plain-http port gets the same
advice, a failure names the failing step (of the failing test case) and its message, the
deadline and an interrupt (in one process and under pytest-xdist) abort the run and say so in
the JUnit file, and status words are the server's."""

from __future__ import annotations

import re
import signal
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import inner
from harness.env import point_env_at
from harness.marked import Target, marked_tests
from harness.scenarios import changed
from harness.simulators import closed_port_url, wait_idle

from pytest_dai.simulator import DAISimulator

from .conftest import FAIL_MESSAGE, FAST, SCENARIO, junit, run, run_subprocess

#: :data:`SCENARIO` with a test configuration for each model run the scenarios use: each runs
#: that one model as its one test case.
PARITY = changed(
    SCENARIO,
    test_configs=[
        {"id": "tc-pass", "name": "Passing", "agent": "agent-2", "runs": [{"model": "Pass"}]},
        {"id": "tc-fail", "name": "Failing", "runs": [{"model": "Fail"}]},
        {"id": "tc-slow", "name": "Slow", "agent": "agent-1", "runs": [{"model": "Slow"}]},
    ],
)

#: Each scenario's run, by kind: (passing, failing, slow).
RUNS = {
    "model": (
        Target("model", "Pass", {"agent": "agent-2"}),
        Target("model", "Fail", {"agent": "agent-1"}),
        Target("model", "Slow", {"agent": "agent-1"}),
    ),
    "config": (
        Target("config", "Passing"),
        Target("config", "Failing"),
        Target("config", "Slow"),
    ),
}
KINDS = sorted(RUNS)
#: How the terminal and the JUnit file name the slow run (a configuration names no agent).
SLOW_LABEL = {"model": "Slow on agent-1", "config": "test configuration Slow"}
#: The test suite property of a run an interrupt aborted (its test has no testcase).
ABORTED = "dai_aborted_run"
#: The first line of a failure, for both kinds: what ran, its id, and the server's status word.
FIRST_LINE = re.compile(
    r"DAIRunFailed: DAI (run of model|test configuration) '(Fail|Failing)' "
    r"\((execution|result) [^)]+\) failed: status (?P<word>\S+)$"
)


def _passing(kind: str) -> Target:
    return RUNS[kind][0]


def _failing(kind: str) -> Target:
    return RUNS[kind][1]


def _slow(kind: str) -> Target:
    return RUNS[kind][2]


@pytest.fixture
def psim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """A simulator with :data:`PARITY`; the environment points at it; afterwards no run may be
    left going on it."""
    with DAISimulator(PARITY, port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator
        wait_idle(simulator)


@pytest.fixture(autouse=True)
def not_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines are counted as a terminal shows them (on CI pytest repeats the short summary)."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)


def _failure(path: Path, name: str) -> str:
    """The ``<failure>`` or ``<error>`` message and text of testcase ``name``."""
    root = ET.parse(path).getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == name)
    return "\n".join(
        f"{e.get('message', '')}\n{e.text or ''}" for e in case if e.tag in ("failure", "error")
    )


# -- a server that cannot be used -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_dead_server_fails_the_first_test_and_the_others_are_not_tried_again(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    point_env_at(monkeypatch, None)
    monkeypatch.setenv("DAI_URL", closed_port_url())
    monkeypatch.setenv("DAI_CLIENT_SECRET", "x-secret")
    pytester.makepyfile(test_dead=marked_tests(_passing(kind), 3))

    result = run(pytester)

    result.assert_outcomes(failed=1, errors=2)
    out = result.stdout.str()
    cause = [line for line in result.outlines if "connection refused" in line]
    assert len(cause) == 1, out
    assert "nothing listens on that port" in cause[0]
    again = "not tried again, see the first failure (test_dead.py::test_run_00)"
    assert sum(again in line for line in result.outlines) == 2, out
    assert "Retrying" not in out


@pytest.mark.parametrize("first", KINDS)
def test_tls_to_a_plain_http_port_gets_the_same_advice_for_both_kinds(
    pytester: pytest.Pytester, psim: DAISimulator, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    monkeypatch.setenv("DAI_URL", psim.url.replace("http://", "https://"))
    second = "config" if first == "model" else "model"
    pytester.makepyfile(
        test_tls=marked_tests(_passing(first), name="test_first")
        + marked_tests(_passing(second), name="test_second").removeprefix("import pytest\n")
    )

    result = run(pytester)

    result.assert_outcomes(failed=1, errors=1)
    out = result.stdout.str()
    port = psim.url.rsplit(":", 1)[1]
    result.stdout.fnmatch_lines([f"*speaks plain http, not https (use http://127.0.0.1:{port}*"])
    assert "not tried again, see the first failure (test_tls.py::test_first)" in out
    assert "CA bundle" not in out


# -- a run that fails -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_failure_names_the_failing_step_and_its_message(
    pytester: pytest.Pytester, psim: DAISimulator, kind: str
) -> None:
    pytester.makepyfile(test_fail=marked_tests(_failing(kind)))

    result = run(pytester)

    # (a configuration's failed test case is also a failed pytest subtest)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert junit(pytester)["test_run"].outcome == "failure"
    text = _failure(pytester.path / "junit.xml", "test_run")
    first = next(line for line in result.outlines if line.startswith("DAIRunFailed: "))
    shape = FIRST_LINE.match(first)
    assert shape is not None, first
    # the failing step and the message of its failing entry, as a model run reads its log
    assert f"failed in step 2: {FAIL_MESSAGE}" in text
    assert f"failed in step 2: {FAIL_MESSAGE}" in result.stdout.str()
    if kind == "config":  # ... under the failing test case's name
        assert re.search(r"Fail \(model Fail\): Failed\n\s+failed in step 2: ", text), text
    # the status word as the server wrote it, the same in the failure, property and summary
    word = shape["word"]
    assert junit(pytester)["test_run"].properties["dai_status"] == word
    summary = [line for line in result.outlines if line.endswith("test_fail.py::test_run")]
    assert len(summary) == 1, summary
    assert f"  {word}  " in summary[0], summary
    if kind == "model":
        assert word == psim.executions()[0]["status"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_live_lines_name_an_agent_only_where_the_run_has_one(
    pytester: pytest.Pytester, psim: DAISimulator, kind: str
) -> None:
    pytester.makepyfile(test_pass=marked_tests(_passing(kind)))

    result = run(pytester)

    result.assert_outcomes(passed=1)
    started = [line for line in result.outlines if line.startswith("DAI run started: ")]
    label = "Pass on agent-2" if kind == "model" else "test configuration Passing"
    assert len(started) == 1, result.stdout.str()
    assert started[0].startswith(f"DAI run started: {label}: http"), started
    assert "no agent" not in result.stdout.str()


@pytest.mark.parametrize("kind", KINDS)
def test_the_fixture_of_the_other_kind_is_a_usage_error_naming_the_right_one(
    pytester: pytest.Pytester, psim: DAISimulator, kind: str
) -> None:
    wrong = "dai_result" if kind == "model" else "dai_execution"
    right = "dai_execution" if kind == "model" else "dai_result"
    pytester.makepyfile(test_usage=marked_tests(_passing(kind), fixture=wrong))

    result = run(pytester)

    result.assert_outcomes(errors=1)
    line = next(line for line in result.outlines if "usage error" in line)
    assert f"its run is the {right} fixture" in line, line


def test_the_job_summary_lists_both_kinds_under_one_title(
    pytester: pytest.Pytester, psim: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(
        test_both=marked_tests(_passing("model"), name="test_model")
        + marked_tests(_passing("config"), name="test_config").removeprefix("import pytest\n")
    )

    run(pytester).assert_outcomes(passed=2)

    text = summary.read_text(encoding="utf-8")
    assert text.count("## DAI runs") == 1, text
    assert "model runs" not in text, text
    rows = {line.split(" | ")[0]: line.split(" | ")[1:3] for line in text.splitlines()[4:]}
    assert rows["| `test_both.py::test_model`"][0] == "Pass", text
    assert rows["| `test_both.py::test_config`"] == ["Passing", "-"], text


# -- the deadline and interrupts --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_past_its_deadline_the_run_is_aborted_and_the_test_fails(
    pytester: pytest.Pytester, psim: DAISimulator, kind: str
) -> None:
    pytester.makepyfile(test_deadline=marked_tests(_slow(kind), timeout=1))

    result = run_subprocess(pytester)

    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert re.search(r"DAIRunTimeout: DAI .* passed its deadline of 1 s and was aborted", out)
    props = junit(pytester)["test_run"].properties
    assert props["dai_aborted"] == "true"
    assert props["dai_status"].startswith("Aborted (last seen "), props
    # the screen the run was stuck on, kept as the failure's evidence
    assert Path(props["dai_screenshot"]).read_bytes().startswith(b"\x89PNG"), props
    assert psim.wait_for(lambda s: s.running_count() == 0, timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("signum", "xdist", "group"),
    [
        (signal.SIGINT, False, False),
        (signal.SIGINT, True, True),
        (signal.SIGTERM, True, False),
    ],
    ids=["ctrl-c", "ctrl-c-xdist", "sigterm-xdist"],
)
def test_an_interrupt_aborts_the_run_and_the_junit_file_says_so(
    pytester: pytest.Pytester,
    psim: DAISimulator,
    kind: str,
    signum: int,
    xdist: bool,
    group: bool,
) -> None:
    pytester.makepyfile(test_slow=marked_tests(_slow(kind)))
    args = ("-n", "2") if xdist else ()
    process = inner.popen(pytester, *FAST, *args, stderr=subprocess.STDOUT)
    try:
        inner.signal_when_running(process, psim, "Slow", signum, group=group)
        out, _ = process.communicate(timeout=60)
    finally:
        inner.kill_group(process)
    output = out.decode(errors="replace")

    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert psim.wait_for(lambda s: s.running_count() == 0, timeout=10), output
    aborted = [line for line in output.splitlines() if line.startswith("dai: aborted run ")]
    assert len(aborted) == 1, output
    assert aborted[0].endswith(f"({SLOW_LABEL[kind]})"), output
    root = ET.parse(pytester.path / "junit.xml").getroot()
    found = [p.get("value", "") for p in root.iter("property") if p.get("name") == ABORTED]
    assert len(found) == 1, ET.tostring(root, encoding="unicode")
    assert f"({SLOW_LABEL[kind]}): Aborted, test_slow.py::test_run " in found[0], found
