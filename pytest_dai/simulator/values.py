"""The one set of value validators of the DAI simulator, shared by scenario files
(:mod:`~pytest_dai.simulator.scenario`), faults and dialects (:mod:`~pytest_dai.simulator.faults`).

A validator takes a raw JSON value and returns it normalised, or raises :class:`Expected`
(a ``ValueError``) whose message is ``expected ..., got ...``; the caller adds the field path.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "Expected",
    "FieldError",
    "boolean",
    "describe",
    "http_status",
    "integer",
    "nullable",
    "number",
    "one_of",
    "path_list",
    "status_list",
    "text",
    "word",
]

T = TypeVar("T")


def describe(value: Any) -> str:
    """Show a JSON-ish value the way it appeared in the file, cut to 60 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Expected(ValueError):
    """A value that is not what was wanted: ``expected WANTED, got VALUE``."""

    def __init__(self, wanted: str, value: Any) -> None:
        self.wanted = wanted
        self.value = value
        super().__init__(f"expected {wanted}, got {describe(value)}")


class FieldError(ValueError):
    """A bad value for one field: ``field`` names it, ``problem`` says what was expected."""

    def __init__(self, field_name: str, problem: str) -> None:
        self.field = field_name
        self.problem = problem
        super().__init__(f"{field_name}: {problem}")


def nullable(check: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """``check``, or ``null`` (``None``)."""

    def checked(value: Any) -> T | None:
        if value is None:
            return None
        try:
            return check(value)
        except Expected as exc:
            raise Expected(f"null or {exc.wanted}", value) from None

    return checked


def number(
    minimum: float | None = None, maximum: float | None = None, *, strict: bool = False
) -> Callable[[Any], float]:
    """A finite number within ``[minimum, maximum]`` (``strict``: greater than ``minimum``)."""
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    wanted = "a number" + (" " + " and ".join(parts) if parts else "")

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Expected(wanted, value)
        result = float(value)
        too_low = minimum is not None and (result < minimum or (strict and result == minimum))
        if not math.isfinite(result) or too_low or (maximum is not None and result > maximum):
            raise Expected(wanted, value)
        return result

    return check


def integer(minimum: int | None = None, *, whole_floats: bool = True) -> Callable[[Any], int]:
    """An integer ``>= minimum`` (booleans are not integers here; ``whole_floats``: ``3.0``
    counts as 3)."""
    wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")

    def check(value: Any) -> int:
        whole = whole_floats and isinstance(value, float) and value.is_integer()
        if (isinstance(value, bool) or not isinstance(value, int)) and not whole:
            raise Expected(wanted, value)
        if minimum is not None and value < minimum:
            raise Expected(wanted, value)
        return int(value)

    return check


def boolean(value: Any) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise Expected("true or false", value)
    return value


def text(value: Any) -> str:
    """A non-empty (not blank) string."""
    if not isinstance(value, str) or not value.strip():
        raise Expected("a non-empty string", value)
    return value


def one_of(*choices: Any) -> Callable[[Any], Any]:
    """Exactly one of the given constants (JSON types must match too)."""
    wanted = "one of " + ", ".join(describe(choice) for choice in choices)

    def check(value: Any) -> Any:
        for choice in choices:
            if value == choice and type(value) is type(choice):
                return value
        raise Expected(wanted, value)

    return check


def word(*choices: str) -> Callable[[Any], str]:
    """One of the given lower-case words, in any case and with spaces around; lower-cased."""
    wanted = "one of " + ", ".join(choices)

    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise Expected(wanted, value)

    return check


def http_status(value: Any) -> int:
    """An HTTP error status code (400 to 599)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise Expected("an HTTP status from 400 to 599", value)
    return value


def status_list(value: Any) -> list[int]:
    """A non-empty list of HTTP error statuses."""
    if not isinstance(value, (list, tuple)) or not value:
        raise Expected("a non-empty list of HTTP statuses", value)
    return [http_status(item) for item in value]


def path_list(value: Any) -> list[str]:
    """A list of path prefixes, each starting with ``/``."""
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(item, str) and item.startswith("/") for item in value
    ):
        raise Expected("a list of path prefixes starting with '/'", value)
    return list(value)


def validate_fields(
    fields: Mapping[str, Any], validators: Mapping[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    """Check ``fields`` by name with ``validators``; return them normalised or raise
    :class:`FieldError` (an unknown name, or a value its validator refuses)."""
    result: dict[str, Any] = {}
    for name, value in fields.items():
        check = validators.get(name)
        if check is None:
            raise FieldError(name, f"unknown field (expected one of: {', '.join(validators)})")
        try:
            result[name] = check(value)
        except FieldError:
            raise
        except ValueError as exc:
            raise FieldError(name, str(exc)) from None
    return result
