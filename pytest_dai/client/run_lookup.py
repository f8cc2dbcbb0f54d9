"""Finding one run among the run records of E2 (tolerance rules 3, 10 and 13), remembering how
this server is best read, and reading an abort's refusal (rule 9).

``GET /ai/runs`` lists 20 records a page by default (seen), may ignore the ``execution_id``
filter, and may list newest first or OLDEST first (a DAI cloud: contract 2.7). The order is
never assumed: a first page without the run is read for its order, and where the list goes on
(``total_count``) the next pages are read from the end that holds the newest runs. At most
:data:`MAX_RUN_PAGES` pages are read for one lookup; "no record" is never concluded from the
first page alone.

Once a run has been found, :class:`RunReads` remembers where: the next poll reads that page
first (one request), and once the run id is known the client reads ``GET /ai/runs/{id}``
instead, unless the server has answered it 404/405 once in this session.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from pytest_dai.client.records import parse_time

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pytest_dai.client.errors import DAIHTTPError

__all__ = [
    "MAX_RUN_PAGES",
    "Page",
    "RunReads",
    "abort_already_over",
    "find_record",
    "list_order",
    "record_ids",
]

#: The most pages of E2 read for one lookup (20 a page: the 200 newest runs).
MAX_RUN_PAGES = 10

#: The most runs whose page is remembered (a session polls far fewer at once).
_REMEMBERED_RUNS = 1024

#: Words of a 400/422 abort answer that mean the run is over or unknown (rule 9).
_ALREADY_OVER = re.compile(
    r"finished|complete|already|not running|no longer|ended|terminated|stopped|cancel+ed|"
    r"unknown|not found|does not exist|doesn't exist|no such|invalid execution",
    re.IGNORECASE,
)

#: One page: its records (None: the server answered 404) and its ``total_count`` if any.
Page = tuple[list[dict[str, Any]] | None, int | None]

#: Where a record was found: the query of the page that held it.
Query = dict[str, Any]


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


def _age_key(raw: dict[str, Any]) -> float | None:
    """What orders runs by age: a numeric run id (DAI's run ids count up), else the start."""
    value = raw.get("id", raw.get("run_id"))
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        return float(value.strip())
    started = parse_time(raw.get("starttime", raw.get("start_time", raw.get("started_at"))))
    return None if started is None else started.timestamp()


def list_order(records: list[dict[str, Any]]) -> str | None:
    """``"oldest first"`` or ``"newest first"`` where a page shows one, else None (too few
    records, no comparable ids or start times, or no order at all)."""
    keys = [_age_key(raw) for raw in records]
    known = [key for key in keys if key is not None]
    if len(known) < 2 or len(known) < len(keys) // 2:
        return None
    pairs = list(itertools.pairwise(known))
    if all(a <= b for a, b in pairs) and any(a < b for a, b in pairs):
        return "oldest first"
    if all(a >= b for a, b in pairs) and any(a > b for a, b in pairs):
        return "newest first"
    return None


def _next_offsets(order: str | None, page_size: int, total: int | None) -> Iterator[int]:
    """The offsets of the pages to read after the first one, most promising first.

    Without a ``total_count`` the list can only be walked forward. With one: oldest first, the
    newest runs are at the end, so pages are read back from there; newest first, forward; order
    unknown, the last page first, then forward."""
    if total is None or total <= page_size:
        if total is None:
            yield from range(page_size, page_size * MAX_RUN_PAGES, page_size)
        return
    last = max(total - page_size, page_size)
    if order == "oldest first":
        yield from range(last, 0, -page_size)
        return
    forward = range(page_size, total, page_size)
    if order is None:
        yield last
        forward = range(page_size, min(total, last), page_size)
    yield from forward


def find_record(
    fetch: Callable[[Query], Page], execution_id: str, *, hint: Query | None = None
) -> tuple[dict[str, Any] | None, Query | None]:
    """The raw record of ``execution_id`` and the query of the page that held it, or
    ``(None, None)`` when the server has none (yet).

    ``fetch(query)`` asks E2 once. ``hint`` is where the record was last found: that page is
    read first. Then the filtered first page, and while the server shows other runs (the
    filter ignored), the pages :func:`_next_offsets` names, each new; at most
    :data:`MAX_RUN_PAGES` in all.
    """
    if hint is not None:
        records, _ = fetch(hint)
        found = _match(records, execution_id)
        if found is not None:
            return found, hint
    query: Query = {"execution_id": execution_id}
    records, total = fetch(query)
    if not records:
        return None, None
    found = _match(records, execution_id)
    if found is not None:
        return found, query
    page_size = len(records)
    seen = {_key(raw) for raw in records}
    for read, offset in enumerate(_next_offsets(list_order(records), page_size, total), 2):
        if read > MAX_RUN_PAGES:
            break
        page_query = {**query, "limit": page_size, "offset": offset}
        records, _ = fetch(page_query)
        if not records:
            if total is None:
                break  # walked past the end
            continue
        found = _match(records, execution_id)
        if found is not None:
            return found, page_query
        keys = {_key(raw) for raw in records}
        if keys <= seen:
            break  # the same records again: the server ignores offset
        seen |= keys
        if total is None and len(records) < page_size:
            break  # a short page: the end of the list
    return None, None


def _match(records: list[dict[str, Any]] | None, execution_id: str) -> dict[str, Any] | None:
    for raw in records or ():
        if execution_id in record_ids(raw):
            return raw
    return None


class RunReads:
    """How this session reads run records from this server: whether ``GET /ai/runs/{id}``
    answers (unknown until tried; a 404/405 turns it off for the session) and the page each
    run was last found on. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: bool | None = None
        self._where: OrderedDict[str, Query] = OrderedDict()

    @property
    def by_id(self) -> bool:
        """Whether to read one run with ``GET /ai/runs/{id}`` (until it has failed once)."""
        with self._lock:
            return self._by_id is not False

    def by_id_answered(self, works: bool) -> bool:
        """Note what ``GET /ai/runs/{id}`` did; True the first time it is found missing."""
        with self._lock:
            first_miss = not works and self._by_id is not False
            self._by_id = works if self._by_id is not False else False
            return first_miss

    def where(self, execution_id: str) -> Query | None:
        """The query of the page that last held the run."""
        with self._lock:
            return self._where.get(execution_id)

    def found(self, execution_id: str, query: Query | None) -> None:
        """Remember (or, with None, forget) the page that held the run."""
        with self._lock:
            self._where.pop(execution_id, None)
            if query is not None:
                self._where[execution_id] = query
                while len(self._where) > _REMEMBERED_RUNS:
                    self._where.popitem(last=False)


def abort_already_over(exc: DAIHTTPError) -> bool:
    """Whether an abort's 400/422 says the execution is finished or unknown (rule 9)."""
    if exc.status not in (400, 422):
        return False
    said = exc.message.split(f": {exc.status} ", 1)[-1]  # the server's words, not the path
    return bool(_ALREADY_OVER.search(said))
