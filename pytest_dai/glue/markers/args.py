"""Marker arguments bound to a signature function, the way pytest-django checks its markers.

Each marker has a signature function (``dai_model(model, *, agent=None, ...)`` in
:mod:`pytest_dai.glue.markers.model`, ``dai_test_config(config, *, model=None, ...)`` in
:mod:`pytest_dai.glue.markers.test_config`): Python binds the marker's arguments to it, so a
missing, doubled or unknown argument is found by Python itself; :func:`bind_marker` words that
as one line naming the test. :func:`~pytest_dai.glue.markers.check.check_marked_items` parses
every selected marked test at collection, so that a bad marker is a collection error naming the
test id, also with ``--co``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, NoReturn

from pytest_dai.client.errors import DAIConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

__all__ = [
    "MarkFail",
    "bind_marker",
    "describe",
    "signature_text",
]

_SHOWN_LIMIT = 120


class MarkFail:
    """Raises one :class:`DAIConfigError` line: ``@pytest.mark.{name} on {nodeid}: {text}``."""

    def __init__(self, marker: str, nodeid: str) -> None:
        self.prefix = f"@pytest.mark.{marker} on {nodeid}: "

    def __call__(self, text: str) -> NoReturn:
        raise DAIConfigError(self.prefix + text)


def parse_prestart(fail: MarkFail, value: object) -> bool:
    """A marker's ``prestart=``: None (default: as the session says) or a bool; ``False``
    keeps the test's run to its turn under ``--dai-prestart``."""
    if value is None:
        return True
    if not isinstance(value, bool):
        fail(f"prestart: expected True or False, got {describe(value)}")
    return value


def describe(value: object) -> str:
    """``repr(value)`` (cut to a readable length) and its type: ``12 (int)``."""
    text = repr(value)
    if len(text) > _SHOWN_LIMIT:
        text = text[: _SHOWN_LIMIT - 3] + "..."
    return f"{text} ({type(value).__name__})"


def signature_text(signature: Callable[..., Any]) -> str:
    """``dai_model(model, *, agent=None, ...)``: the marker as users write it (no types)."""
    sig = inspect.signature(signature)
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    shown = sig.replace(parameters=bare, return_annotation=inspect.Signature.empty)
    return f"{signature.__name__}{shown}"


def bind_marker(signature: Callable[..., Any], mark: pytest.Mark, fail: MarkFail) -> dict[str, Any]:
    """The marker's arguments bound to ``signature``, by name (defaults not filled in)."""
    sig = inspect.signature(signature)
    try:
        return dict(sig.bind(*mark.args, **mark.kwargs).arguments)
    except TypeError:
        fail(_explain(sig, mark))


def _explain(sig: inspect.Signature, mark: pytest.Mark) -> str:
    """What Python refused, in the marker's words."""
    first, *keywords = sig.parameters
    unknown = [key for key in mark.kwargs if key not in sig.parameters]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], keywords, n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        return f"unknown keyword {unknown[0]!r}{hint} (known: {', '.join(keywords)})"
    if len(mark.args) > 1:
        return (
            f"too many positional arguments ({len(mark.args)}): only the {first} is positional, "
            f"give the others as keywords ({keywords[0]}=..., timeout=...)"
        )
    if mark.args and first in mark.kwargs:
        return f"{first} given twice (positionally and as {first}=)"
    return f"{first} is required (the first positional argument)"
