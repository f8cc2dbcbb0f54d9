"""Test configurations over the wire: start, results, logs, screenshots, DAI's JUnit, the
list, and the task-instance abort (contract section 2.6: E7 to E11, E13, E14), with their
records (:mod:`pytest_dai.client.test_config_records`).

A :class:`TestConfigAPI` wraps a configured :class:`~pytest_dai.client.endpoints.DAIClient`
(same session, token, retries and timeouts). Lists may be bare arrays or envelopes, and every
page of them is read (:mod:`~pytest_dai.client.pages`); every server id that goes into a path
is checked and percent-encoded. Public-API calls go to the version the client speaks
(:mod:`~pytest_dai.client.api_version`); a server without ``test_config_results`` (public API
v1 only, DAI 7.4) is told in one line before anything is started.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from pytest_dai.client.api_version import DAIServerTooOld, needs_dai_75
from pytest_dai.client.calls import (
    ABORT_TEST_CONFIG,
    CONFIG_JUNIT,
    CONFIG_RESULT,
    CONFIG_RESULTS,
    LIST_TEST_CONFIGS,
    START_TEST_CONFIG,
    TEST_RESULT_LOG,
    TEST_RESULT_SCREENSHOTS,
    TEST_RESULTS,
)
from pytest_dai.client.error_text import error_text
from pytest_dai.client.errors import DAIHTTPError, DAINotFoundError, DAIProtocolError
from pytest_dai.client.pages import (
    EVENT_KEY,
    SORT_BY,
    SORT_ORDER,
    START_KEY,
    ListPage,
    ascending,
    list_page,
    read_pages,
    sort_params,
)
from pytest_dai.client.records import LogEntry, id_in_answer
from pytest_dai.client.safety import path_id
from pytest_dai.client.server_text import FAN_OUT_LIMIT
from pytest_dai.client.task_start import mount_start_retry
from pytest_dai.client.test_config_records import (
    TestConfig,
    TestConfigResultRecord,
    TestResultRecord,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import requests

    from pytest_dai.client.calls import Call
    from pytest_dai.client.endpoints import DAIClient

__all__ = [
    "DAIBodyRefused",
    "TestConfig",
    "TestConfigAPI",
    "TestConfigResultRecord",
    "TestResultRecord",
]

log = logging.getLogger("pytest_dai")

#: The most of DAI's own JUnit text that is read (it is saved as a file).
JUNIT_LIMIT = 20 * 1024 * 1024
#: Log entries asked for per page of a test result's log (E10), and the most pages read.
LOG_PAGE = 1000
LOG_PAGES = 100
#: The start body's field naming the earlier run whose failed steps a re-run repeats (ours,
#: contract 2.7; eggplant-runner's ``previousTaskInstanceID``).
PREVIOUS_TASK_INSTANCE = "previous_task_instance_id"


class DAIBodyRefused(DAIHTTPError):
    """The start answered 400/422 to the parameter overrides or step filters (never retried
    without them: the run would not be the one asked for)."""


def start_body(
    parameters: Mapping[str, object] | None,
    filters: Mapping[str, Sequence[str]] | None,
    previous_task_instance_id: str | None = None,
) -> dict[str, Any] | None:
    """The start's JSON body (contract 2.6 and 2.7, ours), or None when there is nothing to
    send. Filters go out sorted by name, so that equal filters make equal bodies."""
    body: dict[str, Any] = {}
    if parameters:
        body["parameters"] = [
            {"name": str(name), "value": value} for name, value in parameters.items()
        ]
    if filters:
        body["filters"] = {str(key): list(filters[key]) for key in sorted(filters)}
    if previous_task_instance_id:
        body[PREVIOUS_TASK_INSTANCE] = previous_task_instance_id
    return body or None


class TestConfigAPI:
    """The test-configuration calls (contract 2.6) on a :class:`DAIClient`."""

    __test__ = False

    def __init__(self, client: DAIClient) -> None:
        self.client = client
        mount_start_retry(client)
        self._results_lock = threading.Lock()
        self._results_checked = False
        self._results_missing: DAIServerTooOld | None = None
        #: Whether the server reads one result by id (E8 ``/{id}``); a 404/405 turns it off
        #: for the session (the list is read instead).
        self.one_result_reads = True
        #: Whether the server takes our sort parameters; a 400/422 to them turns them off.
        self._sorts = True

    def __repr__(self) -> str:
        return f"TestConfigAPI({self.client!r})"

    def _page(
        self, call: Call, params: dict[str, Any], quick: bool, **ids: str
    ) -> Callable[[int, int], ListPage]:
        """A reader of one page of a public-API list (E8 to E11)."""
        shown: dict[str, object] = dict(ids)
        path_ids = {
            name: path_id(value, endpoint=self.client.label(call, **shown), field=f"{name} id")
            for name, value in ids.items()
        }

        def fetch(offset: int, limit: int) -> ListPage:
            asked = {**params, "limit": limit, "offset": offset}
            try:
                response, endpoint = self.client.send_public(
                    call, shown, path_ids, params=self._sorted(asked), quick=quick
                )
            except DAIHTTPError as exc:
                if exc.status not in (400, 422) or not self._sorts or SORT_BY not in asked:
                    raise
                self._sorts = False  # refused: the order is checked anyway
                log.info("pytest-dai: %s: sort parameters refused; not sent again", exc)
                response, endpoint = self.client.send_public(
                    call, shown, path_ids, params=self._sorted(asked), quick=quick
                )
            if response.status_code in (404, 405) and call is CONFIG_RESULTS:
                raise needs_dai_75(endpoint, f"{response.status_code} {error_text(response)}")
            _no_404_405(response, endpoint)
            return list_page(self.client.read_json(response, endpoint), endpoint)

        return fetch

    def _sorted(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` without the sort parameters once the server refused them."""
        if self._sorts:
            return params
        return {k: v for k, v in params.items() if k not in (SORT_BY, SORT_ORDER)}

    def list_test_configs(self) -> list[TestConfig]:
        """The server's test configurations (E14), every page."""
        endpoint = self.client.label(LIST_TEST_CONFIGS)

        def fetch(offset: int, limit: int) -> ListPage:
            params = {"limit": limit, "offset": offset}
            response = self.client.send(endpoint, "GET", LIST_TEST_CONFIGS.path, params=params)
            _no_404_405(response, endpoint)
            return list_page(self.client.read_json(response, endpoint), endpoint)

        return [TestConfig.parse(raw, endpoint) for raw in read_pages(fetch)]

    def check_results_api(self, test_config_id: str) -> None:
        """Before a start: this server must list test-config results (E8: public API v2, DAI
        7.5 and later). Asked once per client (one short E8 read while the API version is
        not known yet); a server without them is one line (:func:`needs_dai_75`)."""
        api = self.client.api
        if api.version == "v1":
            endpoint = self.client.label(CONFIG_RESULTS)
            raise needs_dai_75(endpoint, f"this session uses public API v1 ({api.why})")
        with self._results_lock:
            if self._results_missing is not None:
                raise self._results_missing
            if self._results_checked or api.decided:
                return
            try:
                self._page(CONFIG_RESULTS, {"test_config_id": test_config_id}, False)(0, 1)
            except DAIServerTooOld as exc:  # told once, then the same line without asking
                self._results_missing = exc
                raise
            self._results_checked = True

    def start(
        self,
        test_config_id: str,
        *,
        parameters: Mapping[str, object] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        previous_task_instance_id: str | None = None,
    ) -> str:
        """Start a test configuration (E7); returns the task instance id.

        A single transient 500 is retried (seen on DAI 26.2.2): the retry goes through
        urllib3's ``Retry`` on this call's own session. A 400/422 to a body with parameters,
        filters or the previous task instance (a re-run of failed steps) is
        :class:`DAIBodyRefused`, never sent again without them.
        """
        endpoint = self.client.label(START_TEST_CONFIG, test_config_id=test_config_id)
        quoted = path_id(test_config_id, endpoint=endpoint, field="id")
        path = START_TEST_CONFIG.path.format(test_config_id=quoted)
        body = start_body(parameters, filters, previous_task_instance_id)
        try:
            response = self.client.send(endpoint, "POST", path, json=body)
        except DAIHTTPError as exc:
            if body is not None and exc.status in (400, 422):
                raise _refused(
                    exc, endpoint, parameters, filters, previous_task_instance_id
                ) from None
            raise
        _no_404_405(response, endpoint)
        payload = self.client.read_json(response, endpoint)
        return id_in_answer(payload, ("task_instance_id", "id"), endpoint, "task instance id")

    def results(
        self,
        test_config_id: str,
        *,
        enough: Callable[[list[TestConfigResultRecord]], bool] | None = None,
    ) -> list[TestConfigResultRecord]:
        """The config's results (E8), asked newest first (every page, bounded; a list that
        comes oldest first is read from its end, so the records read come newest first).
        ``enough(records read so far)``: stop reading pages. On a server without E8: one
        line (:func:`needs_dai_75`)."""
        if self.client.api.version == "v1":
            self.check_results_api(test_config_id)
        endpoint = self.client.label(CONFIG_RESULTS)
        params = {"test_config_id": test_config_id, **sort_params("start_time", "desc")}
        parsed: dict[int, TestConfigResultRecord] = {}

        def parse(raw: dict[str, Any]) -> TestConfigResultRecord:
            if id(raw) not in parsed:
                parsed[id(raw)] = TestConfigResultRecord.parse(raw, endpoint)
            return parsed[id(raw)]

        def stop(records: list[dict[str, Any]]) -> bool:
            return enough is not None and enough([parse(raw) for raw in records])

        fetch = self._page(CONFIG_RESULTS, params, False)
        raws = read_pages(fetch, enough=stop, newest_key=START_KEY)
        return [parse(raw) for raw in raws]

    def result(self, result_id: str) -> TestConfigResultRecord | None:
        """One result by its id (E8 ``/{id}``, public API v2), or None when this server has
        no such call: a 404/405, or an answer that is not one result (its body is not
        documented), turns :attr:`one_result_reads` off for the session."""
        endpoint = self.client.label(CONFIG_RESULT, id=result_id)
        quoted = path_id(result_id, endpoint=endpoint, field="result id")
        response, endpoint = self.client.send_public(
            CONFIG_RESULT, {"id": result_id}, {"id": quoted}
        )
        try:
            if response.status_code in (404, 405):
                raise DAIProtocolError(f"{endpoint}: {response.status_code}", endpoint=endpoint)
            payload = self.client.read_json(response, endpoint)
            if not isinstance(payload, dict):
                raise DAIProtocolError(f"{endpoint}: not one result", endpoint=endpoint)
            return TestConfigResultRecord.parse(payload, endpoint)
        except DAIProtocolError as exc:
            self.one_result_reads = False
            log.info("pytest-dai: %s: results are read from the list from now on", exc)
            return None

    def test_results(self, result_id: str, *, quick: bool = False) -> list[TestResultRecord]:
        """One test result per test case run of a test-config result (E9), every page, in
        the order they started (by their start times, not the server's order). ``quick``:
        with the abort's short timeout and few attempts (while an abort waits on it)."""
        endpoint = self.client.label(TEST_RESULTS)
        params = {"test_config_result_id": result_id, **sort_params("start_time", "asc")}
        raws = read_pages(self._page(TEST_RESULTS, params, quick))
        # At most FAN_OUT_LIMIT are kept, and one more to tell that there were more.
        records = [TestResultRecord.parse(raw, endpoint) for raw in raws[: FAN_OUT_LIMIT + 1]]
        timed = [r for r in records if r.started_at is not None]
        if len(timed) == len(records):
            records.sort(key=lambda r: r.started_at)  # type: ignore[arg-type,return-value]
        return records

    def test_result_logs(self, test_result_id: str, *, limit: int = LOG_PAGE) -> list[LogEntry]:
        """A test result's log entries (E10, contract 2.5 shape), every page, oldest first
        (a log that comes newest first is turned round)."""
        params = sort_params("eventtime", "asc")
        fetch = self._page(TEST_RESULT_LOG, params, False, id=test_result_id)
        raws = read_pages(fetch, limit=limit, max_pages=LOG_PAGES)
        if ascending(raws[::-1], EVENT_KEY):
            raws.reverse()
        return [LogEntry.parse(raw) for raw in raws]

    def test_result_screenshots(self, test_result_id: str) -> list[dict[str, Any]]:
        """A test result's screenshot records (E11; each has an ``id`` to fetch it by), every
        page."""
        raws = read_pages(self._page(TEST_RESULT_SCREENSHOTS, {}, False, id=test_result_id))
        return [raw for raw in raws if raw.get("id") is not None]

    def junit(self, result_id: str) -> str | None:
        """DAI's own JUnit XML of a result (E13); None when the server has none (404, or
        public API v1, which has no test-config results)."""
        if self.client.api.version == "v1":
            return None
        endpoint = self.client.label(CONFIG_JUNIT, id=result_id)
        quoted = path_id(result_id, endpoint=endpoint, field="result id")
        response, endpoint = self.client.send_public(
            CONFIG_JUNIT, {"id": result_id}, {"id": quoted}, body_limit=JUNIT_LIMIT
        )
        if response.status_code == 404:
            return None
        _no_404_405(response, endpoint)
        return response.content.decode("utf-8", errors="replace")

    def abort(self, task_instance_id: str, *, timeout: float | None = None) -> bool | None:
        """The task-instance abort (ours): True if accepted, False if the server says the
        run is over, None if this server has no such endpoint (404 or 405: abort each
        still-running test result's model execution instead). Quick and bounded in total,
        like a run's abort (:meth:`~pytest_dai.client.transport.DAITransport.send_abort`)."""
        endpoint = self.client.label(ABORT_TEST_CONFIG, id=task_instance_id)
        quoted = path_id(task_instance_id, endpoint=endpoint, field="task_instance_id")
        path = ABORT_TEST_CONFIG.path.format(id=quoted)
        response = self.client.send_abort(endpoint, path, timeout=timeout, already_over=_over)
        if response is None:
            return False
        if response.status_code in (404, 405):
            return None
        return True


