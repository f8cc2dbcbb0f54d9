"""Test configurations over the wire: endpoints E7 to E11, E13, E14 and the task-instance
abort (contract section 2.6), with their records parsed tolerantly (contract section 3).

A :class:`TestConfigAPI` wraps a configured :class:`~pytest_dai.client.endpoints.DAIClient`
(same session, token, retries and timeouts). Lists may be bare arrays or envelopes; unknown
fields are ignored; a missing field we need is a :class:`DAIProtocolError` naming the endpoint
and the field; every server id that goes into a path is checked and percent-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pytest_dai.client.auth import error_text
from pytest_dai.client.errors import DAIHTTPError, DAINotFoundError, DAIProtocolError
from pytest_dai.client.http import StartSafeRetry
from pytest_dai.client.records import LogEntry, execution_id_of, list_items, parse_time
from pytest_dai.client.safety import path_id
from pytest_dai.client.status import Status, normalise_status

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    import requests

    from pytest_dai.client.endpoints import DAIClient

__all__ = [
    "E7",
    "E8",
    "E9",
    "E10",
    "E11",
    "E13",
    "E14",
    "TASK_ABORT",
    "DAIBodyRefused",
    "TestConfig",
    "TestConfigAPI",
    "TestConfigResultRecord",
    "TestResultRecord",
]

E7 = "E7 POST /task_scheduler_service/api/v1/task_instances/{test_config_id}"
E8 = "E8 GET /api/v2/test_config_results"
E9 = "E9 GET /api/v2/test_results"
E10 = "E10 GET /api/v2/test_results/{id}/logs"
E11 = "E11 GET /api/v2/test_results/{id}/screenshots"
E13 = "E13 GET /api/v2/test_config_results/{id}/junit"
E14 = "E14 GET /test_config_service/api/v1/test_configurations"
TASK_ABORT = "DELETE /task_scheduler_service/api/v1/task_instances/{id}"

TASK_INSTANCES_PATH = "/task_scheduler_service/api/v1/task_instances"
#: The most of DAI's own JUnit text that is read (it is saved as a file).
JUNIT_LIMIT = 20 * 1024 * 1024


class DAIBodyRefused(DAIHTTPError):
    """E7 answered 400/422 to the parameter overrides or step filters (never retried
    without them: the run would not be the one asked for)."""


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value)
    return text or None


def _need_id(raw: dict[str, Any], keys: tuple[str, ...], endpoint: str, what: str) -> str:
    found = execution_id_of(raw, keys)
    if found is None:
        raise DAIProtocolError(
            f"{endpoint}: {what} has no {keys[0]} field (fields: "
            f"{', '.join(sorted(map(str, raw))[:12]) or 'none'})",
            endpoint=endpoint,
        )
    return found


def _need_status(raw: dict[str, Any], endpoint: str, what: str, ended: bool) -> Status:
    word = raw.get("status")
    if not isinstance(word, (str, int)) or isinstance(word, bool):
        raise DAIProtocolError(
            f"{endpoint}: {what} has no status field (fields: "
            f"{', '.join(sorted(map(str, raw))[:12]) or 'none'})",
            endpoint=endpoint,
        )
    return normalise_status(word, ended=ended)


@dataclass(frozen=True)
class TestConfig:
    """A test configuration from E14: id, name, and the model or suite it belongs to."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    model: str | None = None
    suite: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str = E14) -> TestConfig:
        """Build from a raw record; needs ``id``; ``name`` falls back to the id."""
        config_id = _need_id(raw, ("id", "test_config_id"), endpoint, "test configuration")
        model = raw.get("model_name", raw.get("modelname", raw.get("model")))
        suite = raw.get("suite_name", raw.get("suitename", raw.get("suite")))
        if isinstance(model, dict):
            model = model.get("name")
        if isinstance(suite, dict):
            suite = suite.get("name")
        return cls(
            id=config_id,
            name=_text(raw.get("name")) or config_id,
            model=_text(model),
            suite=_text(suite),
        )


