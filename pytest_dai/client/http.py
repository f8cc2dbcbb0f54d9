"""The HTTP session of the DAI client: retries through urllib3's ``Retry``, TLS, timeouts,
total deadlines (:mod:`pytest_dai.client.deadline`) and redirects kept to their own origin.

One :class:`requests.Session` per client, configured once (retries, CA bundle) and reused for
every call, so connections are kept alive. Every call passes a timeout.

The session never follows a redirect by itself (:class:`SafeSession`): the client follows one
only to the same origin (scheme, host and port; see :func:`check_redirect`), so a credential or
a token never goes anywhere but where it was configured to go.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from pytest_dai.client import defaults
from pytest_dai.client.deadline import DeadlineAdapter, remaining_budget
from pytest_dai.client.errors import DAIConfigError, DAIRedirectError
from pytest_dai.client.safety import read_body

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

    from pytest_dai.client.deadline import RequestScope

__all__ = [
    "RETRY_STATUSES",
    "START_RETRY_STATUSES",
    "CappedRetry",
    "SafeSession",
    "StartSafeRetry",
    "build_session",
    "check_redirect",
    "describe_url",
    "same_origin",
]

#: Statuses that are redirects (with a ``Location``).
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: The most same-origin redirects one call follows.
MAX_REDIRECTS = 3

#: Statuses retried for calls that are safe to repeat (reads, aborts, the token endpoint).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Statuses after which a start (E1, a POST) is retried: the server says it did nothing.
START_RETRY_STATUSES = frozenset({429, 503})

#: The longest ``Retry-After`` we sleep for; a longer one is cut to this.
RETRY_AFTER_MAX = 60.0


class CappedRetry(Retry):
    """urllib3 ``Retry`` that never sleeps longer than :data:`RETRY_AFTER_MAX` for a
    ``Retry-After`` (used on every adapter, the token endpoint's included)."""

    #: A lower cap for one session (the abort's, which must end within seconds); None: the
    #: module's :data:`RETRY_AFTER_MAX`.
    retry_after_cap: float | None = None

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds or an HTTP date, as urllib3 reads them; also a decimal number of seconds
        (some servers send one). Anything else is ignored (0: the usual backoff applies)
        rather than failing the request."""
        try:
            return float(super().parse_retry_after(retry_after))
        except InvalidHeader:
            try:
                seconds = float(retry_after.strip())
            except ValueError:
                return 0.0
            return seconds if math.isfinite(seconds) and seconds > 0 else 0.0

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """Honour ``Retry-After``, but never sleep longer than the cap, nor past the call's
        deadline (what is left of a run deadline, an abort's budget)."""
        seconds = super().get_retry_after(response)
        cap = RETRY_AFTER_MAX if self.retry_after_cap is None else self.retry_after_cap
        return None if seconds is None else min(seconds, cap, remaining_budget())

    def get_backoff_time(self) -> float:
        """urllib3's backoff, never past the call's deadline."""
        return float(min(super().get_backoff_time(), remaining_budget()))

    def is_exhausted(self) -> bool:
        """Out of retries, or out of time: a call past its deadline makes no new attempt."""
        return bool(super().is_exhausted()) or remaining_budget() <= 0


class StartSafeRetry(CappedRetry):
    """urllib3 ``Retry`` that never sends a start (a POST) twice when it may have started a run.

    A POST to E1 whose answer timed out, whose connection dropped after it was sent, or that got
    a 500/502/504 may have started a run on the server: sending it again could start a second
    run on the same agent. So a POST is retried only where the server cannot have acted on it:
    the connection could not be made (urllib3 retries connect errors for any method), or the
    server answered 429 or 503. POST is not in ``allowed_methods``, so read errors are never
    retried for it; :meth:`is_retry` lets it through for 429 and 503 only.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Whether a response with ``status_code`` is retried (see the class docstring)."""
        if method.upper() == "POST":
            return status_code in START_RETRY_STATUSES and self.total != 0
        return super().is_retry(method, status_code, has_retry_after)


def _retry(
    attempts: int,
    backoff_factor: float,
    *,
    post_is_safe: bool,
    retry_after_max: float | None = None,
) -> Retry:
    """A ``Retry`` for ``attempts`` attempts in all (so ``attempts - 1`` retries)."""
    methods = {"GET", "HEAD", "OPTIONS", "DELETE", "PUT"}
    cls: type[CappedRetry] = CappedRetry if post_is_safe else StartSafeRetry
    if retry_after_max is not None:
        # urllib3 copies a Retry with type(self)(...) after each attempt: a class keeps the cap.
        cls = type(cls.__name__, (cls,), {"retry_after_cap": retry_after_max})
    if post_is_safe:
        methods.add("POST")
    return cls(
        total=attempts - 1,
        connect=attempts - 1,
        read=attempts - 1,
        status=attempts - 1,
        other=0,
        redirect=0,
        backoff_factor=backoff_factor,
        backoff_max=30.0,
        status_forcelist=sorted(RETRY_STATUSES),
        allowed_methods=frozenset(methods),
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def build_session(
    *,
    attempts: int = defaults.REQUEST_ATTEMPTS,
    backoff_factor: float = defaults.BACKOFF_FACTOR,
    ca_cert: str | None = None,
    safe_post_prefixes: tuple[str, ...] = (),
    pool_size: int = 16,
    user_agent: str = "pytest-dai",
    retry_after_max: float | None = None,
) -> requests.Session:
    """A session with retries on every ``http``/``https`` URL.

    ``safe_post_prefixes`` are URL prefixes (the token endpoint) where a POST may be repeated
    freely; everywhere else POST follows :class:`StartSafeRetry`. ``ca_cert`` is a PEM bundle
    path; TLS verification is always on. ``retry_after_max`` caps the wait a ``Retry-After``
    asks for (default :data:`RETRY_AFTER_MAX`).
    """
    if attempts < 1:
        raise DAIConfigError(f"attempts per request: expected an integer >= 1, got {attempts}")
    session = SafeSession()
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    if ca_cert:
        if not os.path.exists(ca_cert):
            raise DAIConfigError(f"CA bundle {ca_cert!r}: no such file")
        session.verify = ca_cert
    else:
        session.verify = True
    default = DeadlineAdapter(
        max_retries=_retry(
            attempts, backoff_factor, post_is_safe=False, retry_after_max=retry_after_max
        ),
        pool_connections=4,
        pool_maxsize=pool_size,
    )
    session.mount("http://", default)
    session.mount("https://", default)
    for prefix in safe_post_prefixes:
        session.mount(
            prefix,
            DeadlineAdapter(
                max_retries=_retry(
                    attempts, backoff_factor, post_is_safe=True, retry_after_max=retry_after_max
                ),
                pool_connections=2,
                pool_maxsize=pool_size,
            ),
        )
    return session


def describe_url(url: str) -> str:
    """``scheme://host:port`` of a URL: enough to say where, never a query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SafeSession(requests.Session):
    """A ``requests.Session`` that never follows a redirect by itself (a 3xx comes back as it
    is, its body unread), so no credential, token or form is ever sent on to where a server
    points: the client decides with :func:`check_redirect`."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """None: nothing is followed (requests would also read the whole 3xx body)."""
        return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


def same_origin(first: str, second: str) -> bool:
    """Whether two URLs have the same scheme, host and port (default ports filled in)."""
    return _origin(first) == _origin(second)


def check_redirect(
    url: str, response: requests.Response, *, endpoint: str, method: str, resend_body: bool
) -> str:
    """Where a 3xx ``response`` to ``url`` may be followed; raises :class:`DAIRedirectError`
    (one line naming both addresses) when it must not be: another origin (scheme, host or
    port, https to http included), no ``Location``, or a body that would have to be sent again
    (``resend_body`` false, e.g. the token form) or turned into a GET (a POST's 301/302/303).
    """
    location = response.headers.get("Location", "")
    status = response.status_code
    response.close()
    if not location:
        raise DAIRedirectError(
            f"{endpoint}: {describe_url(url)} answered {status} without a Location",
            endpoint=endpoint,
        )
    target = urljoin(url, location.strip())
    if not same_origin(url, target):
        raise DAIRedirectError(
            f"{endpoint}: {describe_url(url)} redirected to {describe_url(target)} ({status}); "
            f"not followed: credentials and tokens go only to {describe_url(url)}",
            endpoint=endpoint,
        )
    if method.upper() == "POST" and (not resend_body or status not in (307, 308)):
        raise DAIRedirectError(
            f"{endpoint}: {describe_url(url)} redirected a {method.upper()} to "
            f"{describe_url(target)} "
            f"({status}); not followed: the request is not sent again",
            endpoint=endpoint,
        )
    return target


def request_whole(
    session: requests.Session,
    method: str,
    url: str,
    scope: RequestScope,
    *,
    endpoint: str,
    body_limit: int,
    read_redirect: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """One request (urllib3's retries inside it) that follows no redirect, its body read whole
    up to ``body_limit`` bytes (a redirect's body only with ``read_redirect``), within
    ``scope``'s total deadline (past it: requests' ``Timeout``). TLS is verified as the session
    says, whatever ``REQUESTS_CA_BUNDLE`` says (psf/requests#3829)."""
    response = session.request(
        method, url, verify=session.verify, allow_redirects=False, stream=True, **kwargs
    )
    if read_redirect or response.status_code not in REDIRECT_STATUSES:
        read_body(response, endpoint=endpoint, limit=body_limit)
    if scope.finish():
        response.close()
        raise requests.exceptions.Timeout("total deadline")
    return response
