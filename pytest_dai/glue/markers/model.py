"""The ``dai_model`` marker: its signature, its validation into a :class:`ModelSpec`.

``@pytest.mark.dai_model(model, *, agent=None, test_case=None, sut=None, sut_criteria=None,
rerun=None, step_pause_time=None, timeout=None, min_steps=None, script=None, asset=None,
prestart=None)``:
the arguments are bound to :func:`dai_model` (so Python checks counts and keywords), then each
value is checked; a bad one is one :class:`DAIConfigError` line naming the test and the
argument. The marker level beats every other level of a setting (``timeout=``, ``agent=``).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from pytest_dai.client import defaults
from pytest_dai.glue.base.keys import MODEL_MARKER
from pytest_dai.glue.markers.args import MarkFail, bind_marker, describe, parse_prestart
from pytest_dai.glue.markers.extras import (
    parse_asset,
    parse_script,
    parse_step_pause_time,
    parse_test_case,
)
from pytest_dai.glue.settings.values import SETTINGS_KEY

if TYPE_CHECKING:
    from pytest_dai.client.start_body import Asset
    from pytest_dai.glue.settings.values import Settings

__all__ = ["MARKER_KEYWORDS", "ModelSpec", "dai_model", "parse_marker"]


#: The ``dai_model`` marker of the test, parsed and resolved against the settings.
SPEC_KEY: pytest.StashKey[ModelSpec] = pytest.StashKey()


def dai_model(
    model: str,
    *,
    agent: str | None = None,
    test_case: int | None = None,
    sut: str | None = None,
    sut_criteria: str | list[str] | None = None,
    rerun: int | str | None = None,
    step_pause_time: int | None = None,
    timeout: float | None = None,
    min_steps: int | None = None,
    script: str | None = None,
    asset: str | dict[str, str] | None = None,
    prestart: bool | None = None,
) -> None:
    """The marker's signature (never called: the marker's arguments are bound to it)."""


#: The marker's keyword arguments, in the signature's order.
MARKER_KEYWORDS = tuple(inspect.signature(dai_model).parameters)[1:]


@dataclass(frozen=True)
class ModelSpec:
    """The validated arguments of one ``@pytest.mark.dai_model(...)``, timeout resolved.

    ``timeout`` is the marker's ``timeout=`` or else the session's ``Settings.timeout``
    (0 = no deadline); ``timeout_source`` says which (``"marker"`` or the setting's source).
    """

    model: str
    agent: str | None = None
    test_case: int | str | None = None
    sut: str | None = None
    sut_criteria: tuple[str, ...] = ()
    rerun: int | str | None = None
    step_pause_time: int | None = None
    timeout: float = defaults.RUN_DEADLINE
    timeout_source: str = "default"
    min_steps: int | None = None
    script: str | None = None
    asset: Asset | None = None
    #: Whether ``--dai-prestart`` may start the run ahead of the test's turn.
    prestart: bool = True


def _text(fail: MarkFail, name: str, value: object, what: str) -> str:
    if not isinstance(value, str):
        fail(f"{name} must be {what} string, got {describe(value)}")
    if not value.strip():
        fail(f"{name} must be {what} string, got an empty string")
    return value.strip()


def _id(fail: MarkFail, name: str, value: object, what: str) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            fail(f"{name}: expected {what} id >= 0 or a name, got {value!r}")
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    fail(f"{name}: expected {what} id (int) or a non-empty name, got {describe(value)}")


def _seconds(fail: MarkFail, name: str, value: object) -> float:
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 0:
        fail(f"{name}: expected a number of seconds >= 0, got {value!r}")
    return number


def _criteria(fail: MarkFail, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(
        isinstance(item, str) and item.strip() for item in items
    ):
        fail(f"sut_criteria: expected a list of non-empty strings, got {describe(value)}")
    return tuple(item.strip() for item in items)


def _min_steps(fail: MarkFail, value: object) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        fail(f"min_steps: expected a whole number >= 0, got {describe(value)}")
    return value


def parse_marker(mark: pytest.Mark, settings: Settings, nodeid: str) -> ModelSpec:
    """Validate ``@pytest.mark.dai_model(model, *, agent=None, ...)`` into a :class:`ModelSpec`.

    A marker without ``agent=`` takes ``dai_agent`` (None: the run uses no agent), one without
    ``timeout=`` the session's run deadline. Raises :class:`DAIConfigError` with one line
    naming the test and the argument.
    """

    fail = MarkFail("dai_model", nodeid)
    args = bind_marker(dai_model, mark, fail)
    get = args.get
    model = _text(fail, "model", args["model"], "a model id or name")
    agent = get("agent")
    if agent is not None:
        agent = _text(fail, "agent", agent, "an agent id or name")
    sut = get("sut")
    test_case, rerun = get("test_case"), get("rerun")
    if get("timeout") is None:
        timeout, timeout_source = settings.timeout, settings.source("timeout")
    else:
        timeout, timeout_source = _seconds(fail, "timeout", get("timeout")), "marker"
    return ModelSpec(
        model=model,
        agent=settings.agent if agent is None else agent,  # None: dai_agent, maybe none
        test_case=None if test_case is None else parse_test_case(fail, test_case),
        sut=None if sut is None else _text(fail, "sut", sut, "a SUT id"),
        sut_criteria=_criteria(fail, get("sut_criteria")),
        rerun=None if rerun is None else _id(fail, "rerun", rerun, "a test case run"),
        step_pause_time=parse_step_pause_time(fail, get("step_pause_time")),
        timeout=timeout,
        timeout_source=timeout_source,
        min_steps=_min_steps(fail, get("min_steps")),
        script=parse_script(fail, get("script")),
        asset=parse_asset(fail, get("asset")),
        prestart=parse_prestart(fail, get("prestart")),
    )


def marker_agent(item: pytest.Item) -> str | None:
    """The agent a marked test's run uses: the marker's ``agent=``, else ``dai_agent``."""
    marker = item.get_closest_marker(MODEL_MARKER)
    agent = marker.kwargs.get("agent") if marker is not None else None
    if agent not in (None, ""):
        return str(agent)
    settings = item.config.stash.get(SETTINGS_KEY, None)
    return settings.agent if settings is not None else None
