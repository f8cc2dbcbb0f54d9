"""Server data is untrusted: helpers that keep it bounded and harmless (contract rules 11, 12).

Every id from the server that goes into a URL path passes :func:`path_id`; every response body
is read with :func:`read_body` (a size cap) and JSON is parsed with :func:`parse_json` (no
RecursionError, no NaN, no absurd numbers); every name from the server that reaches a terminal
passes :func:`escape_control_chars`. Each failure is one :class:`DAIProtocolError` line naming
the endpoint and the field.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pytest_dai.client.errors import DAIProtocolError
from pytest_dai.client.text import control_chars, escape_control_chars

if TYPE_CHECKING:
    import requests

__all__ = [
    "JSON_BODY_LIMIT",
    "JSON_DEPTH_LIMIT",
    "SCREENSHOT_BODY_LIMIT",
    "NotJSONError",
    "escape_control_chars",
    "finite_number",
    "parse_json",
    "path_id",
    "read_body",
]

#: The largest JSON body (or log page, or error body) read from a server: 20 MB.
JSON_BODY_LIMIT = 20 * 1024 * 1024
#: The largest binary body (a screenshot) read from a server: 20 MB.
SCREENSHOT_BODY_LIMIT = 20 * 1024 * 1024
#: The deepest nesting of arrays and objects accepted in a JSON answer.
JSON_DEPTH_LIMIT = 64
#: Integers with more digits than this are not numbers any DAI field holds.
INT_DIGITS_LIMIT = 30
#: How long an id from the server may be.
ID_LENGTH_LIMIT = 200

_READ_CHUNK = 64 * 1024


def path_id(value: object, *, endpoint: str, field: str) -> str:
    """``value`` (an id from the server) made safe for a URL path (tolerance rule 11).

    Refused (a :class:`DAIProtocolError` naming ``endpoint`` and ``field``) when it is empty,
    not a string or integer, too long, or holds ``/``, ``..``, ``?``, ``#``, a backslash or a
    control character; otherwise returned percent-encoded (nothing left unescaped but
    unreserved characters).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DAIProtocolError(
            f"{endpoint}: field {field}: expected an id, got {type(value).__name__}",
            endpoint=endpoint,
        )
    text = str(value)
    problem = _id_problem(text)
    if problem:
        raise DAIProtocolError(
            f"{endpoint}: field {field}: refused id {escape_control_chars(text[:60])!r} "
            f"({problem})",
            endpoint=endpoint,
        )
    return quote(text, safe="")


def is_plain_id(value: str) -> bool:
    """Whether ``value`` would pass :func:`path_id` (for journal entries and the like)."""
    return not _id_problem(value)


def _id_problem(text: str) -> str:
    if not text or not text.strip():
        return "empty"
    if len(text) > ID_LENGTH_LIMIT:
        return f"longer than {ID_LENGTH_LIMIT} characters"
    for bad in ("/", "\\", "..", "?", "#"):
        if bad in text:
            return f"holds {bad!r}"
    if control_chars().search(text):
        return "holds a control character"
    return ""


def read_body(
    response: requests.Response,
    *,
    endpoint: str,
    limit: int = JSON_BODY_LIMIT,
    what: str = "answer",
) -> bytes:
    """The body of a streamed ``response`` (``stream=True``), at most ``limit`` bytes.

    Larger (by ``Content-Length`` or by what arrives) is one :class:`DAIProtocolError` line,
    and the connection is closed rather than read to its end. Afterwards ``response.content``
    and ``response.json()`` work as usual. A body already read is checked against the limit.
    """
    consumed = getattr(response, "_content_consumed", False)
    if consumed:
        data = response.content or b""
        if len(data) > limit:
            raise _too_large(endpoint, what, limit)
        return data
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared.strip()[:20]) > limit:
        response.close()
        raise _too_large(endpoint, what, limit)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(endpoint, what, limit)
            chunks.append(chunk)
    except DAIProtocolError:
        response.close()
        raise
    data = b"".join(chunks)
    response._content = data  # requests keeps the body here
    response._content_consumed = True  # type: ignore[attr-defined]
    return data


def _too_large(endpoint: str, what: str, limit: int) -> DAIProtocolError:
    return DAIProtocolError(
        f"{endpoint}: {what} larger than {limit // (1024 * 1024)} MB, not read (the limit for "
        f"{what}s)",
        endpoint=endpoint,
    )


class NotJSONError(DAIProtocolError):
    """A body that is not JSON at all (as opposed to JSON that is too deep)."""


def _parse_int(text: str) -> int | float:
    # More digits than any field holds: keep it out of int() (CPython refuses > 4300 digits
    # with a ValueError, and smaller giants still cost time); field checks refuse it by name.
    if len(text.lstrip("-")) > INT_DIGITS_LIMIT:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def parse_json(data: bytes | str, *, endpoint: str) -> Any:
    """JSON from a server: nesting deeper than :data:`JSON_DEPTH_LIMIT`, or not JSON, is a
    :class:`DAIProtocolError`; giant integers become infinity and ``NaN``/``Infinity`` stay
    floats, for the field that needs a number to refuse by name (see :func:`finite_number`).
    """
    try:
        value = json.loads(data, parse_int=_parse_int)
    except RecursionError:
        raise DAIProtocolError(
            f"{endpoint}: answer is nested deeper than {JSON_DEPTH_LIMIT} levels",
            endpoint=endpoint,
        ) from None
    except ValueError as exc:
        raise NotJSONError(
            f"{endpoint}: answer is not JSON ({type(exc).__name__})", endpoint=endpoint
        ) from None
    _check_depth(value, endpoint)
    return value


def _check_depth(value: Any, endpoint: str) -> None:
    """Refuse nesting deeper than the limit, without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > JSON_DEPTH_LIMIT:
            raise DAIProtocolError(
                f"{endpoint}: answer is nested deeper than {JSON_DEPTH_LIMIT} levels",
                endpoint=endpoint,
            )
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values() if _nested(child))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if _nested(child))


def _nested(value: Any) -> bool:
    return isinstance(value, (dict, list))


def finite_number(
    value: Any, *, endpoint: str, field: str, maximum: float = 1e15
) -> float | int | None:
    """A number field from the server: None when absent; refused (naming ``field``) when it is
    NaN, infinite, a giant integer, or larger in size than ``maximum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise DAIProtocolError(
            f"{endpoint}: field {field}: {value!r} is not a usable number", endpoint=endpoint
        )
    if abs(value) > maximum:
        raise DAIProtocolError(
            f"{endpoint}: field {field}: {value:.3g} is out of range (at most {maximum:g})",
            endpoint=endpoint,
        )
    return value
