"""The HTTP session of the DAI client: retries through urllib3's ``Retry``, TLS, timeouts.

One :class:`requests.Session` per client, configured once (retries, CA bundle) and reused for
every call, so connections are kept alive. Every call passes a timeout.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from pytest_dai.client.errors import DAIConfigError

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

__all__ = [
    "RETRY_STATUSES",
    "START_RETRY_STATUSES",
    "CappedRetry",
    "StartSafeRetry",
    "build_session",
]

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
        """Honour ``Retry-After``, but never sleep longer than the cap."""
        seconds = super().get_retry_after(response)
        cap = RETRY_AFTER_MAX if self.retry_after_cap is None else self.retry_after_cap
        return None if seconds is None else min(seconds, cap)


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
    attempts: int = 5,
    backoff_factor: float = 0.5,
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
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    if ca_cert:
        if not os.path.exists(ca_cert):
            raise DAIConfigError(f"CA bundle {ca_cert!r}: no such file")
        session.verify = ca_cert
    else:
        session.verify = True
    default = HTTPAdapter(
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
            HTTPAdapter(
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
