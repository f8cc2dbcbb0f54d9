"""Test-configuration records as the server sends them, parsed tolerantly (contract sections
2.6 and 3): a test configuration (E14), one run's result (E8) and its test case runs (E9).

Unknown fields are ignored; a missing field we need is a :class:`DAIProtocolError` naming the
call and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.client.calls import CONFIG_RESULTS, LIST_TEST_CONFIGS, TEST_RESULTS
from pytest_dai.client.errors import DAIProtocolError
from pytest_dai.client.records import execution_id_of, parse_time
from pytest_dai.client.server_text import server_text
from pytest_dai.client.status import Status, normalise_status

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["TestConfig", "TestConfigResultRecord", "TestResultRecord", "need_id"]


def _text(value: Any) -> str | None:
    """A name from the server made safe where it is parsed (:func:`server_text`, the boundary
    a model run's names pass too)."""
    return server_text(value) or None


def need_id(raw: dict[str, Any], keys: tuple[str, ...], endpoint: str, what: str) -> str:
    """The id under the first of ``keys`` that ``raw`` has; none: a DAIProtocolError."""
    found = execution_id_of(raw, keys)
    if found is None:
        raise DAIProtocolError(
            f"{endpoint}: {what} has no {keys[0]} field (fields: "
            f"{', '.join(sorted(map(str, raw))[:12]) or 'none'})",
            endpoint=endpoint,
        )
    return found


def _need_status(raw: dict[str, Any], endpoint: str, what: str, ended: bool) -> Status:
    word = raw.get("status")
    if not isinstance(word, (str, int)) or isinstance(word, bool):
        raise DAIProtocolError(
            f"{endpoint}: {what} has no status field (fields: "
            f"{', '.join(sorted(map(str, raw))[:12]) or 'none'})",
            endpoint=endpoint,
        )
    return normalise_status(_text(word) or "" if isinstance(word, str) else word, ended=ended)


@dataclass(frozen=True)
class TestConfig:
    """A test configuration from E14: id, name, and the model or suite it belongs to."""

    __test__ = False  # not a pytest test class

    id: str
    name: str
    model: str | None = None
    suite: str | None = None
    space: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str = LIST_TEST_CONFIGS.at()) -> TestConfig:
        """Build from a raw record; needs ``id``; ``name`` falls back to the id. The model,
        suite and space (eggplant-runner's ``spaceName``) may each be a name or an object
        with a ``name``."""
        config_id = need_id(raw, ("id", "test_config_id"), endpoint, "test configuration")
        return cls(
            id=config_id,
            name=_text(raw.get("name")) or config_id,
            model=_named(raw, ("model_name", "modelname", "modelName", "model")),
            suite=_named(raw, ("suite_name", "suitename", "suiteName", "suite")),
            space=_named(raw, ("space_name", "spacename", "spaceName", "space")),
        )


def _named(raw: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` that ``raw`` has, as a name (an object's ``name``)."""
    for key in keys:
        value = raw.get(key)
        if isinstance(value, dict):
            value = value.get("name")
        found = _text(value)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class TestConfigResultRecord:
    """A test-config result from E8: one run of a test configuration."""

    __test__ = False

    id: str
    test_config_id: str | None
    status: Status
    task_instance_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(
        cls, raw: dict[str, Any], endpoint: str = CONFIG_RESULTS.at()
    ) -> TestConfigResultRecord:
        """Build from a raw record; ``id`` and ``status`` must be there."""
        result_id = need_id(raw, ("id", "test_config_result_id"), endpoint, "result")
        ended_at = parse_time(raw.get("end_time", raw.get("endtime", raw.get("ended_at"))))
        return cls(
            id=result_id,
            test_config_id=execution_id_of(raw, ("test_config_id",)),
            status=_need_status(raw, endpoint, "result", ended_at is not None),
            task_instance_id=execution_id_of(raw, ("task_instance_id",)),
            started_at=parse_time(
                raw.get("start_time", raw.get("starttime", raw.get("started_at")))
            ),
            ended_at=ended_at,
            raw=raw,
        )


@dataclass(frozen=True)
class TestResultRecord:
    """A test result from E9: one test case run of a test-config result."""

    __test__ = False

    id: str
    status: Status
    name: str
    model: str | None
    execution_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end by the server's clock, where it gives both."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max((self.ended_at - self.started_at).total_seconds(), 0.0)

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str = TEST_RESULTS.at()) -> TestResultRecord:
        """Build from a raw record; ``id`` and ``status`` must be there."""
        result_id = need_id(raw, ("id", "test_result_id"), endpoint, "test result")
        ended_at = parse_time(raw.get("end_time", raw.get("endtime", raw.get("ended_at"))))
        name = _text(raw.get("test_case_name", raw.get("testcasename", raw.get("name"))))
        return cls(
            id=result_id,
            status=_need_status(raw, endpoint, "test result", ended_at is not None),
            name=name or f"test result {result_id}",
            model=_text(raw.get("model_name", raw.get("modelname"))),
            execution_id=execution_id_of(raw, ("execution_id", "execution_status_id")),
            started_at=parse_time(
                raw.get("start_time", raw.get("starttime", raw.get("started_at")))
            ),
            ended_at=ended_at,
            raw=raw,
        )
