"""One run of a DAI test configuration: start (E7), find our result (E8), wait, abort, and
the per-test-case results (E9 to E11, E13). Contract section 2.6.

A :class:`TestConfigResult` is made by :meth:`DAISession.start_test_config`. Like a model
run's :class:`~pytest_dai.lifecycle.execution.Execution`, its :meth:`~TestConfigResult.wait`
polls with the same adaptive schedule and aborts the run before any exception leaves it.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from pytest_dai.client import defaults
from pytest_dai.client.calls import CONFIG_RESULTS
from pytest_dai.client.errors import DAIError
from pytest_dai.client.server_text import FAN_OUT_LIMIT, address_id
from pytest_dai.lifecycle.polled_run import PolledRun
from pytest_dai.lifecycle.run_errors import DAIRunTimeout
from pytest_dai.lifecycle.test_config_support import TestResult, abort_task_instance

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.test_configs import (
        TestConfig,
        TestConfigAPI,
        TestConfigResultRecord,
        TestResultRecord,
    )

__all__ = ["CLOCK_SKEW", "TestConfigResult"]

log = logging.getLogger("pytest_dai")

#: How far a result's start time may be before our E7 (by our clock) and still be ours,
#: for a server whose results carry no ``task_instance_id``.
CLOCK_SKEW = 10.0

_claimed_lock = threading.Lock()
_claimed: set[tuple[str, str]] = set()  # (server url, result id) matched by time


class TestConfigResult(PolledRun["TestConfigResultRecord"]):
    """A run of a test configuration; attributes mirror the latest E8 record.

    ``id`` is the result id (None until the server lists the result), ``task_instance_id``
    what E7 answered, ``url`` the result's address (template setting), ``test_results`` the
    per-test-case results (fetched once the run is final, at the end of
    :meth:`~PolledRun.wait`). ``kind`` is ``"test_config"`` (a model run's ``Execution.kind``
    is ``"model"``). :meth:`~PolledRun.abort` stops the run with :func:`abort_task_instance`;
    ``abort_report`` says how it went.
    """

    __test__ = False
    kind = "test_config"

    def __init__(
        self,
        api: TestConfigAPI,
        config: TestConfig,
        task_instance_id: str,
        *,
        started_wall: datetime | None = None,
        result_url: str = defaults.RESULT_URL,
        poll_interval: float = defaults.POLL_INTERVAL,
        record_grace: float = 120.0,
        expected_duration: float | None = None,
        on_end: Callable[[TestConfigResult], None] | None = None,
    ) -> None:
        super().__init__(poll_interval, record_grace, expected_duration, on_end)
        self._api = api
        self.config = config
        self.task_instance_id = task_instance_id
        self.test_results: list[TestResult] = []
        self.abort_report = ""
        self.rerun_of = ""
        #: Whether the server listed more test results than :data:`FAN_OUT_LIMIT`.
        self.results_cut = False
        self._result_url = result_url
        self._started_wall = started_wall or datetime.now(timezone.utc)

    def __repr__(self) -> str:
        return f"<TestConfigResult {self.id} config={self.name!r} {self.status}>"

    # -- state ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The test configuration's name."""
        return self.config.name

    @property
    def model(self) -> str:
        """The configuration's name (what the summary and hooks show where a model run shows
        its model)."""
        return self.config.name

    #: A test configuration names no single agent and gives no step counts.
    agent: str | None = None
    steps_total: int | None = None
    steps_done: int | None = None
    steps_failed: int | None = None

    @property
    def id(self) -> str | None:
        """The result id, once the server lists the result."""
        return self.record.id if self.record is not None else None

    @property
    def url(self) -> str:
        """The result's address in the DAI UI (the result-URL template)."""
        return self._result_url.format(
            url=self._api.client.url,
            id=address_id(self.id or self.task_instance_id),
            task_instance_id=address_id(self.task_instance_id),
            test_config_id=address_id(self.config.id),
        )

    # -- actions -------------------------------------------------------------------------------

    def _pick(self, records: list[TestConfigResultRecord]) -> TestConfigResultRecord | None:
        """Ours: by task instance id; else (no ids given) the newest that started at or after
        our start (clock skew allowed) and is not another run's."""
        if self.record is not None:
            return next((r for r in records if r.id == self.record.id), None)
        for record in records:
            if record.task_instance_id == self.task_instance_id:
                return record
        earliest = self._started_wall - timedelta(seconds=CLOCK_SKEW)
        server = self._api.client.url
        # Newest first by the records' own start times, not by the server's order.
        by_time = sorted(
            records, key=lambda r: -r.started_at.timestamp() if r.started_at else -math.inf
        )
        with _claimed_lock:
            for record in by_time:
                if record.task_instance_id is not None or (server, record.id) in _claimed:
                    continue
                if record.started_at is None or record.started_at >= earliest:
                    _claimed.add((server, record.id))
                    return record
        return None

    def _fetch(self) -> TestConfigResultRecord | None:
        """Our result, None while the server lists none. Once its id is known, one read of
        that result (E8 ``/{id}``: a poll is one request); on a server without that call,
        and until then, the configuration's results (pages read until ours is among them,
        or older ones only are left, bounded)."""
        if self.record is not None and self._api.one_result_reads:
            found = self._api.result(self.record.id)
            if found is not None and found.id == self.record.id:
                return found
        return self._pick(self._api.results(self.config.id, enough=self._enough))

    def _enough(self, records: list[TestConfigResultRecord]) -> bool:
        """Whether the results read (newest first) hold ours, or can no longer: by task
        instance id or the result id known; without task instance ids, once a result
        started before ours (clock skew allowed) is read."""
        if self.record is not None:
            return any(r.id == self.record.id for r in records)
        if any(r.task_instance_id == self.task_instance_id for r in records):
            return True
        if any(r.task_instance_id is not None for r in records):
            return False
        earliest = self._started_wall - timedelta(seconds=CLOCK_SKEW)
        return any(r.started_at is not None and r.started_at < earliest for r in records)

    def _missing(self) -> str:
        """The call and the task instance that has no result."""
        label = self._api.client.label(CONFIG_RESULTS)
        return f"{label}: no result for task instance {self.task_instance_id}"

    def _timeout_error(self, timeout: float, source: str) -> DAIRunTimeout:
        """The :class:`DAIRunTimeout` of a run aborted on its deadline."""
        return DAIRunTimeout(
            f"DAI test configuration {self.name!r} (task instance "
            f"{self.task_instance_id}) passed its deadline of {timeout:g} s{source} "
            f"and was aborted; last status {self.status}",
            execution=self,
            details=f"abort: {self.abort_report}\nresult: {self.url}",
            reason=f"the run deadline of {timeout:g} s passed; last status {self.status}",
        )

    def _after_end(self) -> None:
        """Once the run has ended: fetch its test results."""
        self.load_test_results()

    @property
    def api(self) -> TestConfigAPI:
        """The test-configuration endpoints this run talks to."""
        return self._api

    def load_test_results(self, *, quick: bool = False) -> list[TestResult]:
        """The per-test-case results (E9), fetched now (``quick``: with the abort's short
        timeout and few attempts, for an interrupted wait)."""
        if self.id is not None:
            records = self._api.test_results(self.id, quick=quick)
            self.results_cut = len(records) > FAN_OUT_LIMIT
            kept = records[:FAN_OUT_LIMIT]
            self.test_results = [TestResult(self._api, record) for record in kept]
        return self.test_results

    @property
    def results_note(self) -> str:
        """Says that the server listed more test results than are reported ("" when not)."""
        if not self.results_cut:
            return ""
        return (
            f"the server listed more than {FAN_OUT_LIMIT} test results: the first "
            f"{FAN_OUT_LIMIT} are reported (the limit)"
        )

    def _quick_test_results(self) -> list[TestResultRecord]:
        return self._api.test_results(self.id or "", quick=True)

    def junit(self) -> str | None:
        """DAI's own JUnit XML of the result (E13); None when the server has none."""
        return self._api.junit(self.id) if self.id is not None else None

    def _stop(self, timeout: float | None) -> bool | None:
        """The abort with its fallback (:func:`abort_task_instance`), said in
        ``abort_report``; None when the run could not be stopped, else True."""
        try:
            ok, how = abort_task_instance(
                self._api,
                self.task_instance_id,
                test_results=self._quick_test_results if self.id else None,
                timeout=timeout,
            )
        except Exception as exc:  # never let cleanup hide the exception that caused it
            text = str(exc) if isinstance(exc, DAIError) else type(exc).__name__
            ok, how = False, f"could not abort: {text}"
        self.abort_report = how
        if not ok:
            log.warning("pytest-dai: test configuration %s: %s", self.name, how)
            return None
        return True
