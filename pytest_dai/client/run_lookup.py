"""Finding one run among the run records of E2 (tolerance rules 3 and 10), and reading an
abort's refusal (rule 9).

``GET /ai/runs`` lists 20 records a page by default (seen), newest first, and a server may
ignore the ``execution_id`` filter. A record that is not on the first page is then looked for
on the following pages (``limit``, ``offset``), a bounded number of them: "no record" is never
concluded from the first page alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.errors import DAIHTTPError

__all__ = ["MAX_RUN_PAGES", "abort_already_over", "find_record", "record_ids"]

#: The most pages of E2 read for one lookup (20 a page: the 200 newest runs).
MAX_RUN_PAGES = 10

#: Words of a 400/422 abort answer that mean the run is over or unknown (rule 9).
_ALREADY_OVER = re.compile(
    r"finished|complete|already|not running|no longer|ended|terminated|stopped|cancel+ed|"
    r"unknown|not found|does not exist|doesn't exist|no such|invalid execution",
    re.IGNORECASE,
)

#: One page: its records (None: the server answered 404) and its ``total_count`` if any.
Page = tuple[list[dict[str, Any]] | None, int | None]


def record_ids(raw: dict[str, Any]) -> set[str]:
    """The execution ids a run record carries (``execution_id``, ``execution_status_id``)."""
    return {
        str(raw[key])
        for key in ("execution_id", "execution_status_id")
        if raw.get(key) is not None and not isinstance(raw[key], (dict, list))
    }


def _key(raw: dict[str, Any]) -> str:
    ids = sorted(record_ids(raw))
    return ids[0] if ids else repr(sorted(raw.items(), key=str))[:200]


def find_record(
    fetch: Callable[[dict[str, Any]], Page], execution_id: str
) -> dict[str, Any] | None:
    """The raw record of ``execution_id``, or None when the server has none (yet).

    ``fetch(params)`` asks E2 once. Pages go on only while the server shows other runs (the
    filter ignored), each page is full and new, and at most :data:`MAX_RUN_PAGES` are read.
    """
    params: dict[str, Any] = {"execution_id": execution_id}
    records, total = fetch(params)
    if not records:
        return None
    page_size = len(records)
    seen: set[str] = set()
    offset = 0
    for page_number in range(1, MAX_RUN_PAGES + 1):
        for raw in records:
            if execution_id in record_ids(raw):
                return raw
        keys = {_key(raw) for raw in records}
        if keys <= seen:
            return None  # the same records again: the server ignores offset
        seen |= keys
        offset += len(records)
        if total is not None and offset >= total:
            return None
        if page_number == MAX_RUN_PAGES:
            return None
        records, total = fetch({**params, "limit": page_size, "offset": offset})
        if not records:
            return None
    return None


def abort_already_over(exc: DAIHTTPError) -> bool:
    """Whether an abort's 400/422 says the execution is finished or unknown (rule 9)."""
    if exc.status not in (400, 422):
        return False
    said = exc.message.split(f": {exc.status} ", 1)[-1]  # the server's words, not the path
    return bool(_ALREADY_OVER.search(said))
