"""Test configurations over the wire: start, results, logs, screenshots, DAI's JUnit, the
list, and the task-instance abort (contract section 2.6: E7 to E11, E13, E14), with their
records (:mod:`pytest_dai.client.test_config_records`).

A :class:`TestConfigAPI` wraps a configured :class:`~pytest_dai.client.endpoints.DAIClient`
(same session, token, retries and timeouts). Lists may be bare arrays or envelopes; every
server id that goes into a path is checked and percent-encoded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pytest_dai.client.auth import error_text
from pytest_dai.client.calls import (
    ABORT_TEST_CONFIG,
    CONFIG_JUNIT,
    CONFIG_RESULTS,
    LIST_TEST_CONFIGS,
    START_TEST_CONFIG,
    TEST_RESULT_LOG,
    TEST_RESULT_SCREENSHOTS,
    TEST_RESULTS,
)
from pytest_dai.client.errors import DAIHTTPError, DAINotFoundError
from pytest_dai.client.http import StartSafeRetry
from pytest_dai.client.records import LogEntry, id_in_answer, list_items
from pytest_dai.client.safety import path_id
from pytest_dai.client.test_config_records import (
    TestConfig,
    TestConfigResultRecord,
    TestResultRecord,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import requests

    from pytest_dai.client.endpoints import DAIClient

__all__ = [
    "DAIBodyRefused",
    "TestConfig",
    "TestConfigAPI",
    "TestConfigResultRecord",
    "TestResultRecord",
]

TASK_INSTANCES_PATH = "/task_scheduler_service/api/v1/task_instances"
#: The most of DAI's own JUnit text that is read (it is saved as a file).
JUNIT_LIMIT = 20 * 1024 * 1024


class DAIBodyRefused(DAIHTTPError):
    """The start answered 400/422 to the parameter overrides or step filters (never retried
    without them: the run would not be the one asked for)."""


def start_body(
    parameters: Mapping[str, object] | None, filters: Mapping[str, Sequence[str]] | None
) -> dict[str, Any] | None:
    """The start's JSON body (contract 2.6, ours), or None when there is nothing to send."""
    body: dict[str, Any] = {}
    if parameters:
        body["parameters"] = [
            {"name": str(name), "value": value} for name, value in parameters.items()
        ]
    if filters:
        body["filters"] = {str(key): list(values) for key, values in filters.items()}
    return body or None


