"""Calling the ``pytest_dai_*`` hooks a ``conftest.py`` or plugin implements: an exception a
hook raises or returns is the user's, so its report shows the user's frame (or, for one
returned, just the exception), not the plugin frames it passed through.

The plugin frames on that way say ``__tracebackhide__ = from_user_hook``: pytest asks it for
each failure and hides them only for an exception of a user's hook (a fault of the plugin
itself keeps its whole traceback)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

__all__ = ["call_hook", "from_user_hook"]

#: The attribute that marks an exception as a user's hook's.
MARK = "_pytest_dai_user_hook"


def _mark(exc: BaseException) -> None:
    with contextlib.suppress(AttributeError, TypeError):  # an exception type with __slots__
        setattr(exc, MARK, True)


def from_user_hook(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    """Whether the failure is an exception a user's hook raised or returned."""
    return getattr(excinfo.value, MARK, False) is True


def call_hook(hook: Any, **kwargs: Any) -> Any:
    """Call ``hook`` (``config.hook.pytest_dai_...``); an exception it raises or returns is
    marked as the user's."""
    __tracebackhide__ = from_user_hook
    try:
        result = hook(**kwargs)
    except Exception as exc:
        _mark(exc)
        raise
    if isinstance(result, BaseException):
        _mark(result)
    return result
