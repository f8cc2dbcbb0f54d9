"""Parts of a test-config run that stand on their own: one test case run's result
(:class:`TestResult`), the abort with its fallback (:func:`abort_task_instance`), and the
reaping of a run a killed session left (:func:`reap_test_config`). Contract section 2.6.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_dai.client.errors import (
    DAIError,
)
from pytest_dai.client.status import RunState, Status
from pytest_dai.lifecycle.runlog import failure_reason

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.records import LogEntry
    from pytest_dai.client.test_configs import TestConfigAPI, TestResultRecord
    from pytest_dai.lifecycle.journal import JournalEntry

__all__ = [
    "TestResult",
    "abort_task_instance",
    "reap_test_config",
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

    def failure_reason(self, logs: list[LogEntry] | None) -> str:
        """Why this test case run failed, in one line (``failed in step 2: <message>``), read
        from its log as a model run's is; "" when it did not fail or the log does not tell."""
        return failure_reason(logs, self.state)

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


def reap_test_config(api: TestConfigAPI, entry: JournalEntry) -> str:
    """Abort a test-config run a killed session left going (a journal entry of kind
    "test_config"); returns how it went. Raises DAIError when it could not be aborted."""
    task_instance_id = entry.execution_id

    def test_results() -> list[TestResultRecord]:
        if not entry.config_id:
            return []
        listed = api.results(
            entry.config_id,
            enough=lambda records: any(r.task_instance_id == task_instance_id for r in records),
        )
        ours = [r for r in listed if r.task_instance_id == task_instance_id]
        return api.test_results(ours[0].id, quick=True) if ours else []

    ok, how = abort_task_instance(api, task_instance_id, test_results=test_results)
    if not ok:
        raise DAIError(how)
    return how
