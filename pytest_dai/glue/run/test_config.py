"""A ``dai_test_config`` test's run: start the test configuration after the fixtures, wait,
report (properties, subtests, steps, DAI's JUnit), and decide the outcome.

Called from ``pytest_runtest_call`` (see :mod:`pytest_dai.plugin`), like the model runner
(:mod:`pytest_dai.glue.run.runner`), whose deadline, live line, hooks and outcome mapping it shares.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, cast

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.client.status import RunState
from pytest_dai.glue.base.keys import EXECUTION_KEY, IN_SUBTESTS_KEY, MESSAGES_KEY, RERUN_OF_KEY
from pytest_dai.glue.base.user_hooks import call_hook, from_user_hook
from pytest_dai.glue.report.artifacts import remember
from pytest_dai.glue.report.facts import set_property
from pytest_dai.glue.report.history import expected_duration, history_key
from pytest_dai.glue.report.rerun import previous_task_instance
from pytest_dai.glue.run.evidence import guarded_fetch, keep_evidence
from pytest_dai.glue.run.parameters import PROPERTY as PARAMETERS_PROPERTY
from pytest_dai.glue.run.parameters import names_property, overrides, overrides_text
from pytest_dai.glue.run.prestart import claim
from pytest_dai.glue.run.runner import (
    LOG_SECTION,
    _why,
    apply_outcome,
    keep_steps,
    record,
    wait_for_run,
)
from pytest_dai.lifecycle.outcome import (
    DAIDryRun,
)
from pytest_dai.lifecycle.runlog import reads_as_error
from pytest_dai.lifecycle.test_config_outcome import config_steps, quick_test_results

if TYPE_CHECKING:
    from pytest_dai.client.records import LogEntry
    from pytest_dai.glue.markers.test_config import TestConfigSpec
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.test_config_run import TestConfigResult
    from pytest_dai.lifecycle.test_config_support import TestResult

__all__ = [
    "RERUN_FILTER",
    "run_test_config_test",
]

#: What ``--dai-rerun-failed`` asks of a failed test configuration: only its failed and
#: errored steps (eggplant-runner's ``filterBy step_status_include=Failed,Error``).
RERUN_FILTER = {"step_status_include": ("Failed", "Error")}
#: At most this many failed test cases have their logs read for the failure message.
MAX_FAILED_LOGS = 10
#: At most this many failed test cases are listed in the failure's text.
LAST_LINES = 3
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def run_test_config_test(item: pytest.Item, state: DAIState, spec: TestConfigSpec) -> object:
    """Start the test configuration, wait (aborting on any interruption), report, and apply
    the outcome. Returns the finished :class:`TestConfigResult` when the body may run."""
    __tracebackhide__ = from_user_hook
    ahead = claim(item)
    result = cast("TestConfigResult", ahead) if ahead is not None else None
    if result is None:
        result = start_config_run(item, state, spec)
    # Earlier passed runs of this configuration say when it ends: the wait polls near there.
    result.expected_duration = expected_duration(item.config, history_key(result.name, result.kind))
    item.stash[EXECUTION_KEY] = result
    record(item, result)

    def on_interrupt(exc: BaseException) -> None:
        quick_test_results(result)
        why = _why(exc)
        keep_steps(item, state, result, config_steps(result, interrupted=why), why)

    timed_out = wait_for_run(item, result, spec, on_interrupt)
    if timed_out is not None:
        quick_test_results(result)
        why = "the run deadline passed"
        # As for a model run: the log and the screen each unfinished test case was stuck on.
        messages, log_text = _failure_lines(item, state, result)
        if log_text:
            item.add_report_section("call", LOG_SECTION, log_text)
        steps = config_steps(result, interrupted=why, messages=messages)
        keep_steps(item, state, result, steps, why)
        raise timed_out
    _save_junit(item, state, result)
    messages, log_text = _failure_lines(item, state, result)
    item.stash[MESSAGES_KEY] = messages
    _subtests(item, result, messages)
    if result.results_note:
        item.add_report_section("call", "dai test results", result.results_note)
    if log_text:  # after the subtests: each of their reports would repeat it
        item.add_report_section("call", LOG_SECTION, log_text)
    keep_steps(item, state, result, config_steps(result, messages=messages), "")
    outcome = call_hook(item.config.hook.pytest_dai_map_outcome, item=item, execution=result)
    apply_outcome(item, result, outcome)
    return result


def start_config_run(item: pytest.Item, state: DAIState, spec: TestConfigSpec) -> TestConfigResult:
    """Start the marker's test configuration (with ``--dai-rerun-failed``, only the failed
    and errored steps of the failed result, and the report says so)."""
    rerun_of = item.stash.get(RERUN_OF_KEY, "")
    filters: dict[str, tuple[str, ...]] = dict(spec.filter_by)
    previous = ""
    if rerun_of:
        filters.update(RERUN_FILTER)
        previous = previous_task_instance(item.config, item.nodeid)
    found = overrides(state, spec)
    if found:
        set_property(item, PARAMETERS_PROPERTY, names_property(found))
    try:
        result = state.session().start_test_config(
            spec.config,
            model=spec.model,
            suite=spec.suite,
            space=spec.space,
            parameters={override.name: override.value for override in found} or None,
            filter_by=filters or None,
            previous_task_instance_id=previous or None,
        )
    except DAIDryRun as exc:  # the plan lists each override, and where it came from
        if not found:
            raise
        raise DAIDryRun(f"{exc}; {overrides_text(found)}") from None
    result.rerun_of = rerun_of
    if rerun_of:
        of_task = f", task instance {previous}" if previous else ""
        item.add_report_section(
            "call",
            "dai rerun",
            f"re-ran only the failed and errored steps of result {rerun_of}{of_task} "
            "(filter step_status_include=Failed,Error)",
        )
    return result


def _save_junit(item: pytest.Item, state: DAIState, result: TestConfigResult) -> None:
    """Save DAI's own JUnit (E13) under ``dai_artifacts``, named in ``dai_junit``."""
    try:
        text = result.junit()
    except DAIError as exc:
        item.add_report_section("call", "dai junit", f"DAI's JUnit could not be read: {exc}")
        return
    if text is None:
        return
    folder = os.path.abspath(state.settings.artifacts)
    name = _UNSAFE.sub("_", f"{item.nodeid}-{result.id}")[-150:] + ".junit.xml"
    path = os.path.join(folder, name)
    try:
        os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        item.add_report_section("call", "dai junit", f"DAI's JUnit could not be saved: {exc}")
        return
    remember(path)  # the next session removes it (evidence of one session only)
    set_property(item, "dai_junit", path)


