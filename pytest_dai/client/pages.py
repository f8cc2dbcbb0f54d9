"""Every page of a public-API list (E8 to E11, E14; tolerance rule 14), bounded.

Keysight's public API pages its lists (``{"items", "total_count"}`` envelopes) and offers sort
options whose names are not public. Ours: ``sort_by`` (a record field) and ``sort_order``
(``asc`` or ``desc``), sent where an order helps; a server that ignores them is tolerated, since
the order read is checked rather than trusted: a list asked newest first that comes oldest
first is read from its end (``total_count``), the way a DAI cloud's run list is read.

:func:`read_pages` stops at ``total_count``, on an empty or repeated page (a server that ignores
``offset``), on a short page when no total is given, when the caller has ``enough``, and after
``max_pages`` pages at most.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_dai.client.records import list_items, parse_time

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "EVENT_KEY",
    "MAX_PAGES",
    "PAGE_SIZE",
    "SORT_BY",
    "SORT_ORDER",
    "START_KEY",
    "ListPage",
    "ascending",
    "list_page",
    "read_pages",
    "sort_params",
]

#: Records asked for per page of a public-API list.
PAGE_SIZE = 100
#: The most pages read of one list (ten thousand records at :data:`PAGE_SIZE`).
MAX_PAGES = 100
#: The sort parameters sent (ours: the public API's own names are not published).
SORT_BY = "sort_by"
SORT_ORDER = "sort_order"


def sort_params(field: str, order: str) -> dict[str, str]:
    """``{"sort_by": field, "sort_order": order}`` (``order``: ``asc`` or ``desc``)."""
    return {SORT_BY: field, SORT_ORDER: order}


@dataclass(frozen=True)
class ListPage:
    """One page: its records and the server's ``total_count`` (None when it gave none)."""

    items: list[dict[str, Any]]
    total: int | None


def list_page(payload: Any, endpoint: str) -> ListPage:
    """A list answer as a page: its records and its ``total_count`` (a count that is not a
    whole number >= 0 is no count)."""
    total = payload.get("total_count") if isinstance(payload, dict) else None
    valid = isinstance(total, int) and not isinstance(total, bool) and total >= 0
    return ListPage(list_items(payload, endpoint), total if valid else None)


def _time_key(names: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """A record's time under the first of ``names`` it has (None: none, or not a time)."""

    def key(raw: dict[str, Any]) -> Any:
        for name in names:
            if raw.get(name) is not None:
                return parse_time(raw.get(name))
        return None

    return key


#: When a record started, and when a log entry was written (the order lists are checked by).
START_KEY = _time_key(("start_time", "starttime", "started_at"))
EVENT_KEY = _time_key(("eventtime", "timestamp"))


def ascending(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> bool:
    """Whether ``items`` are oldest first by ``key`` (records without a key are left out;
    fewer than two keyed records: not known, False)."""
    keys = [k for k in (key(item) for item in items) if k is not None]
    if len(keys) < 2 or keys[0] == keys[-1]:
        return False
    return all(a <= b for a, b in itertools.pairwise(keys))


def _identity(raw: dict[str, Any]) -> str:
    found = raw.get("id")
    return repr(found) if found is not None else repr(sorted(raw.items(), key=str))[:200]


class _Reader:
    """The state of one read: records by identity, pages read, and the bound."""

    def __init__(
        self,
        fetch: Callable[[int, int], ListPage],
        max_pages: int,
        enough: Callable[[list[dict[str, Any]]], bool] | None,
    ) -> None:
        self.fetch = fetch
        self.max_pages = max_pages
        self.enough = enough
        self.records: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.pages = 0

    def take(self, offset: int, limit: int) -> ListPage | None:
        """Read one page and keep its new records; None when the reading should stop (no
        page left in the bound, an empty or repeated page, or ``enough``)."""
        if self.pages >= self.max_pages:
            return None
        self.pages += 1
        page = self.fetch(offset, limit)
        fresh = [raw for raw in page.items if _identity(raw) not in self.seen]
        if not fresh:
            return None
        self.seen.update(_identity(raw) for raw in fresh)
        self.records.extend(fresh)
        if self.enough is not None and self.enough(self.records):
            return None
        return page


def read_pages(
    fetch: Callable[[int, int], ListPage],
    *,
    limit: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
    enough: Callable[[list[dict[str, Any]]], bool] | None = None,
    newest_key: Callable[[dict[str, Any]], Any] | None = None,
) -> list[dict[str, Any]]:
    """Every record of a list, ``fetch(offset, limit)`` reading one page, in the order read.

    ``newest_key``: the list was asked newest first by this key (a start time); if the first
    page shows it oldest first and more pages exist, the rest is read from the end backwards,
    so the newest records come first. ``enough(records so far)``: stop early (checked after
    the first page only when no such turn is needed)."""
    reader = _Reader(fetch, max_pages, None)
    first = reader.take(0, limit)
    if first is None:
        return reader.records
    total, got = first.total, len(first.items)
    more = got < total if total is not None else got == limit
    if not more:
        return reader.records
    reader.enough = enough
    if total is not None and 0 < got < limit:
        limit = got  # the server pages by fewer than asked: step by its page size
    if newest_key is not None and total is not None and ascending(first.items, newest_key):
        end = total
        while end > got:
            start = max(got, end - limit)
            if reader.take(start, end - start) is None:
                break
            end = start
        return reader.records
    if enough is not None and enough(reader.records):
        return reader.records
    offset = got
    while True:
        page = reader.take(offset, limit)
        if page is None:
            break
        offset += len(page.items)
        if page.total is not None and offset >= page.total:
            break
        if page.total is None and len(page.items) < limit:
            break
    return reader.records
