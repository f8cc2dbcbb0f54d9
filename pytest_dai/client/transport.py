"""How pytest-dai sends a call to DAI: one configured HTTP session with its token, retries,
timeouts, redirect rules and body limits, and every failure turned into a one-line
:class:`~pytest_dai.client.errors.DAIError` that says which call failed and where.

:class:`DAITransport` is the part of :class:`~pytest_dai.client.endpoints.DAIClient` that
knows nothing of what the calls mean; the endpoints (:mod:`~pytest_dai.client.endpoints`,
:mod:`~pytest_dai.client.test_configs`) build on :meth:`DAITransport.send`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import requests

from pytest_dai.client import defaults
from pytest_dai.client.api_version import AUTO, ApiVersion
from pytest_dai.client.auth import BearerAuth, TokenSource, error_text, v1_auth_url
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
    request_whole,
)
from pytest_dai.client.safety import JSON_BODY_LIMIT, NotJSONError, parse_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.calls import Call
    from pytest_dai.client.credentials import Credentials
    from pytest_dai.client.deadline import RequestScope

__all__ = ["ABORT_RETRY_AFTER_MAX", "ABORT_TOTAL", "DAITransport", "check_token_url"]

#: The longest ``Retry-After`` an abort (or a quick log fetch) waits for.
ABORT_RETRY_AFTER_MAX = 1.0

#: The most one abort takes in all (its token fetch, attempts and waits included), seconds.
ABORT_TOTAL = 5.0

#: Causes that mean a request was sent and then dropped (it reached the server).
DROPPED = (
    "the server closed the connection",
    "the connection was dropped",
    "the connection was reset",
)


class DAITransport:
    """The sending half of a DAI client: thread-safe, reuses its connections.

    ``attempts`` is attempts per request (retries + 1), ``timeout`` the per-request timeout in
    seconds, ``ca_cert`` a PEM bundle (TLS verification is always on). Calls marked ``quick``
    (aborts, logs read while interrupted) go through a second session with few attempts and
    ``abort_timeout`` per attempt. ``api_version``: ``auto``, ``v1`` or ``v2``, the public API
    (:class:`~pytest_dai.client.api_version.ApiVersion`, in :attr:`api`).
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
        api_version: str = AUTO,
    ) -> None:
        self.url = url.rstrip("/")
        #: The public API version this client speaks (decided once per session).
        self.api = ApiVersion(api_version)
        check_token_url(self.url, credentials.token_url, allow_insecure=allow_insecure_token_url)
        self.timeout = timeout
        self.abort_timeout = abort_timeout
        self._session = build_session(
            attempts=attempts,
            backoff_factor=backoff_factor,
            ca_cert=ca_cert,
            safe_post_prefixes=(credentials.token_url, v1_auth_url(credentials.token_url)),
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
        self.tokens = TokenSource(credentials, self._session, timeout=timeout, api=self.api)
        self._auth = BearerAuth(self.tokens, timeout=timeout, origin=self.url)
        # An abort that needs a fresh token fetches it as quickly as it aborts.
        self._abort_auth = BearerAuth(
            self.tokens, timeout=abort_timeout, session=self._abort_session, origin=self.url
        )
        self._client_id = credentials.client_id
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, client_id={self._client_id!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()
        self._abort_session.close()

    @property
    def session(self) -> requests.Session:
        """The HTTP session of ordinary calls (its adapters carry the retry rules)."""
        return self._session

    def label(self, call: Call, **ids: object) -> str:
        """How messages name ``call`` on this server (see :meth:`Call.at`), on the public API
        version in use."""
        return call.on(self.api.version).at(self.url, **ids)

    def send_public(
        self,
        call: Call,
        ids: dict[str, object] | None = None,
        path_ids: dict[str, str] | None = None,
        **options: Any,
    ) -> tuple[requests.Response, str]:
        """Send a public-API GET (``ids`` as shown, ``path_ids`` checked and encoded) on the
        version in use; returns the response (2xx, 404 or 405, as :meth:`send`) and the
        label it went under. While ``auto`` is undecided, an answer settles it: a v2 path that
        answers keeps v2; one that answers 404 is tried on v1 (if v1 has it), and v1 answering
        makes it v1 for the session (contract 2.7)."""
        ids, path_ids = ids or {}, path_ids or {}
        if self.api.may_probe:  # a v2 auth's 404 settles the version before the path is made
            if options.get("quick"):
                self.tokens.get(session=self._abort_session, timeout=self.abort_timeout)
            else:
                self.tokens.get()
        version = self.api.version
        endpoint = self.label(call, **ids)
        path = call.on(version).path.format(**path_ids)
        response = self.send(endpoint, call.method, path, **options)
        status = response.status_code
        if status == 404 and self.api.version != version and call.v1:
            # Its token fetch settled the version (the v2 auth answered 404): go there.
            version = self.api.version
            endpoint = self.label(call, **ids)
            path = call.on(version).path.format(**path_ids)
            return self.send(endpoint, call.method, path, **options), endpoint
        if not self.api.may_probe:
            return response, endpoint
        if status not in (404, 405):
            self.api.decide(version, f"GET {call.on(version).path} answered {status}")
            return response, endpoint
        if status == 405 or not call.v1:
            return response, endpoint
        older = call.on("v1")
        second = self.send(
            older.at(self.url, **ids), call.method, older.path.format(**path_ids), **options
        )
        if second.status_code == 404:
            return response, endpoint
        why = f"{call.on(version).path} answered 404, {older.path} answered {second.status_code}"
        self.api.decide("v1", why)
        return second, older.at(self.url, **ids)

    # -- the one place that sends -------------------------------------------------------------

    def send(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        quick: bool = False,
        body_limit: int = JSON_BODY_LIMIT,
    ) -> requests.Response:
        """Send one call (retries happen inside ``requests``); map every failure to a DAIError
        whose message starts with ``endpoint`` (the call's :meth:`label`).

        Each attempt ends within ``timeout`` (connect and every read), the call within the
        thread's :func:`~pytest_dai.client.deadline.call_budget`; the body is read whole, up
        to ``body_limit`` bytes (:func:`~pytest_dai.client.safety.read_body`), before this
        returns. A redirect is followed only to the same origin (:func:`check_redirect`).
        ``quick``: the abort's session (few attempts, short backoff) and, unless ``timeout``
        is given, its short timeout. Returns the response for 2xx, 404 and 405 (callers decide
        what those mean).
        """
        url = self.url + path
        if timeout is None:
            timeout = self.abort_timeout if quick else self.timeout
        sender = self._abort_session if quick else self._session
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

    def send_abort(
        self,
        endpoint: str,
        path: str,
        *,
        timeout: float | None = None,
        already_over: Callable[[DAIHTTPError], bool],
    ) -> requests.Response | None:
        """Send an abort's DELETE to ``path``: ``quick`` (see :meth:`send`) and bounded in all
        by :data:`ABORT_TOTAL` (token fetch, retries and ``Retry-After`` included, whatever
        the server does), since it runs while Ctrl-C waits.

        Returns None when the server refused it in words ``already_over`` takes to mean the
        run is over; otherwise as :meth:`send` (the response for 2xx, 404 and 405)."""
        with call_budget(ABORT_TOTAL):
            try:
                return self.send(endpoint, "DELETE", path, timeout=timeout, quick=True)
            except DAIHTTPError as exc:
                if already_over(exc):
                    return None
                raise

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
                response = request_whole(
                    sender,
                    method,
                    url,
                    scope,
                    endpoint=endpoint,
                    body_limit=body_limit,
                    params=params,
                    json=json,
                    timeout=timeout,
                    auth=self._abort_auth if sender is self._abort_session else self._auth,
                )
            except requests.exceptions.SSLError:
                raise DAIConnectionError(
                    f"{endpoint}: TLS verification of {describe_url(url)} failed (give the "
                    "server's CA bundle with --dai-ca-cert or DAI_CA_CERT)",
                    endpoint=endpoint,
                ) from None
            except requests.exceptions.RequestException as exc:
                raise _connection_error(endpoint, url, exc, scope, timeout) from None
        return response

    # -- reading answers ----------------------------------------------------------------------

    def read_json(self, response: requests.Response, endpoint: str) -> Any:
        """The answer's JSON (None for an empty answer); anything else a DAIProtocolError."""
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
    def not_found(response: requests.Response, endpoint: str, what: str) -> DAINotFoundError:
        """The error for a 404 that means ``what`` (e.g. "unknown run")."""
        return DAINotFoundError(
            f"{endpoint}: 404 {what}: {error_text(response)}", endpoint=endpoint, status=404
        )

    @staticmethod
    def refused(response: requests.Response, endpoint: str, why: str = "") -> DAIHTTPError:
        """The error for a status the caller cannot use (a 404 or 405 where the call must
        exist: the server does not have it); ``why`` adds what it means."""
        status = response.status_code
        return DAIHTTPError(
            f"{endpoint}: {status} {error_text(response)}{why}", endpoint=endpoint, status=status
        )


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


def _connection_error(
    endpoint: str, url: str, exc: BaseException, scope: RequestScope, timeout: float
) -> DAIConnectionError:
    """A request that got no usable answer, in one line: no answer in time, or the cause."""
    if scope.expired or isinstance(exc, requests.exceptions.Timeout):
        return DAIConnectionError(
            f"{endpoint}: {describe_url(url)} gave no answer within {_seconds(scope, timeout)}",
            endpoint=endpoint,
        )
    cause = _cause(exc)
    # A request sent and then dropped reached the server; one refused never did.
    reach = "lost the connection to" if cause in DROPPED else "cannot reach"
    return DAIConnectionError(
        f"{endpoint}: {reach} {describe_url(url)} ({cause})", endpoint=endpoint
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
