"""The DAI client: one configured session, and endpoints E1 to E6 as typed methods.

Configure a :class:`DAIClient` once (URL, credentials, retries, timeouts, CA bundle) and use it
from any thread. Every call has a timeout and retries through urllib3's ``Retry``
(:mod:`pytest_dai.client.http`); every failure is a one-line :class:`DAIError` that names the
endpoint.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from pytest_dai.client import defaults
from pytest_dai.client.auth import BearerAuth, TokenSource, error_text
from pytest_dai.client.deadline import call_budget, request_scope
from pytest_dai.client.errors import (
    DAIAuthError,
    DAIConfigError,
    DAIConnectionError,
    DAIHTTPError,
    DAINotFoundError,
    DAIProtocolError,
    DAIRedirectError,
    excerpt,
)
from pytest_dai.client.http import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    build_session,
    check_redirect,
    describe_url,
)
from pytest_dai.client.records import (
    EXECUTION_ID_FIELDS,
    Agent,
    LogEntry,
    Model,
    RunRecord,
    execution_id_of,
    list_items,
)
from pytest_dai.client.run_lookup import Page, abort_already_over, find_record
from pytest_dai.client.safety import (
    JSON_BODY_LIMIT,
    SCREENSHOT_BODY_LIMIT,
    NotJSONError,
    escape_control_chars,
    parse_json,
    path_id,
    read_body,
)
from pytest_dai.client.start_body import Asset, build_start_body

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pytest_dai.client.credentials import Credentials
    from pytest_dai.client.deadline import RequestScope

__all__ = [
    "E1",
    "E2",
    "E3",
    "E4",
    "E5",
    "E6",
    "E12",
    "SCREENSHOT_LIMIT",
    "DAIClient",
    "LogPage",
    "StartedExecution",
]

log = logging.getLogger("pytest_dai")

#: The most log entries read for one run (each page is also capped in bytes).
LOG_ENTRIES_LIMIT = 100_000

E1 = "E1 POST /execution_service/api/v1/executions"
E2 = "E2 GET /ai/runs"
E3 = "E3 DELETE /execution_service/api/v1/executions/{id}"
E4 = "E4 GET /ai/agents"
E5 = "E5 GET /ai/models"
E6 = "E6 GET /ai/runlogs/{run_id}"
E12 = "E12 GET /api/v2/screenshots/{image_id}"

#: The largest screenshot read (contract rule 12): 20 MB.
SCREENSHOT_LIMIT = SCREENSHOT_BODY_LIMIT
#: The longest one attempt to fetch a screenshot may take, seconds (evidence is secondary).
SCREENSHOT_TIMEOUT = 10.0
#: The longest a screenshot fetch takes in all (token fetch, attempts and waits), seconds.
SCREENSHOT_TOTAL = 15.0

EXECUTIONS_PATH = "/execution_service/api/v1/executions"


@dataclass(frozen=True)
class StartedExecution:
    """What E1 answered: the execution id (always a string) and the raw body."""

    id: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class LogPage:
    """One page of E6: entries and the server's total count (None if it gave none)."""

    items: list[LogEntry]
    total_count: int | None


