"""Typed views of what DAI endpoints return, parsed tolerantly (contract section 3).

Unknown extra fields are ignored. A field we need that is missing or of the wrong type is a
:class:`DAIProtocolError` naming the endpoint and the field, never a ``KeyError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pytest_dai.client.errors import DAIProtocolError, redact
from pytest_dai.client.status import Status, normalise_status
from pytest_dai.client.text import escape_control_chars

__all__ = [
    "EXECUTION_ID_FIELDS",
    "LIST_ENVELOPES",
    "Agent",
    "LogEntry",
    "Model",
    "RunRecord",
    "list_items",
    "parse_time",
]

#: Where a start response or a run record may carry the execution id (tolerance rule 1).
EXECUTION_ID_FIELDS = ("id", "execution_id", "execution_status_id")

#: Envelope keys a list may come in (tolerance rule 2).
LIST_ENVELOPES = ("items", "results", "data")


def list_items(payload: Any, endpoint: str) -> list[dict[str, Any]]:
    """The records of a list answer: a bare array or an envelope ``{"items": [...]}``."""
    items: Any = payload
    if isinstance(payload, dict):
        for key in LIST_ENVELOPES:
            if isinstance(payload.get(key), list):
                items = payload[key]
                break
        else:
            raise DAIProtocolError(
                f"{endpoint}: expected a list or an object with one of "
                f"{', '.join(LIST_ENVELOPES)}, got an object with keys "
                f"{', '.join(sorted(map(str, payload))[:8]) or 'none'}",
                endpoint=endpoint,
            )
    if not isinstance(items, list):
        raise DAIProtocolError(
            f"{endpoint}: expected a list, got {type(items).__name__}", endpoint=endpoint
        )
    return [item for item in items if isinstance(item, dict)]


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; naive means UTC) or epoch seconds; else None."""
    if value is None or value == "":
        return None
    # Server data: a giant integer, NaN, infinity or a date out of range is "no time", never
    # an OverflowError, ValueError or OSError from the datetime module.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = value / 1000.0 if value > 1e11 else float(value)
            if not math.isfinite(seconds):
                return None
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, ValueError, OSError):
            return None
    if isinstance(value, str) and len(value) <= 64:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except (OverflowError, ValueError):
            return None
    return None


#: The largest count (of steps...) taken from a server as it is; larger is refused by name.
COUNT_LIMIT = 10**9


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        return int(value.strip())
    return None


def _count(raw: dict[str, Any], key: str, endpoint: str) -> int | None:
    """A count field (``steps_total``...): None when absent or not a number; a
    :class:`DAIProtocolError` naming the field when it is NaN, infinite, negative or absurd."""
    value = raw.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        raise DAIProtocolError(
            f"{endpoint}: field {key}: {value!r} is not a usable count", endpoint=endpoint
        )
    number = _int_or_none(value)
    if number is not None and not 0 <= number <= COUNT_LIMIT:
        raise DAIProtocolError(
            f"{endpoint}: field {key}: {number:.3g} is not a usable count (0 to {COUNT_LIMIT:g})",
            endpoint=endpoint,
        )
    return number


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _name(value: Any) -> str | None:
    """A name or word from the server, control characters escaped (it reaches terminals)."""
    text = _text(value)
    return None if text is None else escape_control_chars(text[:NAME_LENGTH_LIMIT])


#: The longest name (model, agent) or status word kept from a server.
NAME_LENGTH_LIMIT = 200


def execution_id_of(record: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    """The first of ``fields`` that holds an id (string or number), as a string."""
    for key in fields:
        value = record.get(key)
        if isinstance(value, bool) or value is None or value == "":
            continue
        if isinstance(value, (str, int)):
            return str(value)
    return None


def _status_word(value: str | int) -> str | int:
    return _name(value) or "" if isinstance(value, str) else value


@dataclass(frozen=True)
class RunRecord:
    """A run record from E2 (contract 2.3), normalised."""

    run_id: str | None
    execution_id: str | None
    status: Status
    model_name: str | None
    agent_name: str | None
    started_at: datetime | None
    ended_at: datetime | None
    steps_total: int | None
    steps_done: int | None
    steps_failed: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str) -> RunRecord:
        """Build from a raw record; ``status`` is the one field that must be there."""
        if "status" not in raw or not isinstance(raw["status"], (str, int)):
            raise DAIProtocolError(
                f"{endpoint}: run record has no status field (fields: "
                f"{', '.join(sorted(map(str, raw))[:12])})",
                endpoint=endpoint,
            )
        ended_at = parse_time(raw.get("endtime", raw.get("end_time", raw.get("ended_at"))))
        return cls(
            run_id=_text(raw.get("id", raw.get("run_id"))),
            execution_id=execution_id_of(raw, ("execution_id", "execution_status_id")),
            status=normalise_status(_status_word(raw["status"]), ended=ended_at is not None),
            model_name=_name(raw.get("modelname", raw.get("model_name"))),
            agent_name=_name(raw.get("agentname", raw.get("agent_name"))),
            started_at=parse_time(
                raw.get("starttime", raw.get("start_time", raw.get("started_at")))
            ),
            ended_at=ended_at,
            steps_total=_count(raw, "steps_total", endpoint),
            steps_done=_count(raw, "steps_done", endpoint),
            steps_failed=_count(raw, "steps_failed", endpoint),
            raw=raw,
        )


@dataclass(frozen=True)
class Model:
    """A model from E5."""

    id: str
    name: str

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str) -> Model:
        """Build from a raw record; needs ``id``; ``name`` falls back to the id."""
        model_id = _text(raw.get("id", raw.get("model_id")))
        if not model_id:
            raise DAIProtocolError(f"{endpoint}: model record has no id field", endpoint=endpoint)
        return cls(id=model_id, name=_name(raw.get("name")) or escape_control_chars(model_id))


@dataclass(frozen=True)
class Agent:
    """An agent from E4."""

    id: str
    name: str
    status: str | None
    hosted: bool

    @property
    def online(self) -> bool:
        """False only when the server says the agent is offline or disconnected."""
        word = (self.status or "").strip().casefold()
        return word not in {"offline", "disconnected", "unavailable", "down"}

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str) -> Agent:
        """Build from a raw record; needs ``id``; ``name`` falls back to the id."""
        agent_id = _text(raw.get("id", raw.get("agent_id")))
        if not agent_id:
            raise DAIProtocolError(f"{endpoint}: agent record has no id field", endpoint=endpoint)
        return cls(
            id=agent_id,
            name=_name(raw.get("name")) or escape_control_chars(agent_id),
            status=_name(raw.get("status")),
            hosted=bool(raw.get("hosted", raw.get("is_hosted_agent", False))),
        )


@dataclass(frozen=True)
class LogEntry:
    """A run log entry from E6 (contract 2.5)."""

    timestamp: str | None
    message: str
    severity: str
    step: int | None
    status: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> LogEntry:
        """Build from a raw entry; every field is optional."""
        return cls(
            timestamp=_text(raw.get("timestamp")),
            message=redact(_text(raw.get("message")) or ""),
            severity=(_text(raw.get("severity")) or "INFO").upper(),
            step=_int_or_none(raw.get("step")),
            status=_name(raw.get("status")),
            raw=raw,
        )

    def format(self) -> str:
        """One line: time, severity, step, message (control characters escaped)."""
        step = f" step {self.step}" if self.step is not None else ""
        stamp = f"{self.timestamp} " if self.timestamp else ""
        line = f"{stamp}{self.severity:<8}{step} {self.message}".rstrip()
        return escape_control_chars(line)
