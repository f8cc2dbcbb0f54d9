"""HTTP answers of the DAI simulator: the :class:`Response` every route returns and the small
helpers that word one (JSON, FastAPI's ``{"detail": ...}``, the dialect's envelope and extra
fields, an nginx error page).
"""

from __future__ import annotations

import http
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.runlog import format_time

if TYPE_CHECKING:
    from pytest_dai.simulator.dialects import Dialect
    from pytest_dai.simulator.runs import SimRun

__all__ = [
    "Response",
    "detail",
    "envelope",
    "execution_id",
    "extra",
    "format_seconds",
    "html_page",
    "iso_time",
    "json_object",
    "json_response",
    "method_not_allowed",
    "phrase",
]


@dataclass
class Response:
    """One answer: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    """``payload`` as compact JSON."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json", list(headers or []))


def detail(status: int, text: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """FastAPI's error form: ``{"detail": text}``."""
    return json_response(status, {"detail": text}, headers)


def method_not_allowed(*allowed: str) -> Response:
    """405 with the ``Allow`` header."""
    return detail(405, "Method Not Allowed", [("Allow", ", ".join(allowed))])


def iso_time(timestamp: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``, e.g. ``2026-11-28T10:00:00.250Z``."""
    return format_time(timestamp, "iso")


def phrase(status: int) -> str:
    """The reason phrase of an HTTP status (``Error`` for an unknown one)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def html_page(status: int) -> bytes:
    """The error page a proxy (nginx) in front of the server would answer."""
    words = phrase(status)
    padding = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" * 6
    return (
        f"<html>\r\n<head><title>{status} {words}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {words}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        f"</body>\r\n</html>\r\n{padding}"
    ).encode()


def format_seconds(value: float) -> int | float:
    """Seconds as JSON writes them: an integer when whole."""
    return int(value) if float(value).is_integer() else value


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or ``None`` (empty, not JSON, or not an object)."""
    if not raw:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def execution_id(run: SimRun, dialect: Dialect) -> str | int:
    """The execution id of ``run`` as the dialect writes it."""
    return run.number if dialect.id_as_number else run.uuid


_EXTRA_FIELDS: dict[str, Any] = {
    "x_simulator_revision": 7,
    "_links": {"self": {"href": "/not/a/real/link"}},
    "tags": ["unknown", "fields"],
}


def extra(payload: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """``payload`` with unknown extra fields when the dialect says so."""
    if dialect.extra_fields:
        for key, value in _EXTRA_FIELDS.items():
            payload.setdefault(key, json.loads(json.dumps(value)))
    return payload


def envelope(items: list[dict[str, Any]], total: int, dialect: Dialect) -> Any:
    """A listing: a bare array, or ``{KEY: items, "total_count": total}``."""
    if dialect.envelope is None:
        return items
    return extra({dialect.envelope: items, "total_count": total}, dialect)
