"""A finished test configuration read as an outcome, for both reports and the test's verdict:
its test case runs as steps, the exception it maps to (naming each failed test case and its
last error lines) and the one-line reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIError
from pytest_dai.client.status import RunState
from pytest_dai.lifecycle.run_errors import (
    DAIRunCancelled,
    DAIRunError,
    DAIRunFailed,
    DAIRunOutcome,
)
from pytest_dai.lifecycle.steps import StepResult

if TYPE_CHECKING:
    from pytest_dai.lifecycle.test_config_run import TestConfigResult
    from pytest_dai.lifecycle.test_config_support import TestResult

#: The most failed test cases a failure lists (each is a subtest as well).
FAILED_LISTED = 100


def quick_test_results(result: TestConfigResult) -> None:
    """The test results as far as the server tells at once (the wait was interrupted)."""
    if result.test_results:
        return
    try:
        result.load_test_results(quick=True)
    except DAIError:
        return


def _step_outcome(tr: TestResult) -> str:
    state = tr.state
    if state is RunState.PASSED:
        return "passed"
    if state is RunState.FAILED:
        return "failed"
    if state is RunState.CANCELLED or not tr.status_info.final:
        return "skipped"
    return "error"


def config_steps(
    result: TestConfigResult, interrupted: str = "", messages: dict[str, str] | None = None
) -> list[StepResult]:
    """The steps-file view of a test-config run: one step per test case run."""
    steps = []
    for number, tr in enumerate(result.test_results, 1):
        outcome = _step_outcome(tr)
        message = "" if outcome == "passed" else (messages or {}).get(tr.id, "") or tr.status
        if outcome == "skipped" and interrupted:
            message = f"not finished: {interrupted}"
        steps.append(
            StepResult(number, f"{number:03d} {tr.name}", outcome, tr.duration or 0.0, message)
        )
    if result.results_note:  # the server listed more than the limit: the last testcase says so
        number = len(steps) + 1
        note = result.results_note
        steps.append(StepResult(number, f"{number:03d} (not reported)", "skipped", 0.0, note))
    return steps


def config_outcome(result: TestConfigResult, messages: dict[str, str]) -> DAIRunOutcome | None:
    """The exception a finished test-config run maps to (None when it passed): the failure
    names each failed test case, its last error lines (``messages``, by test result id) and
    the result's address."""
    where = f"DAI test configuration {result.name!r} (result {result.id})"
    lines = []
    failed = [tr for tr in result.test_results if not tr.passed]
    if failed:
        lines.append("failed test cases:")
        for tr in failed[:FAILED_LISTED]:
            model = f" (model {tr.model})" if tr.model else ""
            lines.append(f"  {tr.name}{model}: {tr.status}")
            lines.extend(f"    {line}" for line in messages.get(tr.id, "").splitlines())
        if len(failed) > FAILED_LISTED:
            lines.append(
                f"  ... and {len(failed) - FAILED_LISTED} more (the first {FAILED_LISTED} are "
                "listed here; each is a subtest)"
            )
    if result.results_note:
        lines.append(result.results_note)
    lines.append(f"result: {result.url}")
    details = "\n".join(lines)
    reason = config_reason(failed, messages)
    status = result.status_info
    if status.state is RunState.PASSED:
        return None
    if status.state is RunState.FAILED:
        cls: type[DAIRunOutcome] = DAIRunFailed
        text = f"{where} failed: status {status.word}"
    elif status.state is RunState.CANCELLED:
        cls, text = DAIRunCancelled, f"{where} was cancelled on the server: status {status.word}"
    else:
        cls, text = DAIRunError, f"{where} ended in error: status {status.describe()}"
    return cls(text, execution=result, details=details, reason=reason)


def config_reason(failed: list[TestResult], messages: dict[str, str]) -> str:
    """The one line that says why a test configuration did not pass: its first failed test
    case and that case's failure line (``failed in test case Checkout: failed in step 2: Card
    was declined``; its status where the log tells nothing), and how many more failed."""
    if not failed:
        return ""
    first = failed[0]
    lines = [line.strip() for line in messages.get(first.id, "").splitlines() if line.strip()]
    text = f"failed in test case {first.name}: {lines[-1] if lines else first.status}"
    if len(failed) > 1:
        text += f" (and {len(failed) - 1} more failed test cases)"
    return text
