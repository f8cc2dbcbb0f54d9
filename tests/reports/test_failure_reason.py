"""The reason of a failure where CI users look: the GitHub ``::error`` annotation and the job
summary's row carry the failure's reason line (the failed step or test case and its message,
the line the terminal and JUnit show) and the run's address, kept short; for a model run and
for a test configuration, also from pytest-xdist workers."""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.env import point_env_at
from harness.inner import FAST

from pytest_dai.glue.report.failure_reason import REASON_LIMIT, shortened
from pytest_dai.glue.report.github import annotation
from pytest_dai.simulator import DAISimulator

from .support import SCENARIO
from .test_github import read_table

DECLINED = "failed in step 2: Card declined: expected 'Order confirmed' but saw 'Failed'"

MODEL_MODULE = """import pytest


@pytest.mark.dai_model("Failing", agent="a1")
def test_model():
    pass


@pytest.mark.dai_model("Passing", agent="a2")
def test_passing():
    pass
"""

CONFIG_MODULE = """import pytest


@pytest.mark.dai_test_config("Checkout")
def test_config():
    pass
"""


@pytest.fixture
def csim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DAISimulator]:
    """The reports' simulator with a test configuration whose second test case fails."""
    data: dict[str, Any] = copy.deepcopy(SCENARIO)
    data["test_configs"] = [
        {
            "id": "tc-checkout",
            "name": "Checkout",
            "runs": [{"model": "Passing"}, {"model": "Failing"}],
        }
    ]
    with DAISimulator(data, port=0) as simulator:
        point_env_at(monkeypatch, simulator)
        yield simulator


def github_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[pytest.RunResult, str]:
    """The inner pytest (a process of its own) as GitHub Actions runs it: its result and the
    job summary it wrote."""
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = pytester.runpytest_subprocess(*FAST, *args, timeout=120)
    return result, summary.read_text(encoding="utf-8")


def annotation_of(result: pytest.RunResult, test: str) -> str:
    (line,) = [a for a in result.outlines if a.startswith("::error ") and f"%3A%3A{test}::" in a]
    return line.split("::", 2)[2]


def plain(markdown: str) -> str:
    """Markdown text as a reader sees it (the job summary's escapes undone)."""
    return re.sub(r"\\(.)", r"\1", html.unescape(markdown).replace("\u200b", ""))


def row_of(summary: str, test: str) -> dict[str, str]:
    """The cells of ``test``'s row in the job summary's table, as a reader sees them."""
    header, rows = read_table(summary)
    (row,) = [row for row in rows if row[0].endswith(f"::{test}`")]
    return {name: plain(cell) for name, cell in zip(header, row, strict=True)}


@pytest.mark.slow
@pytest.mark.parametrize("workers", [None, "2"])
def test_a_failed_model_run_annotation_and_row_carry_its_reason_and_address(
    pytester: pytest.Pytester,
    sim: DAISimulator,
    monkeypatch: pytest.MonkeyPatch,
    workers: str | None,
) -> None:
    pytester.makepyfile(test_gh=MODEL_MODULE)
    result, summary = github_run(pytester, monkeypatch, *(["-n", workers] if workers else []))
    result.assert_outcomes(passed=1, failed=1)
    # the same line the terminal shows under the failure
    result.stdout.fnmatch_lines([f"*{DECLINED}*"])

    message = annotation_of(result, "test_model")
    assert message.startswith("DAIRunFailed: DAI run of model 'Failing'"), message
    assert f" -- {DECLINED} -- run: http://127.0.0.1:" in message, message
    assert re.search(r"run: http://127\.0\.0\.1:\d+/runs/\d+ \(screenshot: ", message), message
    assert "%0A" not in message

    row = row_of(summary, "test_model")
    assert row["reason"] == DECLINED
    assert row_of(summary, "test_passing")["reason"] == "-"
    failures = plain(summary.split("### Failures", 1)[1])
    assert f"  - reason: {DECLINED}" in failures
    assert re.search(r"  - run: \[http://127\.0\.0\.1:\d+/runs/\d+\]\(http://", failures), failures


@pytest.mark.slow
def test_a_failed_test_configuration_annotation_and_row_carry_its_reason(
    pytester: pytest.Pytester, csim: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_gh=CONFIG_MODULE)
    result, summary = github_run(pytester, monkeypatch)
    assert result.ret == 1
    message = annotation_of(result, "test_config")
    assert message.startswith("DAIRunFailed: DAI test configuration 'Checkout'"), message
    reason = re.search(r" -- (failed in test case [^-]+?) -- run: (\S+)", message)
    assert reason is not None, message
    assert "Failed" in reason.group(1)
    assert "Card declined" in reason.group(1), message
    assert reason.group(2).startswith("http://127.0.0.1:")

    row = row_of(summary, "test_config")
    assert row["reason"].startswith("failed in test case "), row
    assert "Card declined" in row["reason"]
    assert f"  - reason: {reason.group(1)}" in plain(summary)


def test_an_annotation_stays_one_short_line() -> None:
    reason = "failed in step 9: " + "x" * 2000 + "\nsecond line"
    line = annotation(
        "t.py::test_a",
        {
            "message": "DAIRunFailed: DAI run of model 'M' (execution 1) failed: status Failed",
            "reason": shortened(reason),
            "url": "https://dai.example.com/runs/7",
            "file": "t.py",
            "line": 3,
        },
    )
    message = line.split("::", 2)[2]
    assert "%0A" not in message
    assert "\n" not in message
    assert len(message) < REASON_LIMIT + 200
    assert message.endswith("... -- run: https://dai.example.com/runs/7"), message


def test_shortened_keeps_a_short_line_and_cuts_a_long_one() -> None:
    assert shortened("a\n  b") == "a b"
    cut = shortened("word " * 100, 40)
    assert len(cut) <= 40
    assert cut.endswith("...")


def test_no_reason_without_an_outcome_exception(tmp_path: Path) -> None:
    from pytest_dai.client.status import RunState
    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.glue.report.failure_reason import failure_facts, note_reason
    from pytest_dai.lifecycle.run_errors import DAIRunFailed

    run = RunReport("model", "e1", "M", "t.py::t", "Failed", RunState.FAILED, "https://x/runs/1")
    note_reason([run], AssertionError("plain"))
    assert run.reason == ""
    assert failure_facts(AssertionError("plain"), [run]) == {"url": "https://x/runs/1"}
    note_reason([run], DAIRunFailed("summary", reason="failed in step 1:\n boom"))
    assert run.reason == "failed in step 1: boom"