class DAIClient:
    """An authenticated client of one DAI server; thread-safe, reuses its connections.

    ``attempts`` is attempts per request (retries + 1), ``timeout`` the per-request timeout in
    seconds, ``ca_cert`` a PEM bundle (TLS verification is always on).
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        timeout: float = defaults.REQUEST_TIMEOUT,
        attempts: int = defaults.REQUEST_ATTEMPTS,
        backoff_factor: float = defaults.BACKOFF_FACTOR,
        ca_cert: str | None = None,
        abort_timeout: float = 1.5,
        allow_insecure_token_url: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        check_token_url(self.url, credentials.token_url, allow_insecure=allow_insecure_token_url)
        self.timeout = timeout
        self.abort_timeout = abort_timeout
        self._session = build_session(
            attempts=attempts,
            backoff_factor=backoff_factor,
            ca_cert=ca_cert,
            safe_post_prefixes=(credentials.token_url,),
        )
        # Aborts must end quickly (Ctrl-C is waiting on them): 3 attempts of 1.5 s at most,
        # with a short backoff and a Retry-After honoured up to 1 s, so an abort is over in
        # about 5 s whatever the server does.
        self._abort_session = build_session(
            attempts=min(attempts, 3),
            backoff_factor=0.1,
            ca_cert=ca_cert,
            retry_after_max=ABORT_RETRY_AFTER_MAX,
        )
        self.tokens = TokenSource(credentials, self._session, timeout=timeout)
        self._auth = BearerAuth(self.tokens, timeout=timeout, origin=self.url)
        # An abort that needs a fresh token fetches it as quickly as it aborts.
        self._abort_auth = BearerAuth(
            self.tokens, timeout=abort_timeout, session=self._abort_session, origin=self.url
        )
        self._client_id = credentials.client_id
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DAIClient(url={self.url!r}, client_id={self._client_id!r})"

    def __enter__(self) -> DAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()
        self._abort_session.close()

    # -- the one place that sends -------------------------------------------------------------

    def _send(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        session: requests.Session | None = None,
        body_limit: int = JSON_BODY_LIMIT,
    ) -> requests.Response:
        """Send one call (retries happen inside ``requests``); map every failure to a DAIError.

        Each attempt ends within ``timeout`` (connect and every read), the call within the
        thread's :func:`~pytest_dai.client.deadline.call_budget`; the body is read whole, up
        to ``body_limit`` bytes (:func:`~pytest_dai.client.safety.read_body`), before this
        returns. A redirect is followed only to the same origin (:func:`check_redirect`).
        Returns the response for 2xx and 404 (callers decide what a 404 means) and for 405.
        """
        url = self.url + path
        timeout = self.timeout if timeout is None else timeout
        sender = session or self._session
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send_once(
                endpoint, method, url, params, json, timeout, sender, body_limit
            )
            if response.status_code not in REDIRECT_STATUSES:
                break
            url = check_redirect(url, response, endpoint=endpoint, method=method, resend_body=True)
            params = None  # the Location carries its own query
        else:
            raise DAIRedirectError(
                f"{endpoint}: more than {MAX_REDIRECTS} redirects from {describe_url(url)}",
                endpoint=endpoint,
            )
        status = response.status_code
        if status < 300 or status in (404, 405):
            return response
        if status == 401:
            raise DAIAuthError(
                f"{endpoint}: 401 {error_text(response)} (a fresh token was refused too)",
                endpoint=endpoint,
            )
        raise DAIHTTPError(
            f"{endpoint}: {status} {error_text(response)}", endpoint=endpoint, status=status
        )

    def _send_once(
        self,
        endpoint: str,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json: Any,
        timeout: float,
        sender: requests.Session,
        body_limit: int,
    ) -> requests.Response:
        """One request (with urllib3's retries) under a total deadline, its body read."""
        with request_scope(timeout) as scope:
            try:
                # verify passed per call: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
                # override a session's verify (psf/requests#3829), which would drop the CA bundle.
                response = sender.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    timeout=timeout,
                    auth=self._abort_auth if sender is self._abort_session else self._auth,
                    verify=sender.verify,
                    allow_redirects=False,
                    stream=True,
                )
                if response.status_code not in REDIRECT_STATUSES:
                    read_body(response, endpoint=endpoint, limit=body_limit)
                if scope.finish():
                    response.close()
                    raise requests.exceptions.Timeout("total deadline")
            except requests.exceptions.SSLError:
                raise DAIConnectionError(
                    f"{endpoint}: TLS verification of {describe_url(url)} failed (give the "
                    "server's CA bundle with --dai-ca-cert or DAI_CA_CERT)",
                    endpoint=endpoint,
                ) from None
            except requests.exceptions.RequestException as exc:
                if scope.expired or isinstance(exc, requests.exceptions.Timeout):
                    raise DAIConnectionError(
                        f"{endpoint}: {describe_url(url)} gave no answer within "
                        f"{_seconds(scope, timeout)}",
                        endpoint=endpoint,
                    ) from None
                cause = _cause(exc)
                # A request sent and then dropped reached the server; one refused never did.
                reach = "lost the connection to" if cause in DROPPED else "cannot reach"
                raise DAIConnectionError(
                    f"{endpoint}: {reach} {describe_url(url)} ({cause})",
                    endpoint=endpoint,
                ) from None
        return response

    def _json(self, response: requests.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return parse_json(response.content, endpoint=endpoint)
        except NotJSONError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise DAIProtocolError(
                f"{endpoint}: answer is not JSON ({kind}): {excerpt(response.text)!r}",
                endpoint=endpoint,
            ) from None

    @staticmethod
    def _not_found(response: requests.Response, endpoint: str, what: str) -> DAINotFoundError:
        return DAINotFoundError(
            f"{endpoint}: 404 {what}: {error_text(response)}", endpoint=endpoint, status=404
        )

    # -- E1 to E6 ---------------------------------------------------------------------------------

    def start_execution(
        self,
        model_id: str | None,
        *,
        agent_id: str | None = None,
        is_hosted_agent: bool = False,
        test_case_id: int | str | None = None,
        sut_id: str | None = None,
        sut_criteria: Sequence[str] = (),
        rerun_id: int | str | None = None,
        step_pause_time: float | None = None,
        script: str | None = None,
        asset: Asset | None = None,
    ) -> StartedExecution:
        """E1: start a run (body: :func:`~pytest_dai.client.start_body.build_start_body`)."""
        body = build_start_body(
            model_id,
            agent_id=agent_id,
            is_hosted_agent=is_hosted_agent,
            test_case_id=test_case_id,
            sut_id=sut_id,
            sut_criteria=sut_criteria,
            rerun_id=rerun_id,
            step_pause_time=step_pause_time,
            script=script,
            asset=asset,
        )
        response = self._send(E1, "POST", EXECUTIONS_PATH, json=body)
        if response.status_code == 404:
            named = ["model"] if model_id is not None else []
            named += ["agent"] if agent_id is not None else []
            named += ["test case"] if test_case_id is not None else []
            named += ["SUT"] if sut_id is not None else []
            named += ["run to re-run"] if rerun_id is not None else []
            named += ["script"] if script is not None and not named else []
            what = " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
            raise self._not_found(response, E1, f"unknown {what}")
        if response.status_code == 405:
            raise DAIHTTPError(f"{E1}: 405 {error_text(response)}", endpoint=E1, status=405)
        payload = self._json(response, E1)
        if not isinstance(payload, dict):
            raise DAIProtocolError(
                f"{E1}: expected an object with the execution id, got {type(payload).__name__}",
                endpoint=E1,
            )
        execution_id = execution_id_of(payload, EXECUTION_ID_FIELDS)
        if execution_id is None:
            raise DAIProtocolError(
                f"{E1}: answer has no execution id (looked for {', '.join(EXECUTION_ID_FIELDS)})",
                endpoint=E1,
            )
        return StartedExecution(id=execution_id, raw=payload)

    def find_run(self, execution_id: str) -> RunRecord | None:
        """E2: the run record of ``execution_id``, or None while there is none yet.

        The server may ignore the filter and list other runs (tolerance rule 3): the record is
        picked by its own ``execution_id``/``execution_status_id``, on the following pages too
        (rule 10, bounded: :func:`~pytest_dai.client.run_lookup.find_record`). A 404 or an
        empty list means no record yet.
        """
        raw = find_record(self._runs_page, execution_id)
        return None if raw is None else RunRecord.parse(raw, E2)

    def _runs_page(self, params: dict[str, Any]) -> Page:
        """One page of E2: its records (None on 404) and the ``total_count`` if it has one."""
        response = self._send(E2, "GET", "/ai/runs", params=params)
        if response.status_code == 404:
            return None, None
        if response.status_code == 405:
            raise DAIHTTPError(f"{E2}: 405 {error_text(response)}", endpoint=E2, status=405)
        payload = self._json(response, E2)
        total = payload.get("total_count") if isinstance(payload, dict) else None
        valid = isinstance(total, int) and not isinstance(total, bool) and total >= 0
        return list_items(payload, E2), total if valid else None

    def list_runs(self, *, limit: int | None = None, offset: int | None = None) -> list[RunRecord]:
        """E2 without a filter: the run records the server lists."""
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        response = self._send(E2, "GET", "/ai/runs", params=params or None)
        if response.status_code in (404, 405):
            if response.status_code == 404:
                return []
            raise DAIHTTPError(f"{E2}: 405 {error_text(response)}", endpoint=E2, status=405)
        return [RunRecord.parse(raw, E2) for raw in list_items(self._json(response, E2), E2)]

    def abort_execution(self, execution_id: str, *, timeout: float | None = None) -> bool:
        """E3: ask the server to stop a run. True if it will; False if it was already over (404,
        or a 400/422 that says the execution is finished or unknown: tolerance rule 9).

        Quick by design and bounded in total (:data:`ABORT_TOTAL`, token fetch, retries and
        ``Retry-After`` included, whatever the server does): it runs while Ctrl-C waits.
        """
        endpoint = E3.replace("{id}", escape_control_chars(str(execution_id))[:80])
        safe_id = path_id(execution_id, endpoint=E3, field="execution id")
        with call_budget(ABORT_TOTAL):
            try:
                response = self._send(
                    endpoint,
                    "DELETE",
                    f"{EXECUTIONS_PATH}/{safe_id}",
                    timeout=self.abort_timeout if timeout is None else timeout,
                    session=self._abort_session,
                )
            except DAIHTTPError as exc:
                if abort_already_over(exc):  # 400/422 "finished" or "unknown": rule 9
                    return False
                raise
        if response.status_code == 404:
            return False
        if response.status_code == 405:
            raise DAIHTTPError(f"{endpoint}: 405 {error_text(response)}", endpoint=endpoint)
        return True

    def list_agents(self) -> list[Agent]:
        """E4: the agents, with GET only: ``POST /ai/agents`` CREATES an agent on a real server
        (seen), so a 405 is a clear error and never a reason to try POST (tolerance rule 5)."""
        response = self._send(E4, "GET", "/ai/agents")
        if response.status_code == 405:
            raise DAIHTTPError(
                f"{E4}: 405 {error_text(response)}: this server does not list agents with GET "
                "(pytest-dai never sends POST /ai/agents: on DAI that creates an agent)",
                endpoint=E4,
                status=405,
            )
        if response.status_code == 404:
            raise DAIHTTPError(f"{E4}: 404 {error_text(response)}", endpoint=E4, status=404)
        return [Agent.parse(raw, E4) for raw in list_items(self._json(response, E4), E4)]

    def list_models(self) -> list[Model]:
        """E5: the models."""
        response = self._send(E5, "GET", "/ai/models")
        if response.status_code in (404, 405):
            raise DAIHTTPError(
                f"{E5}: {response.status_code} {error_text(response)}",
                endpoint=E5,
                status=response.status_code,
            )
        return [Model.parse(raw, E5) for raw in list_items(self._json(response, E5), E5)]

    def run_logs(
        self, run_id: str, *, limit: int = 500, offset: int = 0, quick: bool = False
    ) -> LogPage:
        """E6: one page of a run's log. ``quick``: with the abort's short timeout and few
        attempts (for an interrupted session, where nobody wants to wait)."""
        endpoint = E6.replace("{run_id}", escape_control_chars(str(run_id))[:80])
        safe_id = path_id(run_id, endpoint=E6, field="run id")
        response = self._send(
            endpoint,
            "GET",
            f"/ai/runlogs/{safe_id}",
            params={"limit": limit, "offset": offset},
            timeout=self.abort_timeout if quick else None,
            session=self._abort_session if quick else None,
        )
        if response.status_code == 404:
            raise self._not_found(response, endpoint, "unknown run")
        if response.status_code == 405:
            raise DAIHTTPError(f"{endpoint}: 405 {error_text(response)}", endpoint=endpoint)
        payload = self._json(response, endpoint)
        total = payload.get("total_count") if isinstance(payload, dict) else None
        items = [LogEntry.parse(raw) for raw in list_items(payload, endpoint)]
        return LogPage(items, total if isinstance(total, int) else None)

    def screenshot(self, image_id: str, *, timeout: float | None = None) -> bytes:
        """E12: a screenshot's bytes (DAI sends PNG), at most :data:`SCREENSHOT_LIMIT` (a
        larger one is not read: a :class:`DAIProtocolError`).

        Quick by design, since evidence must not hold a failed test up: the abort's few
        attempts and short backoff, ``timeout`` an attempt (default the smaller of the request
        timeout and :data:`SCREENSHOT_TIMEOUT`) and :data:`SCREENSHOT_TOTAL` in all. The id
        (from a run log) is validated and percent-encoded. A 404 is :class:`DAINotFoundError`.
        """
        endpoint = E12.replace("{image_id}", escape_control_chars(str(image_id))[:80])
        safe_id = path_id(image_id, endpoint=E12, field="image_id")
        with call_budget(SCREENSHOT_TOTAL):
            response = self._send(
                endpoint,
                "GET",
                f"/api/v2/screenshots/{safe_id}",
                timeout=min(self.timeout, SCREENSHOT_TIMEOUT) if timeout is None else timeout,
                session=self._abort_session,
                body_limit=SCREENSHOT_LIMIT,
            )
        if response.status_code == 404:
            raise self._not_found(response, endpoint, "unknown screenshot")
        if response.status_code == 405:
            raise DAIHTTPError(f"{endpoint}: 405 {error_text(response)}", endpoint=endpoint)
        return response.content

    def iter_run_logs(
        self, run_id: str, *, page_size: int = 500, quick: bool = False
    ) -> Iterable[LogEntry]:
        """Every entry of a run's log, page by page.

        A server that ignores ``limit`` (a page longer than asked for) or ``offset`` (the same
        page again) ends the paging rather than looping forever.
        """
        offset = 0
        previous: list[LogEntry] | None = None
        while True:
            page = self.run_logs(run_id, limit=page_size, offset=offset, quick=quick)
            if page.items and page.items == previous:
                return
            if offset + len(page.items) > LOG_ENTRIES_LIMIT:
                yield from page.items[: LOG_ENTRIES_LIMIT - offset]
                log.warning(
                    "pytest-dai: %s: the log of run %s has more than %d entries; the rest is "
                    "not read",
                    E6,
                    escape_control_chars(str(run_id))[:80],
                    LOG_ENTRIES_LIMIT,
                )
                return
            yield from page.items
            offset += len(page.items)
            if not page.items or len(page.items) != page_size:
                return
            if page.total_count is not None and offset >= page.total_count:
                return
            previous = page.items


def check_token_url(url: str, token_url: str, *, allow_insecure: bool = False) -> None:
    """Refuse (a :class:`DAIConfigError`) a plain-http token URL for an https DAI server: the
    client secret would cross the network in the clear. ``allow_insecure``: the user's
    explicit ``dai_allow_insecure_token_url``."""
    if allow_insecure:
        return
    if url.lower().startswith("https://") and token_url.lower().startswith("http://"):
        raise DAIConfigError(
            f"token URL {describe_url(token_url)} is plain http while the DAI server "
            f"{describe_url(url)} is https: the client secret would be sent unencrypted; use an "
            "https token URL, or set dai_allow_insecure_token_url = true "
            "(--dai-allow-insecure-token-url) if you mean it"
        )


#: The longest ``Retry-After`` an abort (or a quick log fetch) waits for.
ABORT_RETRY_AFTER_MAX = 1.0

#: The most one abort takes in all (its token fetch, attempts and waits included), seconds.
ABORT_TOTAL = 5.0

DROPPED = (
    "the server closed the connection",
    "the connection was dropped",
    "the connection was reset",
)


def _seconds(scope: RequestScope, timeout: float) -> str:
    """How long the call was given: one attempt's time, or the budget that cut it shorter."""
    if scope.deadline is not None and scope.attempt_deadline == scope.deadline:
        return "the time it had left"
    return f"{timeout:g} s"


def _cause(exc: BaseException) -> str:
    """A short reason for a connection failure, without URLs or internals."""
    text = str(exc)
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("RemoteDisconnected", "the server closed the connection"),
        ("Connection aborted", "the connection was dropped"),
        ("Connection reset", "the connection was reset"),
        ("Max retries exceeded", "no answer after the retries"),
    ):
        if marker in text:
            return reason
    return type(exc).__name__