class TestConfigAPI:
    """The test-configuration calls (contract 2.6) on a :class:`DAIClient`."""

    __test__ = False

    def __init__(self, client: DAIClient) -> None:
        self.client = client
        _mount_start_retry(client)

    def __repr__(self) -> str:
        return f"TestConfigAPI({self.client!r})"

    def _get(
        self, endpoint: str, path: str, params: dict[str, Any] | None = None, quick: bool = False
    ) -> Any:
        response = self.client.send(endpoint, "GET", path, params=params, quick=quick)
        _no_404_405(response, endpoint)
        return self.client.read_json(response, endpoint)

    def list_test_configs(self) -> list[TestConfig]:
        """The server's test configurations (E14)."""
        endpoint = self.client.label(LIST_TEST_CONFIGS)
        payload = self._get(endpoint, LIST_TEST_CONFIGS.path)
        return [TestConfig.parse(raw, endpoint) for raw in list_items(payload, endpoint)]

    def start(
        self,
        test_config_id: str,
        *,
        parameters: Mapping[str, object] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """Start a test configuration (E7); returns the task instance id.

        A single transient 500 is retried (seen on DAI 26.2.2): the retry goes through
        urllib3's ``Retry`` on this call's own session. A 400/422 to a body with parameters
        or filters is :class:`DAIBodyRefused`.
        """
        endpoint = self.client.label(START_TEST_CONFIG, test_config_id=test_config_id)
        quoted = path_id(test_config_id, endpoint=endpoint, field="id")
        path = START_TEST_CONFIG.path.format(test_config_id=quoted)
        body = start_body(parameters, filters)
        try:
            response = self.client.send(endpoint, "POST", path, json=body)
        except DAIHTTPError as exc:
            if body is not None and exc.status in (400, 422):
                what = " and ".join(
                    word
                    for word, given in (
                        ("parameter overrides", parameters),
                        ("step filters", filters),
                    )
                    if given
                )
                raise DAIBodyRefused(
                    f"{endpoint}: {exc.status}: this server does not accept {what} when "
                    f"starting a test configuration ({exc})",
                    endpoint=endpoint,
                    status=exc.status,
                ) from None
            raise
        _no_404_405(response, endpoint)
        payload = self.client.read_json(response, endpoint)
        return id_in_answer(payload, ("task_instance_id", "id"), endpoint, "task instance id")

    def results(self, test_config_id: str) -> list[TestConfigResultRecord]:
        """The config's results (E8), newest first as the server lists them."""
        endpoint = self.client.label(CONFIG_RESULTS)
        params = {"test_config_id": test_config_id}
        payload = self._get(endpoint, CONFIG_RESULTS.path, params)
        return [
            TestConfigResultRecord.parse(raw, endpoint) for raw in list_items(payload, endpoint)
        ]

    def test_results(self, result_id: str, *, quick: bool = False) -> list[TestResultRecord]:
        """One test result per test case run of a test-config result (E9). ``quick``: with
        the abort's short timeout and few attempts (while an abort waits on it)."""
        endpoint = self.client.label(TEST_RESULTS)
        params = {"test_config_result_id": result_id}
        payload = self._get(endpoint, TEST_RESULTS.path, params, quick=quick)
        return [TestResultRecord.parse(raw, endpoint) for raw in list_items(payload, endpoint)]

    def test_result_logs(self, test_result_id: str, *, limit: int = 1000) -> list[LogEntry]:
        """A test result's log entries (E10, contract 2.5 shape)."""
        endpoint = self.client.label(TEST_RESULT_LOG, id=test_result_id)
        quoted = path_id(test_result_id, endpoint=endpoint, field="test result id")
        payload = self._get(endpoint, TEST_RESULT_LOG.path.format(id=quoted), {"limit": limit})
        return [LogEntry.parse(raw) for raw in list_items(payload, endpoint)]

    def test_result_screenshots(self, test_result_id: str) -> list[dict[str, Any]]:
        """A test result's screenshot records (E11; each has an ``id`` to fetch it by)."""
        endpoint = self.client.label(TEST_RESULT_SCREENSHOTS, id=test_result_id)
        quoted = path_id(test_result_id, endpoint=endpoint, field="test result id")
        payload = self._get(endpoint, TEST_RESULT_SCREENSHOTS.path.format(id=quoted))
        return [raw for raw in list_items(payload, endpoint) if raw.get("id") is not None]

    def junit(self, result_id: str) -> str | None:
        """DAI's own JUnit XML of a result (E13); None when the server has none (404)."""
        endpoint = self.client.label(CONFIG_JUNIT, id=result_id)
        quoted = path_id(result_id, endpoint=endpoint, field="result id")
        response = self.client.send(
            endpoint, "GET", CONFIG_JUNIT.path.format(id=quoted), body_limit=JUNIT_LIMIT
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


def _no_404_405(response: requests.Response, endpoint: str) -> None:
    """A 404 (:class:`DAINotFoundError`) or 405 where the call must exist: an error."""
    if response.status_code in (404, 405):
        cls = DAINotFoundError if response.status_code == 404 else DAIHTTPError
        raise cls(
            f"{endpoint}: {response.status_code} {error_text(response)}",
            endpoint=endpoint,
            status=response.status_code,
        )


class TaskStartRetry(StartSafeRetry):
    """:class:`StartSafeRetry` for starting a test configuration: also retries one 500 (DAI
    26.2.2 was seen answering a single transient 500 to a start that then worked), never a
    second one."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """A POST answered 500 is retried once; otherwise as :class:`StartSafeRetry`."""
        if method.upper() == "POST" and status_code == 500:
            seen = sum(1 for attempt in self.history or () if attempt.status == 500)
            return self.total != 0 and seen == 0
        return super().is_retry(method, status_code, has_retry_after)


def _mount_start_retry(client: DAIClient) -> None:
    """Give the test-configuration start's path on the client's session a
    :class:`TaskStartRetry` with the client's own retry budget and backoff."""
    prefix = client.url + TASK_INSTANCES_PATH + "/"
    session = client.session
    adapter = session.get_adapter(prefix)
    base = getattr(adapter, "max_retries", None)
    if not isinstance(base, Retry) or isinstance(base, TaskStartRetry):
        return
    retry = TaskStartRetry(
        total=base.total,
        connect=base.connect,
        read=base.read,
        status=base.status,
        other=0,
        redirect=0,
        backoff_factor=base.backoff_factor,
        backoff_max=base.backoff_max,
        status_forcelist=base.status_forcelist,
        allowed_methods=base.allowed_methods,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    session.mount(prefix, HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=4))


def _over(exc: DAIHTTPError) -> bool:
    """Whether the task-instance abort's 400/409/422 says the run is over."""
    if exc.status not in (400, 409, 422):
        return False
    lowered = str(exc).lower()
    return any(word in lowered for word in ("finished", "already", "not running", "completed"))
