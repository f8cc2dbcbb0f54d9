"""Keysight's public API in the DAI simulator as each DAI version serves it (contract 2.7):
which version answers (``/api/v2`` from DAI 7.5, ``/api/v1`` only on DAI 7.4, which has no
test-config results), paginated envelopes with sort options, and RFC 7807 error bodies.

The routes keep their ``/api/v2`` paths; :func:`internal_path` maps a request's path onto them
(or refuses it: 404) by the dialect's ``public_api``. :func:`listing` pages and sorts a public
list when the dialect's ``public_paged`` says so; :func:`as_problem` words an error of a
public-API path as an RFC 7807 problem when ``problem_errors`` says so.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.answers import Response, detail, envelope, json_response, phrase

if TYPE_CHECKING:
    from pytest_dai.simulator.dialects import Dialect

__all__ = [
    "SORT_BY",
    "SORT_ORDER",
    "as_problem",
    "internal_path",
    "listing",
]

V1 = "/api/v1"
V2 = "/api/v2"
#: The sort parameters pytest-dai sends (ours: the public API's own names are not published).
SORT_BY = "sort_by"
SORT_ORDER = "sort_order"
#: The public API v2 calls DAI 7.4's v1 does not have.
_V2_ONLY = ("/test_config_results",)


def internal_path(path: str, dialect: Dialect) -> str | None:
    """The route path of a request's ``path`` (``/api/v1/...`` on a v1 server is served by the
    ``/api/v2`` routes), or None when this server has no such path (a 404). Paths outside the
    public API are returned as they are."""
    for prefix in (V1, V2):
        if path == prefix or path.startswith(prefix + "/"):
            rest = path[len(prefix) :]
            break
    else:
        return path
    served = "v1" if dialect.public_api == "v1" else "v2"
    if prefix != f"/api/{served}":
        return None
    if served == "v1" and rest.startswith(_V2_ONLY):
        return None
    return V2 + rest


def as_problem(response: Response, path: str, dialect: Dialect) -> Response:
    """An error answer of a public-API path as an RFC 7807 problem (``{"type", "title",
    "status", "detail"}``, ``detail`` null when there is none) when the dialect says so.
    FastAPI's 422 lists (``{"detail": [...]}``) stay as they are (contract 2.7)."""
    if not dialect.problem_errors or response.status < 400 or not path.startswith("/api/"):
        return response
    try:
        body = json.loads(response.body.decode("utf-8")) if response.body else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return response
    text = body.get("detail") if isinstance(body, dict) else None
    if isinstance(text, list):
        return response
    if not isinstance(text, str) and isinstance(body, dict):
        text = body.get("message") if isinstance(body.get("message"), str) else None
    problem = {
        "type": "about:blank",
        "title": phrase(response.status),
        "status": response.status,
        "detail": text if text and text != phrase(response.status) else None,
    }
    answer = json_response(response.status, problem, response.headers)
    answer.content_type = "application/problem+json"
    return answer


def _number(query: dict[str, str], key: str, default: int | None) -> int | str | None:
    raw = query.get(key)
    if raw is None:
        return default
    if not raw.isdigit():
        return f"{key}: expected a whole number >= 0, got {raw[:20]!r}"
    return int(raw)


def listing(
    items: list[dict[str, Any]],
    query: dict[str, str],
    dialect: Dialect,
    *,
    newest_first: bool = False,
    key: str | None = None,
) -> Response:
    """A public list: when the dialect pages them, ``{"items": page, "total_count": N}``
    with ``limit`` (at most, and by default, ``public_page_size``) and ``offset``, sorted by
    ``sort_by`` and ``sort_order`` if the dialect honours them, else in its own order
    (``public_oldest_first``; ``items`` come in the server's natural order, ``newest_first``
    or not). Otherwise as before: every item, bare or in the dialect's envelope (``key``:
    this list's own)."""
    if not dialect.public_paged:
        wrapper = key or dialect.envelope
        if wrapper is None:
            return json_response(200, items)
        return json_response(200, {wrapper: items, "total_count": len(items)})
    limit = _number(query, "limit", dialect.public_page_size)
    offset = _number(query, "offset", 0)
    for value in (limit, offset):
        if isinstance(value, str):
            return detail(422, [{"type": "int_parsing", "loc": ["query"], "msg": value}])
    ordered = _sorted(items, query, dialect, newest_first)
    start = int(offset or 0)
    size = min(int(limit or dialect.public_page_size), dialect.public_page_size)
    page = ordered[start : start + size]
    return json_response(200, envelope(page, len(items), _items_dialect(dialect)))


def _items_dialect(dialect: Dialect) -> Dialect:
    import dataclasses

    return dialect if dialect.envelope else dataclasses.replace(dialect, envelope="items")


def _sort_key(value: Any) -> tuple[int, float, str]:
    """Numbers by value, anything else by its text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _sorted(
    items: list[dict[str, Any]], query: dict[str, str], dialect: Dialect, newest_first: bool
) -> list[dict[str, Any]]:
    """The items in the order asked (when honoured), else the server's own order."""
    field = query.get(SORT_BY)
    if dialect.public_sort and field:
        descending = query.get(SORT_ORDER, "asc").lower() == "desc"
        present = [item for item in items if item.get(field) is not None]
        missing = [item for item in items if item.get(field) is None]
        present.sort(key=lambda item: _sort_key(item[field]), reverse=descending)
        # As PostgreSQL orders NULLs: last going up, first going down.
        return missing + present if descending else present + missing
    if newest_first == dialect.public_oldest_first:
        return list(reversed(items))
    return list(items)
