"""Finding what a test names, by id or by name: models, agents and test configurations.

An id is taken as it is; a name matches exactly, then ignoring case. Unknown: a
:class:`DAINotFoundError` that says where the list came from and suggests close matches (or
lists a few known names).
"""

from __future__ import annotations

import difflib
import threading
from typing import TYPE_CHECKING, Generic, TypeVar

from pytest_dai.client.calls import LIST_TEST_CONFIGS
from pytest_dai.client.errors import DAIConfigError, DAINotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pytest_dai.client.records import Agent, Model
    from pytest_dai.client.test_configs import TestConfig

__all__ = ["Listing", "pick", "resolve_test_config"]

T = TypeVar("T")
Found = TypeVar("Found")


class Listing(Generic[T]):
    """A list the server gives (models, agents, test configurations): fetched with ``fetch``
    when first needed, then kept; thread-safe."""

    def __init__(self, fetch: Callable[[], list[T]]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._items: list[T] | None = None

    def get(self, *, refresh: bool = False) -> list[T]:
        """The list (a copy); fetched now when it has not been yet or ``refresh``."""
        with self._lock:
            cached = self._items
        if cached is None or refresh:
            cached = self._fetch()
            with self._lock:
                self._items = cached
        return list(cached)

    def find(self, look_up: Callable[[list[T]], Found]) -> Found:
        """What ``look_up`` finds in the kept list; when it finds nothing
        (:class:`DAINotFoundError`), in a fresh one (the server may have it by now)."""
        try:
            return look_up(self.get())
        except DAINotFoundError:
            return look_up(self.get(refresh=True))


def _hint(ref: str, names: Sequence[str], plural: str) -> str:
    """``close matches: 'Short'``, else ``known models: 'A', 'B'`` (at most 10), or ``none``."""
    close = difflib.get_close_matches(ref, list(names), n=3, cutoff=0.5)
    if close:
        return "close matches: " + ", ".join(repr(name) for name in close)
    return f"known {plural}: " + (", ".join(repr(name) for name in names[:10]) or "none")


def pick(ref: str, records: Sequence[Model | Agent], kind: str, listed_by: str) -> int:
    """Index of the model or agent (``kind``) whose id or name is ``ref``; ``listed_by`` is the
    call the records came from (``GET https://dai.example/ai/models``)."""
    for i, record in enumerate(records):
        if ref in (record.id, getattr(record, "uuid", None)):
            return i
    for i, record in enumerate(records):
        if record.name == ref:
            return i
    folded = [i for i, r in enumerate(records) if r.name.casefold() == ref.casefold()]
    if len(folded) == 1:
        return folded[0]
    hint = _hint(ref, [r.name for r in records], f"{kind}s")
    raise DAINotFoundError(
        f"unknown {kind} {ref!r}: not among the {kind}s listed by {listed_by}; {hint}",
        endpoint=listed_by,
    )


def resolve_test_config(
    configs: list[TestConfig],
    ref: str,
    *,
    model: str | None = None,
    suite: str | None = None,
    space: str | None = None,
    listed_by: str = LIST_TEST_CONFIGS.request(),
) -> TestConfig:
    """The config whose id or name is ``ref``; a name several configs share is told apart by
    ``space`` (eggplant-runner's space name; None, or a list that names no spaces: any
    space), ``model`` (model-based configs)
    or ``suite`` (script-based ones). Unknown: DAINotFoundError with close matches
    (``listed_by`` says where the list came from); a name in several spaces and no space
    given: DAIConfigError listing the spaces; still ambiguous: listing the models and suites."""
    by_id = [c for c in configs if c.id == ref]
    if by_id:
        return by_id[0]
    named = [c for c in configs if c.name == ref] or [
        c for c in configs if c.name.casefold() == ref.casefold()
    ]
    if model is not None:
        named = [c for c in named if (c.model or "").casefold() == model.casefold()]
    if suite is not None:
        named = [c for c in named if (c.suite or "").casefold() == suite.casefold()]
    if space is not None and any(c.space for c in configs):
        # A server whose list names no space at all cannot be asked by space: any will do.
        named = [c for c in named if (c.space or "").casefold() == space.casefold()]
    if len(named) == 1:
        return named[0]
    if not named:
        hint = _hint(ref, sorted({c.name for c in configs}), "test configurations")
        told = "".join(
            f" with {word} {value!r}"
            for word, value in (("model", model), ("suite", suite))
            if value
        ) + (f" in space {space!r}" if space else "")
        raise DAINotFoundError(
            f"unknown test configuration {ref!r}{told}: not among those listed by {listed_by}; "
            f"{hint}",
            endpoint=listed_by,
        )
    spaces = sorted({c.space or "no space named" for c in named})
    if space is None and len(spaces) > 1:
        raise DAIConfigError(
            f"test configuration name {ref!r} is in {len(spaces)} spaces "
            f"({', '.join(repr(s) for s in spaces)}): say which with space=... on the marker "
            "or the dai_space setting, or give the id"
        )
    kinds = ", ".join(
        f"{c.id} (model {c.model!r})" if c.model else f"{c.id} (suite {c.suite!r})" for c in named
    )
    raise DAIConfigError(
        f"test configuration name {ref!r} is shared by {len(named)} configurations ({kinds}): "
        "tell them apart with model=... or suite=..., or give the id"
    )
