"""Parts of a test-config run that stand on their own: one test case run's result
(:class:`TestResult`), the abort with its fallback (:func:`abort_task_instance`), and the
name lookup (:func:`resolve_test_config`). Contract section 2.6.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from pytest_dai.client.calls import LIST_TEST_CONFIGS, START_TEST_CONFIG
from pytest_dai.client.deadline import call_budget
from pytest_dai.client.errors import (
    DAIAuthError,
    DAIConfigError,
    DAIError,
    DAIHTTPError,
    DAINotFoundError,
)
from pytest_dai.client.status import RunState, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from datetime import datetime

    from pytest_dai.client.records import LogEntry
    from pytest_dai.client.test_configs import TestConfig, TestConfigAPI, TestResultRecord
    from pytest_dai.lifecycle.journal import JournalEntry

__all__ = [
    "TestResult",
    "abort_task_instance",
    "config_start_may_have_started",
    "reap_test_config",
    "recover_lost_config_start",
    "resolve_test_config",
]


class TestResult:
    """One test case run of a test-config result (E9): ``id``, ``status``, ``name``,
    ``model``, ``duration``, ``logs()``, ``screenshots()``."""

    __test__ = False

    def __init__(self, api: TestConfigAPI, record: TestResultRecord) -> None:
        self._api = api
        self.record = record

    def __repr__(self) -> str:
        return f"<TestResult {self.id} {self.name!r} {self.status}>"

    @property
    def id(self) -> str:
        """The test result id."""
        return self.record.id

    @property
    def name(self) -> str:
        """The test case name."""
        return self.record.name

    @property
    def model(self) -> str | None:
        """The model it ran, where the server says."""
        return self.record.model

    @property
    def execution_id(self) -> str | None:
        """Its model execution (for E3), where the server says."""
        return self.record.execution_id

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, where known."""
        return self.record.duration

    @property
    def status_info(self) -> Status:
        """The normalised status."""
        return self.record.status

    @property
    def status(self) -> str:
        """The server's status word."""
        return self.record.status.word

    @property
    def state(self) -> RunState:
        """The normalised state."""
        return self.record.status.state

    @property
    def passed(self) -> bool:
        """True when this test case run passed."""
        return self.state is RunState.PASSED

    def logs(self) -> list[LogEntry]:
        """The test result's log (E10)."""
        return self._api.test_result_logs(self.id)

    def screenshots(self) -> list[dict[str, Any]]:
        """The test result's screenshot records (E11), each with an ``id``."""
        return self._api.test_result_screenshots(self.id)


def abort_task_instance(
    api: TestConfigAPI,
    task_instance_id: str,
    *,
    test_results: Callable[[], list[TestResultRecord]] | None = None,
    timeout: float | None = None,
) -> tuple[bool, str]:
    """Abort a test-config run: the task-instance DELETE, and where the server has none (404
    or 405), E3 on each still-running test result's execution. Returns (the run is stopped or
    over, how it went in words). Raises only DAIError (from the first DELETE)."""
    answer = api.abort(task_instance_id, timeout=timeout)
    if answer is True:
        return True, f"aborted with DELETE task_instances/{task_instance_id}"
    if answer is False:
        return True, "the run was already over when the abort was sent"
    prefix = f"DELETE task_instances/{task_instance_id} is not supported by this server (404/405)"
    if test_results is None:
        return False, f"{prefix}, and the result is not known yet: could not abort"
    try:
        running = [r for r in test_results() if not r.status.final and r.execution_id]
    except DAIError as exc:
        return False, f"{prefix}, and its test results could not be read: {exc}"
    stopped, failed = 0, []
    for record in running:
        assert record.execution_id is not None
        try:
            api.client.abort_execution(record.execution_id, timeout=timeout)
            stopped += 1
        except DAIError as exc:
            failed.append(str(exc))
    how = f"{prefix}; aborted {stopped} running model execution(s) one by one"
    if failed:
        return False, f"{how}; could not abort {len(failed)}: {failed[0]}"
    return True, how


