"""What an error body says, quoted in one line of at most 200 characters with secrets masked
(tolerance rule 8): an RFC 7807 problem's ``title`` and ``detail`` (contract 2.7), Keycloak's
``error_description``, a ``message``, FastAPI's ``detail`` (a text or a list of ``loc``/``msg``),
else an excerpt of the body (an HTML page from a proxy loses its tags).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_dai.client.errors import DAIProtocolError, excerpt
from pytest_dai.client.safety import escape_control_chars, parse_json

if TYPE_CHECKING:
    import requests

__all__ = ["error_text"]


def _error_text(response: requests.Response) -> str:
    """The useful part of an error body: an RFC 7807 problem's title and detail, Keycloak's or
    FastAPI's fields, else an excerpt."""
    try:
        body: Any = parse_json(response.content or b"", endpoint="error body")
    except DAIProtocolError:
        return excerpt(response.text) or escape_control_chars(response.reason or "")
    if isinstance(body, dict):
        problem = _problem_text(body)
        if problem:
            return excerpt(problem)
        for key in ("error_description", "message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return excerpt(value)
            if value:
                return excerpt(_detail_text(value))
    return excerpt(response.text)


def _problem_text(body: dict[str, Any]) -> str:
    """An RFC 7807 problem's ``title: detail`` (``detail`` may be null: the title alone);
    empty for other bodies."""
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return ""
    detail = body.get("detail")
    text = (detail if isinstance(detail, str) else _detail_text(detail) if detail else "").strip()
    title = title.strip()
    if not text or text == title:
        return title
    return f"{title}: {text}"


def _detail_text(detail: object) -> str:
    """FastAPI's ``detail`` list as ``loc: msg`` pairs."""
    if isinstance(detail, list):
        parts = []
        for entry in detail:
            if isinstance(entry, dict):
                loc = ".".join(str(x) for x in entry.get("loc", []) if x != "body")
                parts.append(f"{loc}: {entry.get('msg', '')}" if loc else str(entry.get("msg")))
            else:
                parts.append(str(entry))
        return "; ".join(parts)
    return str(detail)


error_text = _error_text
