"""``pytest --dai-list models|agents|configs``: print the names and ids a marker can use, run
nothing.

One listing request (E5 models, E4 agents or E14 test configurations, after the token), then a
table: name and id, and what tells entries apart (an agent's status, a configuration's model or
suite and space). Works with ``--dai-simulator`` (the bundled simulator's names). A server that
cannot be asked is one line (``dai: could not list ...``) and exit status 1; nothing is
collected or run, with or without pytest-xdist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.hooks.lines_only import FAILED, LinesOnlyHooks
from pytest_dai.glue.report.escapers import terminal_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_dai.glue.process.state import DAIState

__all__ = ["ListHooks", "listing_lines"]

#: The columns of each listing.
HEADERS = {
    "models": ("name", "id"),
    "agents": ("name", "id", "status"),
    "configs": ("name", "id", "model or suite", "space"),
}


def _rows(state: DAIState, kind: str) -> list[tuple[str, ...]]:
    """The listing's rows (one request), in the server's order."""
    session = state.session()
    if kind == "models":
        return [(model.name, model.id) for model in session.models()]
    if kind == "agents":
        return [
            (agent.name, agent.id, "online" if agent.online else (agent.status or "offline"))
            for agent in session.agents()
        ]
    return [
        (config.name, config.id, config.model or config.suite or "-", config.space or "-")
        for config in session.test_configs()
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned columns, every cell one safe line."""
    cells = [[terminal_line(str(cell)) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def listing_lines(state: DAIState, kind: str) -> tuple[list[str], bool]:
    """The lines ``--dai-list kind`` prints, and whether the listing failed."""
    where = state.settings.url or "the server"
    try:
        rows = _rows(state, kind)
    except DAIError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [f"{FAILED} list the {kind} of {where}: {terminal_line(first)}"], True
    title = f"dai: {len(rows)} {kind} on {where}"
    if not rows:
        return [title], False
    return [f"{title} (a marker takes the name or the id):", *_table(HEADERS[kind], rows)], False


class ListHooks(LinesOnlyHooks):
    """Registered at the session's start with ``--dai-list``: collect nothing, run nothing,
    print the listing, exit 0 (1 when the server could not be asked)."""

    def __init__(self, state: DAIState, kind: str) -> None:
        self.state = state
        self.kind = kind

    def lines(self) -> list[str]:
        """The listing, asked for now (one request)."""
        lines, self.failed = listing_lines(self.state, self.kind)
        return lines
