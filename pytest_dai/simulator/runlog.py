"""Run logs (E6) and wire times of the DAI simulator (contract 2.3 times, 2.5 log entries).

:func:`log_entries` computes a run's log as it stands at an instant, oldest first, from the
execution's timestamps. :func:`render_entry` words an entry the way the dialect says:

- ``"v2"`` (the default, contract revision 2, seen on DAI 25.3.1): ``id, eventtime, testrunid,
  message, severity, step_id, stage, message_type, image_name, image_id``. Every entry of a
  step carries its ``step_id``; no entry carries a step status, and a failed step's last entry
  is ``INFORMATIONAL`` with ``message_type: imagefound``, as on real servers.
- ``"legacy"``: the first draft's shape: ``timestamp``, and ``step``, ``step_name`` and a
  ``status`` only on the entry that closes a step (old field names the client still accepts).

Times are ``"iso"`` (``2026-11-28T10:00:00.250Z``) or ``"short_offset"`` (the legacy record's
``2026-11-28 11:00:00.250000+01``: a space, microseconds and a two-digit offset, here +01).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_dai.simulator.dialects import Dialect
    from pytest_dai.simulator.runs import SimRun

__all__ = [
    "LOG_SHAPES",
    "TIME_FORMATS",
    "SimLogEntry",
    "format_time",
    "log_entries",
    "render_entry",
    "render_log",
]

LOG_SHAPES: tuple[str, ...] = ("v2", "legacy")
TIME_FORMATS: tuple[str, ...] = ("iso", "short_offset")

_PLUS_ONE = timezone(timedelta(hours=1))
_OUTCOME_STATUS = {"passed": "Passed", "failed": "Failed", "error": "Error"}
_LEGACY_SEVERITY = {"INFORMATIONAL": "INFO"}


def format_time(timestamp: float | None, style: str = "iso") -> str | None:
    """A wall-clock time as the dialect writes it (None stays None)."""
    if timestamp is None:
        return None
    if style == "short_offset":
        moment = datetime.fromtimestamp(timestamp, tz=_PLUS_ONE)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") + "+01"
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class SimLogEntry:
    """One run log entry. ``step`` is the step the entry belongs to (every entry of it);
    ``status`` is set only on the entry that closes a step (shown in the legacy shape only)."""

    time: float
    message: str
    severity: str
    stage: str
    message_type: str
    step: int | None = None
    step_name: str | None = None
    status: str | None = None
    run_status: str | None = None
    image_name: str | None = None
    image_id: str | None = None


def _subject(execution: SimRun) -> str:
    subject = f"model '{execution.model.name}'"
    if execution.test_case is not None:
        subject += f", test case '{execution.test_case.name}'"
    return subject


def log_entries(execution: SimRun, now: float) -> list[SimLogEntry]:
    """The run log of ``execution`` as it stands at ``now``, oldest first."""
    horizon = execution.horizon(now)
    final = execution.ended_at is not None
    entries = [
        SimLogEntry(
            execution.queued_at,
            f"Execution queued: {_subject(execution)}",
            "INFORMATIONAL",
            "queue",
            "execution_queued",
        )
    ]
    if execution.started_at is not None and execution.started_at <= horizon:
        where = (
            f"on agent '{execution.agent.spec.name}'"
            if execution.agent is not None
            else "without an agent"
        )
        entries.append(
            SimLogEntry(
                execution.started_at,
                f"Run started {where}",
                "INFORMATIONAL",
                "execution",
                "run_started",
            )
        )
    for step in execution.steps:
        started = step.start < horizon if final else step.start <= horizon
        if not started:
            break
        entries.append(
            SimLogEntry(
                step.start, step.name, "INFORMATIONAL", "execution", "step", step=step.number
            )
        )
        if step.end <= horizon:
            entries.append(
                _closing_entry(step.number, step.name, step.outcome, step.message, step.end)
            )
    if execution.abort_requested_at is not None and execution.abort_requested_at <= horizon:
        entries.append(
            SimLogEntry(
                execution.abort_requested_at,
                "Abort requested through the API",
                "WARNING",
                "execution",
                "abort_requested",
            )
        )
    if final and execution.ended_at is not None:
        entries.append(_final_entry(execution, execution.ended_at))
    entries.sort(key=lambda entry: entry.time)
    return entries


def _closing_entry(
    number: int, name: str, outcome: str, message: str | None, when: float
) -> SimLogEntry:
    """The last entry of a step: what the step's action did."""
    if outcome == "passed":
        text, severity, kind = f"'{name}': done", "INFORMATIONAL", "action"
    elif outcome == "failed":
        # Real servers log most failures as INFORMATIONAL "imagefound" entries (seen).
        text = message or f"'{name}': expected image not found"
        severity, kind = "INFORMATIONAL", "imagefound"
    else:
        text, severity, kind = message or f"'{name}': error", "ERROR", "error"
    return SimLogEntry(
        when,
        text,
        severity,
        "execution",
        kind,
        step=number,
        step_name=name,
        status=_OUTCOME_STATUS[outcome],
    )


def _final_entry(execution: SimRun, ended_at: float) -> SimLogEntry:
    status = execution.status
    if execution.end_reason == "aborted":
        message = "Run cancelled: aborted through the API"
    elif execution.end_reason == "server_cancelled":
        message = f"Run cancelled by the server after {execution.cancel_after:g} s"
    else:
        message = f"Run finished: {status}"
    severity = {"Passed": "INFORMATIONAL", "Cancelled": "WARNING"}.get(status, "ERROR")
    return SimLogEntry(ended_at, message, severity, "execution", "run_finished", run_status=status)


def render_entry(
    entry: SimLogEntry,
    *,
    number: int,
    run_id: int,
    shape: str,
    time_format: str,
    status_word: Any,
) -> dict[str, Any]:
    """One entry as JSON, in the ``shape`` (``v2`` or ``legacy``) of the dialect.

    ``number`` is the entry's 1-based position in the log (its ``id``), ``status_word`` the
    dialect's word for a canonical status.
    """
    if shape == "legacy":
        item: dict[str, Any] = {
            "timestamp": format_time(entry.time, time_format),
            "message": entry.message,
            "severity": _LEGACY_SEVERITY.get(entry.severity, entry.severity),
            "stage": entry.stage,
            "message_type": entry.message_type,
        }
        if entry.step is not None and entry.status is not None:
            item["step"] = entry.step
            item["step_name"] = entry.step_name
            item["status"] = status_word(entry.status)
            if entry.status != "Passed":
                item["severity"] = "ERROR"
        if entry.run_status is not None:
            item["run_status"] = status_word(entry.run_status)
        if entry.image_id is not None:
            item.update(step_id=entry.step, image_id=entry.image_id, image_name=entry.image_name)
        return item
    return {
        "id": number,
        "eventtime": format_time(entry.time, time_format),
        "testrunid": run_id,
        "message": entry.message,
        "severity": entry.severity,
        "step_id": entry.step,
        "stage": entry.stage,
        "message_type": entry.message_type,
        "image_name": entry.image_name,
        "image_id": entry.image_id,
    }


def render_log(
    entries: list[SimLogEntry],
    *,
    run_id: int,
    dialect: Dialect,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Entries ``offset`` to ``offset + limit`` of a log as JSON (``id`` is the position)."""
    end = len(entries) if limit is None else min(offset + limit, len(entries))
    return [
        render_entry(
            entries[index],
            number=index + 1,
            run_id=run_id,
            shape=dialect.log_shape,
            time_format=dialect.time_format,
            status_word=dialect.status_word,
        )
        for index in range(offset, end)
    ]