def resolve_test_config(
    configs: list[TestConfig],
    ref: str,
    *,
    model: str | None = None,
    suite: str | None = None,
    listed_by: str = LIST_TEST_CONFIGS.request(),
) -> TestConfig:
    """The config whose id or name is ``ref``; a name several configs share is told apart by
    ``model`` (model-based configs) or ``suite`` (script-based ones). Unknown: DAINotFoundError
    with close matches (``listed_by`` says where the list came from); still ambiguous:
    DAIConfigError listing the models and suites."""
    by_id = [c for c in configs if c.id == ref]
    if by_id:
        return by_id[0]
    named = [c for c in configs if c.name == ref] or [
        c for c in configs if c.name.casefold() == ref.casefold()
    ]
    if model is not None:
        named = [c for c in named if (c.model or "").casefold() == model.casefold()]
    if suite is not None:
        named = [c for c in named if (c.suite or "").casefold() == suite.casefold()]
    if len(named) == 1:
        return named[0]
    if not named:
        names = sorted({c.name for c in configs})
        close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
        hint = (
            "close matches: " + ", ".join(repr(n) for n in close)
            if close
            else "known test configurations: " + (", ".join(repr(n) for n in names[:10]) or "none")
        )
        told = "".join(
            f" with {word} {value!r}"
            for word, value in (("model", model), ("suite", suite))
            if value
        )
        raise DAINotFoundError(
            f"unknown test configuration {ref!r}{told}: not among those listed by {listed_by}; "
            f"{hint}"
        )
    kinds = ", ".join(
        f"{c.id} (model {c.model!r})" if c.model else f"{c.id} (suite {c.suite!r})" for c in named
    )
    raise DAIConfigError(
        f"test configuration name {ref!r} is shared by {len(named)} configurations ({kinds}): "
        "tell them apart with model=... or suite=..., or give the id"
    )


def reap_test_config(api: TestConfigAPI, entry: JournalEntry) -> str:
    """Abort a test-config run a killed session left going (a journal entry of kind
    "test_config"); returns how it went. Raises DAIError when it could not be aborted."""
    task_instance_id = entry.execution_id

    def test_results() -> list[TestResultRecord]:
        if not entry.config_id:
            return []
        ours = [r for r in api.results(entry.config_id) if r.task_instance_id == task_instance_id]
        return api.test_results(ours[0].id, quick=True) if ours else []

    ok, how = abort_task_instance(api, task_instance_id, test_results=test_results)
    if not ok:
        raise DAIError(how)
    return how


#: Clock skew allowed when telling whether a result started after a lost start, seconds.
LOST_START_SKEW = 30.0
#: The most one search-and-abort for a lost start takes, seconds.
LOST_START_BUDGET = 10.0


def config_start_may_have_started(exc: BaseException) -> bool:
    """Whether an E7 that failed with ``exc`` may have started the configuration anyway:
    everything but an answer saying it did not (a 4xx, refused credentials)."""
    if isinstance(exc, DAIAuthError):
        return False
    if isinstance(exc, DAIHTTPError):
        return exc.status is None or exc.status >= 500
    if isinstance(exc, DAIError):
        return START_TEST_CONFIG.named_in(exc.endpoint)
    return True  # Ctrl-C, SIGTERM or pytest-timeout while E7 was on its way


def recover_lost_config_start(
    api: TestConfigAPI,
    config: TestConfig,
    started_wall: datetime,
    known_task_ids: Collection[str] = (),
) -> str:
    """A start (E7) whose answer was lost: find the result(s) of ``config`` it may have
    created (not final, started at or after the start, allowing clock skew, or queued with no
    start time yet; not one of ours) and abort them. Bounded in time; never raises a DAIError.
    Returns one line saying what was found and done ("" when nothing was found)."""
    earliest = started_wall - timedelta(seconds=LOST_START_SKEW)
    try:
        with call_budget(LOST_START_BUDGET):
            records = api.results(config.id)
    except DAIError as exc:
        return (
            f"a start of test configuration {config.name!r} got no answer and its results "
            f"could not be listed to find the run: {exc}"
        )
    done: list[str] = []
    for record in records:
        if record.status.final or record.task_instance_id in known_task_ids:
            continue
        if record.started_at is not None and record.started_at < earliest:
            continue
        try:
            with call_budget(LOST_START_BUDGET):
                if record.task_instance_id is not None:
                    _, how = abort_task_instance(
                        api,
                        record.task_instance_id,
                        test_results=partial(api.test_results, record.id, quick=True),
                    )
                else:
                    running = [
                        r
                        for r in api.test_results(record.id, quick=True)
                        if not r.status.final and r.execution_id
                    ]
                    for test_result in running:
                        api.client.abort_execution(test_result.execution_id or "")
                    how = f"aborted {len(running)} running model execution(s) one by one"
        except DAIError as exc:
            how = f"could not abort: {exc}"
        done.append(f"result {record.id}: {how}")
    if not done:
        return ""
    return (
        f"a start of test configuration {config.name!r} got no answer; the run it may have "
        f"started was looked for: {'; '.join(done)}"
    )