def _refused(
    exc: DAIHTTPError,
    endpoint: str,
    parameters: Mapping[str, object] | None,
    filters: Mapping[str, Sequence[str]] | None,
    previous: str | None,
) -> DAIBodyRefused:
    """The one line of a start whose body the server refused (400/422)."""
    what = " and ".join(
        word
        for word, given in (
            ("parameter overrides", parameters),
            ("step filters", filters),
            (
                f"a previous task instance ({PREVIOUS_TASK_INSTANCE}, to re-run failed steps)",
                previous,
            ),
        )
        if given
    )
    return DAIBodyRefused(
        f"{endpoint}: {exc.status}: this server does not accept {what} when starting a test "
        f"configuration ({exc})",
        endpoint=endpoint,
        status=exc.status,
    )


def _no_404_405(response: requests.Response, endpoint: str) -> None:
    """A 404 (:class:`DAINotFoundError`) or 405 where the call must exist: an error."""
    if response.status_code in (404, 405):
        cls = DAINotFoundError if response.status_code == 404 else DAIHTTPError
        raise cls(
            f"{endpoint}: {response.status_code} {error_text(response)}",
            endpoint=endpoint,
            status=response.status_code,
        )


def _over(exc: DAIHTTPError) -> bool:
    """Whether the task-instance abort's 400/409/422 says the run is over."""
    if exc.status not in (400, 409, 422):
        return False
    lowered = str(exc).lower()
    return any(word in lowered for word in ("finished", "already", "not running", "completed"))
