"""Marker arguments that follow DAI's start body (contract 2.1): ``script``, ``asset``, an
integer ``step_pause_time`` and a ``test_case`` id. Checked here, one line per problem, for
:func:`pytest_dai.glue.markers.model.parse_marker`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.start_body import Asset

__all__ = [
    "TEST_CASE_IDS_ONLY",
    "parse_asset",
    "parse_script",
    "parse_step_pause_time",
    "parse_test_case",
]

#: Why ``test_case`` takes no name: DAI's API has no call that lists a model's test cases.
TEST_CASE_IDS_ONLY = (
    "DAI's API cannot look a test case up by name, so only ids are accepted; a test case's id "
    "is shown in DAI next to its name (the model's test cases, in the Designer)"
)

_ASSET_KEYS = ("asset_version_id", "asset_path")


def parse_script(fail: Callable[[str], NoReturn], value: Any) -> str | None:
    """``script="TestCases/Login"``: a script to run (with or without a model)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        fail(f"script: expected a non-empty script path string, got {value!r}")
    return value.strip()


def parse_asset(fail: Callable[[str], NoReturn], value: Any) -> Asset | None:
    """``asset="Suites/Shop.suite"`` (a path) or ``asset={"asset_version_id": ...,
    "asset_path": ...}``: the snippets the run uses."""
    from pytest_dai.client.start_body import Asset

    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return Asset(asset_path=value.strip())
    if isinstance(value, dict) and value:
        unknown = [key for key in value if key not in _ASSET_KEYS]
        if unknown:
            fail(f"asset: unknown key {unknown[0]!r} (known: {', '.join(_ASSET_KEYS)})")
        for key, part in value.items():
            if not isinstance(part, str) or not part.strip():
                fail(f"asset: {key} must be a non-empty string, got {part!r}")
        return Asset(
            asset_version_id=value.get("asset_version_id"), asset_path=value.get("asset_path")
        )
    fail(
        "asset: expected an asset path string or a dict with asset_version_id and/or "
        f"asset_path, got {value!r}"
    )


def parse_step_pause_time(fail: Callable[[str], NoReturn], value: Any) -> int | None:
    """``step_pause_time``: whole seconds >= 0 (DAI takes an integer; 1.5 is refused)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"step_pause_time: expected a whole number of seconds >= 0, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        fail(
            f"step_pause_time: expected a whole number of seconds >= 0 (DAI takes an "
            f"integer), got {value!r}"
        )
    if value < 0:
        fail(f"step_pause_time: expected a whole number of seconds >= 0, got {value!r}")
    return int(value)


def parse_test_case(fail: Callable[[str], NoReturn], value: Any) -> int:
    """``test_case=12`` (or ``"12"``): the id of a directed test case of the model."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip():
        fail(
            f"test_case: expected a test case id (an integer), got {value.strip()!r}: "
            + TEST_CASE_IDS_ONLY
        )
    fail(f"test_case: expected a test case id (an integer >= 0), got {value!r}")
