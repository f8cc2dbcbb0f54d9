"""The ``filter_by`` argument of ``dai_test_config``: step filters in any of the three forms
users bring (contract 2.6 and 2.7), made into one.

- ours, a flat dict: ``{"step_status_include": ["Failed", "Error"], "test_case_name_exclude":
  "login_user"}`` (a string value: commas separate several);
- eggplant-runner's ``filterByJson``, nested (as a dict, or its JSON text): ``{"step_status":
  {"include": "Passed,Failed", "exclude": "Error"}, "test_case_tag": {...}, "test_case_name":
  {...}, "scenario_tag": "smoke"}``;
- eggplant-runner's ``filterBy`` text: ``"step_status_include=Failed,Error;;
  test_case_name_exclude=login_user"``.

Each becomes the same ``{filter name: (values...)}`` (``step_status_include``...), so the three
make the same start body. A bad one is one line naming the marker, the test and the filter.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pytest_dai.glue.markers.args import describe

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

__all__ = ["parse_filters"]

#: The sub-keys of a nested filter (eggplant-runner's ``filterByJson``).
_SIDES = ("include", "exclude")
#: Separates the filters of eggplant-runner's text form.
_TEXT_SEPARATOR = ";;"


def parse_filters(value: object, fail: Callable[[str], NoReturn]) -> dict[str, tuple[str, ...]]:
    """``filter_by`` in any form as ``{filter name: values}``; ``fail(text)`` on a bad one."""
    if value is None:
        return {}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                fail(f"filter_by: not valid JSON ({exc.msg} at character {exc.pos})")
        else:
            return _from_text(text, fail)
    if not isinstance(value, dict):
        fail(
            "filter_by: expected a dict such as {'step_status_include': ['Failed']} or "
            "{'step_status': {'include': 'Failed'}}, or a text such as "
            f"'step_status_include=Failed;;test_case_name_exclude=login', got {describe(value)}"
        )
    result: dict[str, tuple[str, ...]] = {}
    for key, raw in value.items():
        _check_name(key, fail)
        if isinstance(raw, dict):
            for side, values in _nested(key, raw, fail):
                _add(result, f"{key}_{side}", values)
        else:
            _add(result, key, _values(key, raw, fail, empty_ok=False))
    return result


def _from_text(text: str, fail: Callable[[str], NoReturn]) -> dict[str, tuple[str, ...]]:
    """``a=b,c;;d=e`` (eggplant-runner's ``filterBy``)."""
    result: dict[str, tuple[str, ...]] = {}
    for part in text.split(_TEXT_SEPARATOR):
        if not part.strip():
            continue
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep:
            fail(f"filter_by: expected name=values between ';;', got {part.strip()!r}")
        _check_name(key, fail)
        _add(result, key, _values(key, raw, fail, empty_ok=True))
    return result


def _nested(
    key: str, raw: dict[object, object], fail: Callable[[str], NoReturn]
) -> list[tuple[str, tuple[str, ...]]]:
    """``{"include": "a,b", "exclude": [...]}`` of one nested filter."""
    unknown = [side for side in raw if side not in _SIDES]
    if unknown:
        fail(f"filter_by[{key!r}]: expected the keys include and exclude, got {unknown[0]!r}")
    return [
        (str(side), _values(f"{key}.{side}", values, fail, empty_ok=True))
        for side, values in raw.items()
    ]


def _check_name(key: object, fail: Callable[[str], NoReturn]) -> None:
    if not isinstance(key, str) or not key.replace("_", "").isalnum():
        fail(f"filter_by: expected filter names such as 'step_status_include', got {key!r}")


def _values(
    key: str, raw: object, fail: Callable[[str], NoReturn], *, empty_ok: bool
) -> tuple[str, ...]:
    """A string (commas separate several) or a list of strings; empty entries are dropped
    where the form allows an empty value (eggplant-runner's ``"exclude": ""``)."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        fail(f"filter_by[{key!r}]: expected a string or a list of strings, got {describe(raw)}")
    values = tuple(item.strip() for item in items if item.strip())
    if not empty_ok and len(values) != len(items):
        fail(f"filter_by[{key!r}]: expected a string or a list of strings, got {describe(raw)}")
    return values


def _add(result: dict[str, tuple[str, ...]], key: str, values: tuple[str, ...]) -> None:
    """Add ``values`` under ``key`` (a filter given twice keeps both, each value once)."""
    if not values:
        return
    known = result.get(key, ())
    result[key] = known + tuple(v for v in values if v not in known)