@dataclass(frozen=True)
class TestConfigResultRecord:
    """A test-config result from E8: one run of a test configuration."""

    __test__ = False

    id: str
    test_config_id: str | None
    status: Status
    task_instance_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str = E8) -> TestConfigResultRecord:
        """Build from a raw record; ``id`` and ``status`` must be there."""
        result_id = _need_id(raw, ("id", "test_config_result_id"), endpoint, "result")
        ended_at = parse_time(raw.get("end_time", raw.get("endtime", raw.get("ended_at"))))
        return cls(
            id=result_id,
            test_config_id=execution_id_of(raw, ("test_config_id",)),
            status=_need_status(raw, endpoint, "result", ended_at is not None),
            task_instance_id=execution_id_of(raw, ("task_instance_id",)),
            started_at=parse_time(
                raw.get("start_time", raw.get("starttime", raw.get("started_at")))
            ),
            ended_at=ended_at,
            raw=raw,
        )


@dataclass(frozen=True)
class TestResultRecord:
    """A test result from E9: one test case run of a test-config result."""

    __test__ = False

    id: str
    status: Status
    name: str
    model: str | None
    execution_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end by the server's clock, where it gives both."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max((self.ended_at - self.started_at).total_seconds(), 0.0)

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str = E9) -> TestResultRecord:
        """Build from a raw record; ``id`` and ``status`` must be there."""
        result_id = _need_id(raw, ("id", "test_result_id"), endpoint, "test result")
        ended_at = parse_time(raw.get("end_time", raw.get("endtime", raw.get("ended_at"))))
        name = _text(raw.get("test_case_name", raw.get("testcasename", raw.get("name"))))
        return cls(
            id=result_id,
            status=_need_status(raw, endpoint, "test result", ended_at is not None),
            name=name or f"test result {result_id}",
            model=_text(raw.get("model_name", raw.get("modelname"))),
            execution_id=execution_id_of(raw, ("execution_id", "execution_status_id")),
            started_at=parse_time(
                raw.get("start_time", raw.get("starttime", raw.get("started_at")))
            ),
            ended_at=ended_at,
            raw=raw,
        )


def start_body(
    parameters: Mapping[str, object] | None, filters: Mapping[str, Sequence[str]] | None
) -> dict[str, Any] | None:
    """E7's JSON body (contract 2.6, ours), or None when there is nothing to send."""
    body: dict[str, Any] = {}
    if parameters:
        body["parameters"] = [
            {"name": str(name), "value": value} for name, value in parameters.items()
        ]
    if filters:
        body["filters"] = {str(key): list(values) for key, values in filters.items()}
    return body or None


