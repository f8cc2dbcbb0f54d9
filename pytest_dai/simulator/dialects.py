"""Server dialects of the DAI simulator (:class:`Dialect`): how it words its answers, within
what contract section 3 tolerates, and the named presets tests parametrize over.

A plain mutable dataclass, set from a scenario file (the ``"dialect"`` object or a preset's
name) or at run time with ``DAISimulator.set_dialect(**fields)``, which validates every field
with :func:`validate_dialect`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.values import (
    Expected,
    FieldError,
    boolean,
    describe,
    integer,
    nullable,
    one_of,
    validate_fields,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CANONICAL_STATUSES: tuple[str, ...] = (
    "Queued",
    "Running",
    "Passed",
    "Failed",
    "Error",
    "Cancelled",
)
"""The status words the simulator uses internally (contract section 2.4, first word of each row)."""


@dataclass
class Dialect:
    """How the simulated server words its answers, within what contract section 3 tolerates.

    - ``id_field``: key of the execution id in the start response: ``"id"`` (default),
      ``"execution_id"`` or ``"execution_status_id"``; with the last one, run records also carry
      the execution id as ``execution_status_id`` instead of ``execution_id``.
    - ``id_as_number``: execution ids are numbers (in the start response and run records).
    - ``start_status``: 201 (default) or 200 for a successful start.
    - ``envelope``: ``null`` (bare JSON arrays) or ``"items"``, ``"results"``, ``"data"``: lists
      of runs, agents and models come in ``{KEY: [...], "total_count": N}``; run logs always come
      in an envelope, under that key (``"items"`` when ``null``).
    - ``status_case``: ``"title"`` (``Running``), ``"upper"`` (``RUNNING``), ``"lower"``.
    - ``status_words``: map of canonical word (Queued, Running, Passed, Failed, Error, Cancelled)
      to the word the server uses, e.g. ``{"Passed": "Succeeded"}``; any word is allowed, so a
      word outside the contract's table can be tried too.
    - ``agents_get_405``: ``GET /ai/agents`` answers 405 (a client must then stop with a clear
      error: ``POST /ai/agents`` creates an agent, it never lists them).
    - ``runs_ignore_filter``: ``GET /ai/runs`` ignores ``execution_id`` and lists every run.
    - ``runs_404_when_empty``: ``GET /ai/runs`` answers 404 instead of an empty list.
    - ``extra_fields``: unknown extra fields in every JSON object answered.
    - ``html_errors``: error answers are an HTML page, as from a proxy in front of the server.
    - ``log_shape``: ``"v2"`` (default: the log entries seen on real servers, contract 2.5) or
      ``"legacy"`` (``timestamp``, and ``step``/``status`` on the entry closing a step).
    - ``time_format``: ``"iso"`` (default, ``...T10:00:00.250Z``) or ``"short_offset"`` (the
      legacy record's ``2018-05-31 17:00:01.366412+01``), in run records and run logs.
    - ``runs_page_size``: ``GET /ai/runs`` without ``limit`` lists this many records (default
      20, as seen on real servers); ``null``: all of them.
    - ``models_modeluuid``: ``GET /ai/models`` gives a numeric ``id`` and the model's uuid as
      ``modeluuid`` (default, seen); a start must name the model by that uuid. ``false``: the
      uuid is the ``id``.
    - ``abort_over_status``: the status of an abort (E3) of an execution that has finished or
      is unknown: 404 (default), or 400 or 422 as some servers answer (tolerance rule 9); the
      detail says which ("... has already finished (Passed)", "... not found").
    """

    id_field: str = "id"
    id_as_number: bool = False
    start_status: int = 201
    envelope: str | None = None
    status_case: str = "title"
    status_words: dict[str, str] = field(default_factory=dict)
    agents_get_405: bool = False
    runs_ignore_filter: bool = False
    runs_404_when_empty: bool = False
    extra_fields: bool = False
    html_errors: bool = False
    log_shape: str = "v2"
    time_format: str = "iso"
    runs_page_size: int | None = 20
    models_modeluuid: bool = True
    abort_over_status: int = 404

    def status_word(self, canonical: str) -> str:
        """The word this dialect uses for a canonical status word."""
        word = self.status_words.get(canonical, canonical)
        if self.status_case == "upper":
            return word.upper()
        if self.status_case == "lower":
            return word.lower()
        return word

    @property
    def execution_id_key(self) -> str:
        """Key of the execution id in a run record."""
        return "execution_status_id" if self.id_field == "execution_status_id" else "execution_id"


def _status_words(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Expected("an object of status words", value)
    result: dict[str, str] = {}
    for key, word in value.items():
        if key not in CANONICAL_STATUSES:
            raise FieldError(
                f"status_words.{key}",
                f"unknown status (expected one of: {', '.join(CANONICAL_STATUSES)})",
            )
        if not isinstance(word, str) or not word.strip():
            raise FieldError(
                f"status_words.{key}", f"expected a non-empty string, got {describe(word)}"
            )
        result[key] = word
    return result


DIALECT_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "id_field": one_of("id", "execution_id", "execution_status_id"),
    "id_as_number": boolean,
    "start_status": one_of(200, 201),
    "envelope": one_of(None, "items", "results", "data"),
    "status_case": one_of("title", "upper", "lower"),
    "status_words": _status_words,
    "agents_get_405": boolean,
    "runs_ignore_filter": boolean,
    "runs_404_when_empty": boolean,
    "extra_fields": boolean,
    "html_errors": boolean,
    "log_shape": one_of("v2", "legacy"),
    "time_format": one_of("iso", "short_offset"),
    "runs_page_size": nullable(integer(1)),
    "models_modeluuid": boolean,
    "abort_over_status": one_of(404, 400, 422),
}


def validate_dialect(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check dialect fields by name; return them normalised or raise :class:`FieldError`."""
    return validate_fields(fields, DIALECT_VALIDATORS)


ALT_WORDS: dict[str, str] = {
    "Queued": "Pending",
    "Running": "In Progress",
    "Passed": "Succeeded",
    "Failed": "Failure",
    "Error": "Errored",
    "Cancelled": "Aborted",
}

DIALECTS: dict[str, Dialect] = {
    "default": Dialect(),
    "execution_id": Dialect(id_field="execution_id"),
    "status_id": Dialect(id_field="execution_status_id", start_status=200),
    "numeric_ids": Dialect(id_as_number=True),
    "envelope": Dialect(envelope="items"),
    "results": Dialect(envelope="results"),
    "data": Dialect(envelope="data"),
    "upper": Dialect(status_case="upper"),
    "lower": Dialect(status_case="lower"),
    "alt_words": Dialect(status_words=dict(ALT_WORDS)),
    "agents405": Dialect(agents_get_405=True),
    "unfiltered": Dialect(runs_ignore_filter=True),
    "empty404": Dialect(runs_404_when_empty=True),
    "extra_fields": Dialect(extra_fields=True),
    "html_errors": Dialect(html_errors=True),
    "short_offset": Dialect(time_format="short_offset"),
    "legacy_logs": Dialect(log_shape="legacy"),
    "unpaged": Dialect(runs_page_size=None),
    "no_modeluuid": Dialect(models_modeluuid=False),
    "abort400": Dialect(abort_over_status=400),
    "abort422": Dialect(abort_over_status=422),
    "first_draft": Dialect(log_shape="legacy", runs_page_size=None, models_modeluuid=False),
    "everything": Dialect(
        id_field="execution_status_id",
        id_as_number=True,
        start_status=200,
        envelope="results",
        status_case="upper",
        status_words=dict(ALT_WORDS),
        runs_ignore_filter=True,
        runs_404_when_empty=True,
        extra_fields=True,
        html_errors=True,
        time_format="short_offset",
        runs_page_size=5,
    ),
}
"""Named dialect presets; tests parametrize over them. Copy one before changing it."""


def dialect_preset(name: str) -> Dialect:
    """A fresh copy of the preset ``name`` from :data:`DIALECTS` (``KeyError`` if unknown)."""
    return dataclasses.replace(DIALECTS[name], status_words=dict(DIALECTS[name].status_words))


def copy_dialect(dialect: Dialect) -> Dialect:
    """A copy of ``dialect`` (``status_words`` is copied)."""
    return dataclasses.replace(dialect, status_words=dict(dialect.status_words))
