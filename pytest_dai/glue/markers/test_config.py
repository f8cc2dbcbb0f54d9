"""The ``dai_test_config`` marker: its signature, its validation, and the parameters file.

``@pytest.mark.dai_test_config(config, *, model=None, suite=None, space=None, parameters=None,
filter_by=None, timeout=None)``: arguments are bound to :func:`dai_test_config`
(so Python checks counts and keywords; :mod:`pytest_dai.glue.markers.args` words its refusal
in one line naming the test), then checked value by value, at collection and again at setup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import pytest

from pytest_dai.client import defaults
from pytest_dai.glue.markers.args import MarkFail, bind_marker, parse_prestart, signature_text
from pytest_dai.glue.markers.step_filters import parse_filters
from pytest_dai.glue.settings.parameters_file import SCALARS

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.glue.settings.values import Settings

__all__ = [
    "MARKER",
    "SIGNATURE",
    "TestConfigSpec",
    "dai_test_config",
    "parse_test_config_marker",
]

MARKER = "dai_test_config"


#: The ``dai_test_config`` marker of the test, parsed and resolved against the settings.
CONFIG_SPEC_KEY: pytest.StashKey[TestConfigSpec] = pytest.StashKey()


def dai_test_config(
    config: str | int,
    *,
    model: str | None = None,
    suite: str | None = None,
    space: str | None = None,
    parameters: dict[str, object] | None = None,
    filter_by: dict[str, object] | str | None = None,
    timeout: float | None = None,
    prestart: bool | None = None,
) -> None:
    """The marker's signature (never called: the marker's arguments are bound to it)."""


SIGNATURE = signature_text(dai_test_config)


@dataclass(frozen=True)
class TestConfigSpec:
    """The validated arguments of one ``dai_test_config`` marker, timeout resolved."""

    __test__ = False

    config: str
    model: str | None = None
    suite: str | None = None
    #: The space to find a named config in: the marker's ``space=``, else ``dai_space``;
    #: None: any space.
    space: str | None = None
    parameters: dict[str, object] = field(default_factory=dict)
    filter_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timeout: float = defaults.RUN_DEADLINE
    timeout_source: str = "default"
    #: Whether ``--dai-prestart`` may start the run ahead of the test's turn.
    prestart: bool = True


def _describe(value: object) -> str:
    text = repr(value)
    return (text if len(text) <= 80 else text[:77] + "...") + f" ({type(value).__name__})"


def parse_test_config_marker(mark: pytest.Mark, settings: Settings, nodeid: str) -> TestConfigSpec:
    """Validate the marker into a :class:`TestConfigSpec`; a bad argument is one
    :class:`DAIConfigError` line naming the test and the argument."""
    fail = MarkFail(MARKER, nodeid)
    args = bind_marker(dai_test_config, mark, fail)
    config = args["config"]
    if isinstance(config, bool) or not isinstance(config, (str, int)) or not str(config).strip():
        fail(f"config: expected a test configuration id or name, got {_describe(config)}")
    texts: dict[str, str | None] = {}
    for name in ("model", "suite", "space"):
        value = args.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            fail(f"{name}: expected a non-empty {name} name, got {_describe(value)}")
        texts[name] = value.strip() if isinstance(value, str) else None
    if texts["model"] and texts["suite"]:
        fail("give model= or suite=, not both (a config is model-based or script-based)")
    parameters = _parameters(args.get("parameters"), fail)
    filter_by = parse_filters(args.get("filter_by"), fail)
    raw_timeout = args.get("timeout")
    if raw_timeout is None:
        timeout, source = settings.timeout, settings.source("timeout")
    else:
        number = (
            float(raw_timeout)
            if isinstance(raw_timeout, (int, float)) and not isinstance(raw_timeout, bool)
            else math.nan
        )
        if not math.isfinite(number) or number < 0:
            fail(f"timeout: expected a number of seconds >= 0, got {_describe(raw_timeout)}")
        timeout, source = number, "marker"
    return TestConfigSpec(
        config=str(config).strip(),
        model=texts["model"],
        suite=texts["suite"],
        space=texts["space"] or settings.space,
        parameters=parameters,
        filter_by=filter_by,
        timeout=timeout,
        timeout_source=source,
        prestart=parse_prestart(fail, args.get("prestart")),
    )


def _parameters(value: object, fail: Callable[[str], NoReturn]) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, SCALARS) for k, v in value.items()
    ):
        fail(
            "parameters: expected a dict of parameter name to a string, number or boolean, got "
            + _describe(value)
        )
    return dict(value)
