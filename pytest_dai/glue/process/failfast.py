"""Fail fast, once: a fault of the whole server is reported once, with its real cause.

A DAI server that cannot be used (nothing listens, the host name is unknown, TLS spoken to a
plain-http port, the token endpoint is not found, the credentials are refused, no secret) fails
every DAI test the same way. Left alone, each test would find it again after its own retries:
minutes for a large suite, and the cause buried in repeated lines. So:

- before the session's first call, one cheap look (:func:`pytest_dai.client.diagnose.probe`)
  finds a refused connection, an unknown host or TLS to a plain-http port at once;
- the first test that meets a server-wide fault fails with the cause and, where the settings
  explain it, what to change (a URL with a path, credentials of another server or realm);
- every later DAI test errors at once in its setup, with a short reference to that test;
- urllib3's "Retrying (...)" warnings go to the debug log (``pytest_dai.http``), not the
  terminal: the failure says what the retries found.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from pytest_dai.client.errors import (
    DAIAuthError,
    DAIConnectionError,
    DAIError,
    DAIHTTPError,
    DAILicenceError,
)
from pytest_dai.glue.process.state import ServerFault

if TYPE_CHECKING:
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.glue.settings.values import Settings

__all__ = [
    "check_server",
    "check_server_once",
    "explain",
    "is_server_wide",
    "note_fault",
    "refuse_if_faulted",
]

PROBE_TIMEOUT_MAX = 3.0


def is_server_wide(exc: BaseException) -> bool:
    """Whether ``exc`` would fail every DAI test alike: the server cannot be reached, the
    token endpoint failed, or the credentials are refused (a busy licence is not: it frees)."""
    if isinstance(exc, DAIConnectionError):
        return True
    if isinstance(exc, DAIAuthError) and not isinstance(exc, DAILicenceError):
        return True
    return isinstance(exc, DAIHTTPError) and (exc.endpoint or "").startswith("token endpoint")


def _origin(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _realm_of(token_url: str) -> str | None:
    parts = urlsplit(token_url).path.split("/")
    if "realms" in parts and parts.index("realms") + 1 < len(parts):
        return parts[parts.index("realms") + 1]
    return None


def explain(exc: DAIError, settings: Settings) -> str:
    """What the settings tell about ``exc``, as a sentence to add (empty when nothing)."""
    url = settings.url or ""
    path = urlsplit(url).path.rstrip("/")
    token_derived = settings.source("token_url").startswith("derived")
    if (
        isinstance(exc, DAIHTTPError)
        and exc.status == 404
        and (exc.endpoint or "").startswith("token endpoint")
        and path
        and token_derived
    ):
        return (
            f"the DAI URL {url} has a path ({path}) and the token URL is derived from it: give "
            f"the server's root URL ({_origin(url)}), or the token URL with --dai-token-url"
        )
    token_failed = isinstance(exc, DAIHTTPError) and exc.status in (400, 401, 404)
    refused = isinstance(exc, DAIAuthError) and not isinstance(exc, DAILicenceError)
    if refused or (token_failed and (exc.endpoint or "").startswith("token endpoint")):
        token_url = settings.token_url or ""
        where = settings.source("token_url")
        if token_url and _origin(token_url) != _origin(url):
            return (
                f"the token URL ({where}) is on {_origin(token_url)}, not on the DAI server "
                f"{_origin(url)}: use API credentials made on this server"
            )
        realm = _realm_of(token_url)
        if realm is not None and realm != settings.realm:
            return (
                f"the token URL ({where}) is for realm {realm!r}, the realm setting is "
                f"{settings.realm!r}: use credentials of this server's realm"
            )
    return ""


def _with_message(exc: DAIError, message: str) -> DAIError:
    new = copy.copy(exc)
    new.message = message
    new.args = (message,)
    return new


def note_fault(state: DAIState, nodeid: str, exc: DAIError) -> DAIError:
    """``exc`` met by test ``nodeid``: if it is a fault of the whole server (and the first),
    remember it; return the error to report (with what the settings explain about it)."""
    if getattr(state, "server_fault", None) is not None:
        return exc
    extra = explain(exc, state.settings)
    reported = _with_message(exc, f"{exc}; {extra}") if extra else exc
    state.server_fault = ServerFault(nodeid, str(reported))
    return reported


def refuse_if_faulted(state: DAIState, nodeid: str) -> None:
    """Error the test at once (in its setup) when an earlier test met a server-wide fault."""
    __tracebackhide__ = True
    fault: ServerFault | None = getattr(state, "server_fault", None)
    if fault is not None and fault.nodeid != nodeid:
        pytest.fail(
            f"DAI server not usable: not tried again, see the first failure ({fault.nodeid})",
            pytrace=False,
        )


def check_server_once(state: DAIState) -> None:
    """Before this process's first call to the server: :func:`check_server` (once)."""
    if state.server_checked or state.settings.url is None:
        return
    state.server_checked = True
    check_server(state.settings)


def check_server(settings: Settings) -> None:
    """One cheap look at the DAI server and the token endpoint before the first call; raise
    :class:`DAIConnectionError` with the cause when one of them cannot be used."""
    from pytest_dai.client.diagnose import probe

    timeout = min(settings.request_timeout, PROBE_TIMEOUT_MAX)
    seen: set[str] = set()
    for what, url in (("DAI server", settings.url), ("token endpoint", settings.token_url)):
        origin = _origin(url)
        if not url or origin in seen:
            continue
        seen.add(origin)
        try:
            finding = probe(url, timeout=timeout, ca_cert=settings.ca_cert)
        except (OSError, ValueError):  # a bad CA bundle: the client reports it
            finding = None
        if finding is not None:
            raise DAIConnectionError(f"{what} {origin}: {finding}", endpoint=what)
