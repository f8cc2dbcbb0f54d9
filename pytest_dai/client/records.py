"""Typed views of what DAI endpoints return, parsed tolerantly (contract section 3).

Unknown extra fields are ignored. A field we need that is missing or of the wrong type is a
:class:`DAIProtocolError` naming the endpoint and the field, never a ``KeyError``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pytest_dai.client.errors import DAIProtocolError
from pytest_dai.client.server_text import server_id, server_message, server_text
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

#: Where a run record carries its status word: ``status``, else ``teststatus`` (a DAI cloud's
#: records, contract 2.7 and tolerance rule 13).
STATUS_FIELDS = ("status", "teststatus")

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


#: ISO 8601 as servers write it: ``T`` or a space, fractions of any length, and an offset
#: ``Z``, ``+01``, ``+0100`` or ``+01:00`` (the legacy record's ``2018-05-31 17:00:01.366412+01``).
#: Parsed by hand: ``datetime.fromisoformat`` of Python 3.10 takes none of ``Z``, ``+01`` or
#: five-digit fractions.
_ISO_TIME = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d)"
    r"(?:[Tt ](?P<h>\d\d):(?P<m>\d\d)(?::(?P<s>\d\d)(?:[.,](?P<f>\d{1,12}))?)?)?"
    r" ?(?P<tz>[Zz]|[+-]\d\d(?::?\d\d)?)?"
)


def parse_time(value: Any) -> datetime | None:
    """A server time: ISO 8601 (see ``_ISO_TIME``; no offset means UTC) or epoch seconds (or
    milliseconds). Anything else, NaN or out of range: None, never an exception."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            return None
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _ISO_TIME.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return _build_time(match)
    except (ValueError, OverflowError):
        return None


def _build_time(match: re.Match[str]) -> datetime:
    year, month, day = (int(part) for part in match["date"].split("-"))
    fraction = (match["f"] or "0")[:6].ljust(6, "0")
    zone = timezone.utc
    tz = match["tz"]
    if tz and tz not in "Zz":
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(tz)
        offset = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-offset if tz[0] == "-" else offset)
    return datetime(
        year,
        month,
        day,
        int(match["h"] or 0),
        int(match["m"] or 0),
        int(match["s"] or 0),
        int(fraction),
        tzinfo=zone,
    )


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
    """Text from the server made safe where it is parsed (:func:`server_text`)."""
    return server_text(value)


#: A name or word from the server (the same boundary as any text).
_name = _text


def execution_id_of(record: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    """The first of ``fields`` that holds an id (string or number), as a string."""
    for key in fields:
        value = record.get(key)
        if isinstance(value, bool) or value is None or value == "":
            continue
        if isinstance(value, (str, int)):
            return server_id(value)
    return None


def id_in_answer(payload: Any, fields: tuple[str, ...], endpoint: str, name: str) -> str:
    """The id a start answered (the first of ``fields`` that holds one); an answer that is not
    an object, or has none, is a :class:`DAIProtocolError` naming ``endpoint`` and the id's
    ``name`` ("execution id")."""
    if not isinstance(payload, dict):
        raise DAIProtocolError(
            f"{endpoint}: expected an object with the {name}, got {type(payload).__name__}",
            endpoint=endpoint,
        )
    found = execution_id_of(payload, fields)
    if found is None:
        raise DAIProtocolError(
            f"{endpoint}: answer has no {name} (looked for {', '.join(fields)})",
            endpoint=endpoint,
        )
    return found


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

    #: ``runtype`` (``directed`` for a test case run, else exploratory) and ``testcase``, as a
    #: DAI cloud's records carry them (contract 2.7); None where the server gives none.
    run_type: str | None = None
    test_case: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str) -> RunRecord:
        """Build from a raw record; the status (``status``, else ``teststatus``: contract 2.7) is
        the one field that must be there."""
        key = next((k for k in STATUS_FIELDS if isinstance(raw.get(k), (str, int))), None)
        if key is None:
            raise DAIProtocolError(
                f"{endpoint}: run record has no status field (looked for "
                f"{' or '.join(STATUS_FIELDS)}; fields: {', '.join(sorted(map(str, raw))[:12])})",
                endpoint=endpoint,
            )
        end = raw.get("endtime", raw.get("end_time", raw.get("ended_at")))
        return cls(
            run_id=_text(raw.get("id", raw.get("run_id"))),
            execution_id=execution_id_of(raw, ("execution_id", "execution_status_id")),
            # An end time that cannot be parsed still says the run has ended (contract 2.3).
            status=normalise_status(_status_word(raw[key]), ended=end is not None and end != ""),
            model_name=_name(raw.get("modelname", raw.get("model_name"))),
            agent_name=_name(raw.get("agentname", raw.get("agent_name"))),
            started_at=parse_time(
                raw.get("starttime", raw.get("start_time", raw.get("started_at")))
            ),
            ended_at=parse_time(end),
            steps_total=_count(raw, "steps_total", endpoint),
            steps_done=_count(raw, "steps_done", endpoint),
            steps_failed=_count(raw, "steps_failed", endpoint),
            raw=raw,
            run_type=_name(raw.get("runtype", raw.get("run_type"))),
            test_case=_name(raw.get("testcase", raw.get("test_case"))),
        )


