"""The one boundary for text from a server: every string a server sends (a run record's ids,
names and status word, a test configuration's, a log entry's message...) passes
:func:`server_text` where the client parses it, and nothing downstream sees it raw.

What comes out is data, never markup, commands or a secret:

- every registered secret (the client secret, every access token ever issued) and anything
  token-shaped is masked (``***``, :func:`~pytest_dai.client.errors.redact`);
- its length is bounded (names, ids and words: :data:`NAME_LENGTH_LIMIT`; log messages:
  :data:`MESSAGE_LENGTH_LIMIT`), a cut shown by ``...``;
- control characters (newlines, ANSI and OSC escapes, bidirectional overrides...) are shown as
  visible escapes (``\\x1b``), so it is one line wherever it goes;
- what CI systems act on in a line is neutralised: a GitHub workflow command at its start
  (``::error::``, ``::stop-commands::``: shown as ``: :``), an old-style ``##[command]``
  anywhere (``# #[``), and a JUnit attachment ``[[ATTACHMENT|path]]`` (``[ [ATTACHMENT|``).

Markup (HTML, Markdown) is left to the writer of each output, which escapes it for that output.
An id that goes into an address is percent-encoded there (:func:`address_id`).
"""

from __future__ import annotations

from urllib.parse import quote

from pytest_dai.client.errors import redact
from pytest_dai.client.text import escape_control_chars, neutralise

__all__ = [
    "FAN_OUT_LIMIT",
    "MESSAGE_LENGTH_LIMIT",
    "NAME_LENGTH_LIMIT",
    "address_id",
    "neutralise",
    "server_id",
    "server_message",
    "server_text",
]

#: The longest name (model, agent, test case...), status word or id kept from a server.
NAME_LENGTH_LIMIT = 200
#: The longest log message kept from a server.
MESSAGE_LENGTH_LIMIT = 8000
#: The most items of one kind one run fans out into (a model run's steps, a test
#: configuration's test results): one subtest, steps-file testcase or terminal line each.
FAN_OUT_LIMIT = 10_000

_CUT = "..."


def _clean(text: str, limit: int) -> str:
    """Mask, cut, escape, neutralise (in this order: a secret is masked before a cut could
    leave a piece of it, and escapes are made of what is kept)."""
    masked = redact(text)
    if len(masked) <= limit:
        return neutralise(escape_control_chars(masked))
    return neutralise(escape_control_chars(masked[: limit - len(_CUT)])) + _CUT


def server_text(value: object, limit: int = NAME_LENGTH_LIMIT) -> str | None:
    """A name, word or other text from a server made safe (see the module's docstring); None
    for no text (None, an object or a list)."""
    if value is None or isinstance(value, (dict, list, tuple, bool)):
        return None
    return _clean(value if isinstance(value, str) else str(value), limit)


def server_message(value: object) -> str:
    """A log message from a server made safe ("" for none): as :func:`server_text`, up to
    :data:`MESSAGE_LENGTH_LIMIT` characters."""
    return server_text(value, MESSAGE_LENGTH_LIMIT) or ""


def server_id(value: object) -> str | None:
    """An id from a server (a string or an integer) made safe; None when it is none. An id
    longer than :data:`NAME_LENGTH_LIMIT` keeps a ``...`` that any path refuses, rather than
    becoming another, shorter id."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return _clean(str(value), NAME_LENGTH_LIMIT)


def address_id(value: str) -> str:
    """An id as it goes into an address (a run page, a result page): percent-encoded, nothing
    left but unreserved characters."""
    return quote(value, safe="")