def _failure_lines(
    item: pytest.Item, state: DAIState, result: TestConfigResult
) -> tuple[dict[str, str], str]:
    """Each failed test case's last error lines (E10), by test result id, and their logs
    (for the report section); the screenshot each failing action saw is kept as evidence
    (``dai_screenshot``, one per failed test case)."""

    messages: dict[str, str] = {}
    sections: list[str] = []
    failed = [tr for tr in result.test_results if not tr.passed][:MAX_FAILED_LOGS]
    for tr in failed:
        try:
            logs = tr.logs()
        except DAIError as exc:
            messages[tr.id] = f"(its log could not be read: {exc})"
            continue
        keep_evidence(
            item,
            logs,
            guarded_fetch(item, result.api.client.screenshot),
            folder=state.settings.artifacts,
            run=tr.id,
            failed=True,
        )
        messages[tr.id] = _why_it_failed(tr, logs)
        sections.append(f"--- {tr.name} ({tr.status})\n" + "\n".join(e.format() for e in logs))
    return messages, "\n".join(sections)


def _why_it_failed(tr: TestResult, logs: list[LogEntry]) -> str:
    """A failed test case run's message, read from its log as a model run's failure is (its
    failing entry: ``failed in step 2: <message>``); where the log does not tell, its last
    lines that read as errors."""
    reason = tr.failure_reason(logs)
    if reason:
        return reason
    errors = [e for e in logs if reads_as_error(e)] or logs[-1:]
    return "\n".join(e.message for e in errors[-LAST_LINES:])


def _subtests(item: pytest.Item, result: TestConfigResult, messages: dict[str, str]) -> None:
    """One pytest subtest per test case run (pytest's ``subtests``, pytest 9 and later);
    without it the failure text alone names them."""
    request = getattr(item, "_request", None)
    if request is None or not result.test_results:
        return
    try:
        subtests = request.getfixturevalue("subtests")
    except pytest.FixtureLookupError:
        return
    item.stash[IN_SUBTESTS_KEY] = True
    try:
        for tr in result.test_results:
            with subtests.test(msg=tr.name, dai_test_result=tr.id):
                if tr.state is RunState.CANCELLED:
                    pytest.skip(f"{tr.name}: {tr.status}")
                if not tr.passed:
                    message = f"{tr.name}: {tr.status}\n{messages.get(tr.id, '')}".rstrip()
                    pytest.fail(message, pytrace=False)
    finally:
        item.stash[IN_SUBTESTS_KEY] = False
