"""Errors of the DAI wire client, and the redaction that keeps secrets out of them.

Every message is one line, names the endpoint (or setting, or file) it is about, quotes at most
200 characters of a response body, and never contains a client secret or an access token:
secrets are registered with :func:`register_secret` when they are read or issued, and every
:class:`DAIError` message passes through :func:`redact`.
"""

from __future__ import annotations

import functools
import re
import threading

__all__ = [
    "DAIAuthError",
    "DAIConfigError",
    "DAIConnectionError",
    "DAIError",
    "DAIHTTPError",
    "DAILicenceError",
    "DAINotFoundError",
    "DAIProtocolError",
    "DAIRedirectError",
    "contains_secret",
    "excerpt",
    "redact",
    "register_secret",
]

BODY_EXCERPT_LIMIT = 200
_MASK = "***"

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


@functools.cache
def _token_patterns() -> tuple[re.Pattern[str], ...]:
    """Whatever registration missed: bearer headers and token or secret fields in bodies and
    queries (compiled on first use: the plugin's start-up does not pay for it)."""
    return (
        re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
        re.compile(
            r"(?i)([\"']?(?:access_token|refresh_token|id_token|client_secret)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\"'&,\s}]+"
        ),
    )


#: The registered secrets, longest first (a tuple replaced whole: read without the lock; every
#: string a server sends passes :func:`redact`, so it is kept cheap).
_longest_first: tuple[str, ...] = ()
#: Words without which no token pattern matches (the patterns are not run on text without).
_TOKEN_WORDS = ("bearer", "_token", "client_secret")


def register_secret(value: str | None) -> None:
    """Remember a secret (client secret, access token) so that :func:`redact` masks it."""
    global _longest_first
    if value and len(value) >= 4:
        with _secrets_lock:
            if value not in _secrets:
                _secrets.add(value)
                _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and anything token-shaped masked."""
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, _MASK)
    lowered = text.lower()
    if any(word in lowered for word in _TOKEN_WORDS):
        for pattern in _token_patterns():
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
    return text


def contains_secret(text: str) -> bool:
    """Whether :func:`redact` would change ``text`` (a registered secret, or token-shaped)."""
    with _secrets_lock:
        known = list(_secrets)
    return any(secret in text for secret in known) or any(p.search(text) for p in _token_patterns())


_TAG = r"<[^>]*>"
_SPACE = r"\s+"


def excerpt(body: str | bytes | None, limit: int = BODY_EXCERPT_LIMIT) -> str:
    """One line of at most ``limit`` characters from a response body, HTML tags removed."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if "<" in body and ">" in body:
        body = re.sub(_TAG, " ", body)
    from pytest_dai.client.text import escape_control_chars, neutralise  # (only on an error)

    text = neutralise(escape_control_chars(redact(re.sub(_SPACE, " ", body).strip())))
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _one_line(text: str) -> str:
    from pytest_dai.client.text import escape_control_chars, neutralise

    return neutralise(escape_control_chars(redact(re.sub(_SPACE, " ", text).strip())))


class DAIError(Exception):
    """Base of every pytest-dai error. ``str()`` is one line, with secrets masked."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        self.message = _one_line(message)
        self.endpoint = endpoint
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class DAIConfigError(DAIError):
    """A bad setting, marker argument, credentials file or CA bundle; names its source."""


class DAIAuthError(DAIError):
    """The token endpoint refused the credentials (400 or 401), or a call stayed 401."""


class DAILicenceError(DAIAuthError):
    """The token endpoint answered 403: no concurrent user licence is free."""


class DAIConnectionError(DAIError):
    """The server could not be reached, or did not answer in time, after the retries."""


class DAIRedirectError(DAIConnectionError):
    """A redirect that was not followed (to another origin, or one that would re-send a body);
    the message names both addresses."""


class DAIHTTPError(DAIError):
    """An endpoint answered with an error status after the retries."""

    def __init__(
        self, message: str, *, endpoint: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status


class DAINotFoundError(DAIHTTPError):
    """An endpoint answered 404: unknown model, agent, execution or run."""


class DAIProtocolError(DAIError):
    """A response the client cannot use: not JSON, a missing field, a wrong type."""