class TestConfigAPI:
    """Endpoints E7 to E11, E13, E14 and the task-instance abort, on a :class:`DAIClient`."""

    __test__ = False

    def __init__(self, client: DAIClient) -> None:
        self.client = client
        _mount_start_retry(client)

    def __repr__(self) -> str:
        return f"TestConfigAPI({self.client!r})"

    def _get(
        self, endpoint: str, path: str, params: dict[str, Any] | None = None, quick: bool = False
    ) -> Any:
        response = self.client._send(
            endpoint,
            "GET",
            path,
            params=params,
            timeout=self.client.abort_timeout if quick else None,
            session=self.client._abort_session if quick else None,
        )
        self._no_404_405(response, endpoint)
        return self.client._json(response, endpoint)

    @staticmethod
    def _no_404_405(response: requests.Response, endpoint: str) -> None:
        if response.status_code in (404, 405):
            cls = DAINotFoundError if response.status_code == 404 else DAIHTTPError
            raise cls(
                f"{endpoint}: {response.status_code} {error_text(response)}",
                endpoint=endpoint,
                status=response.status_code,
            )

    def list_test_configs(self) -> list[TestConfig]:
        """E14: the server's test configurations."""
        payload = self._get(E14, "/test_config_service/api/v1/test_configurations")
        return [TestConfig.parse(raw, E14) for raw in list_items(payload, E14)]

    def start(
        self,
        test_config_id: str,
        *,
        parameters: Mapping[str, object] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """E7: start a test configuration; returns the task instance id.

        A single transient 500 is retried (seen on DAI 26.2.2): the retry goes through
        urllib3's ``Retry`` on this call's own session. A 400/422 to a body with parameters
        or filters is :class:`DAIBodyRefused`.
        """
        endpoint = E7.replace("{test_config_id}", str(test_config_id))
        path = f"{TASK_INSTANCES_PATH}/{path_id(test_config_id, endpoint=E7, field='id')}"
        body = start_body(parameters, filters)
        try:
            response = self.client._send(endpoint, "POST", path, json=body)
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
        self._no_404_405(response, endpoint)
        payload = self.client._json(response, endpoint)
        if not isinstance(payload, dict):
            raise DAIProtocolError(
                f"{endpoint}: expected an object with task_instance_id, got "
                f"{type(payload).__name__}",
                endpoint=endpoint,
            )
        return _need_id(payload, ("task_instance_id", "id"), endpoint, "answer")

    def results(self, test_config_id: str) -> list[TestConfigResultRecord]:
        """E8: the config's results, newest first as the server lists them."""
        payload = self._get(E8, "/api/v2/test_config_results", {"test_config_id": test_config_id})
        return [TestConfigResultRecord.parse(raw, E8) for raw in list_items(payload, E8)]

    def test_results(self, result_id: str, *, quick: bool = False) -> list[TestResultRecord]:
        """E9: one test result per test case run of a test-config result. ``quick``: with
        the abort's short timeout and few attempts (while an abort waits on it)."""
        params = {"test_config_result_id": result_id}
        payload = self._get(E9, "/api/v2/test_results", params, quick=quick)
        return [TestResultRecord.parse(raw, E9) for raw in list_items(payload, E9)]

    def test_result_logs(self, test_result_id: str, *, limit: int = 1000) -> list[LogEntry]:
        """E10: a test result's log entries (contract 2.5 shape)."""
        quoted = path_id(test_result_id, endpoint=E10, field="test result id")
        endpoint = E10.replace("{id}", str(test_result_id))
        payload = self._get(endpoint, f"/api/v2/test_results/{quoted}/logs", {"limit": limit})
        return [LogEntry.parse(raw) for raw in list_items(payload, endpoint)]

    def test_result_screenshots(self, test_result_id: str) -> list[dict[str, Any]]:
        """E11: a test result's screenshot records (each has an ``id`` for E12)."""
        quoted = path_id(test_result_id, endpoint=E11, field="test result id")
        endpoint = E11.replace("{id}", str(test_result_id))
        payload = self._get(endpoint, f"/api/v2/test_results/{quoted}/screenshots")
        return [raw for raw in list_items(payload, endpoint) if raw.get("id") is not None]

    def junit(self, result_id: str) -> str | None:
        """E13: DAI's own JUnit XML of a result; None when the server has none (404)."""
        quoted = path_id(result_id, endpoint=E13, field="result id")
        endpoint = E13.replace("{id}", str(result_id))
        response = self.client._send(
            endpoint, "GET", f"/api/v2/test_config_results/{quoted}/junit", body_limit=JUNIT_LIMIT
        )
        if response.status_code == 404:
            return None
        self._no_404_405(response, endpoint)
        return response.content.decode("utf-8", errors="replace")

    def abort(self, task_instance_id: str, *, timeout: float | None = None) -> bool | None:
        """The task-instance abort (ours): True if accepted, False if the server says the
        run is over, None if this server has no such endpoint (404 or 405: use E3 on each
        still-running test result instead). Quick, like E3."""
        endpoint = TASK_ABORT.replace("{id}", str(task_instance_id))
        quoted = path_id(task_instance_id, endpoint=TASK_ABORT, field="task_instance_id")
        try:
            response = self.client._send(
                endpoint,
                "DELETE",
                f"{TASK_INSTANCES_PATH}/{quoted}",
                timeout=self.client.abort_timeout if timeout is None else timeout,
                session=self.client._abort_session,
            )
        except DAIHTTPError as exc:
            if exc.status in (400, 409, 422) and _says_over(str(exc)):
                return False
            raise
        if response.status_code in (404, 405):
            return None
        return True


class TaskStartRetry(StartSafeRetry):
    """:class:`StartSafeRetry` for E7: also retries one 500 (DAI 26.2.2 was seen answering a
    single transient 500 to a start that then worked), never a second one."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """A POST answered 500 is retried once; otherwise as :class:`StartSafeRetry`."""
        if method.upper() == "POST" and status_code == 500:
            seen = sum(1 for attempt in self.history or () if attempt.status == 500)
            return self.total != 0 and seen == 0
        return super().is_retry(method, status_code, has_retry_after)


def _mount_start_retry(client: DAIClient) -> None:
    """Give E7's path on the client's session a :class:`TaskStartRetry` with the client's
    own retry budget and backoff."""
    prefix = client.url + TASK_INSTANCES_PATH + "/"
    session = client._session
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


def _says_over(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("finished", "already", "not running", "completed"))