@dataclass(frozen=True)
class Model:
    """A model from E5. ``uuid`` is the listing's ``modeluuid`` where it has one (seen on real
    servers next to a numeric ``id``); a start names the model by it (contract 2.1)."""

    id: str
    name: str
    uuid: str | None = None

    @property
    def start_id(self) -> str:
        """What E1's ``model_id`` is: the ``modeluuid`` where the listing has one, else the id."""
        return self.uuid or self.id

    @classmethod
    def parse(cls, raw: dict[str, Any], endpoint: str) -> Model:
        """Build from a raw record; needs ``id`` (or ``modeluuid``); ``name`` falls back to it."""
        uuid = _text(raw.get("modeluuid")) or None
        model_id = _text(raw.get("id", raw.get("model_id"))) or uuid
        if not model_id:
            raise DAIProtocolError(f"{endpoint}: model record has no id field", endpoint=endpoint)
        return cls(
            id=model_id,
            name=_name(raw.get("name")) or escape_control_chars(model_id),
            uuid=uuid,
        )


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
    """A run log entry from E6 (contract 2.5), real shape or the old names.

    ``timestamp`` is the server's text of ``eventtime`` (old: ``timestamp``); ``step`` the
    numeric ``step_id`` (old: ``step``) and ``step_ref`` its text, which groups the entries of
    one model step; ``status`` a step status only older servers write (the real shape has
    none). ``image_id`` names a screenshot (E12) taken with the entry.
    """

    timestamp: str | None
    message: str
    severity: str
    step: int | None
    status: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    step_ref: str | None = None
    message_type: str | None = None
    image_id: str | None = None
    image_name: str | None = None
    #: The step's name where the server gives one (``step_name``, else ``name``).
    step_name: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> LogEntry:
        """Build from a raw entry; every field is optional."""
        when = raw.get("eventtime", raw.get("timestamp"))
        step = raw.get("step_id", raw.get("step"))
        step_ref = _text(step)
        return cls(
            timestamp=_text(when),
            message=server_message(raw.get("message")),
            severity=(_text(raw.get("severity")) or "INFO").upper(),
            step=_int_or_none(step),
            status=_name(raw.get("status")),
            raw=raw,
            step_ref=step_ref.strip() or None if step_ref is not None else None,
            message_type=_text(raw.get("message_type")),
            image_id=_text(raw.get("image_id")) or None,
            image_name=_text(raw.get("image_name")) or None,
            step_name=_text(raw.get("step_name") or raw.get("name")) or None,
        )

    @property
    def time(self) -> datetime | None:
        """The entry's time, parsed (None when absent or unreadable)."""
        return parse_time(self.timestamp)

    def format(self) -> str:
        """One line: time, severity, step, message (control characters escaped)."""
        step = f" step {self.step_ref}" if self.step_ref is not None else ""
        stamp = f"{self.timestamp} " if self.timestamp else ""
        line = f"{stamp}{self.severity:<8}{step} {self.message}".rstrip()
        return escape_control_chars(line)
