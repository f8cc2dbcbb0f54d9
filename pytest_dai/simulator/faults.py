"""Fault injection (:class:`Faults`) and server dialects (:class:`Dialect`) of the DAI simulator.

Both are plain mutable dataclasses. They are set from a scenario file (``"faults"`` and
``"dialect"`` objects) or at run time with ``DAISimulator.set_faults(**fields)`` and
``DAISimulator.set_dialect(**fields)``, which validate every field with :func:`validate_faults`
and :func:`validate_dialect`.
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
    http_status,
    integer,
    nullable,
    number,
    one_of,
    path_list,
    status_list,
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

DEFAULT_ERROR_STATUSES: tuple[int, ...] = (500, 502, 503, 504, 429)


@dataclass
class Faults:
    """Faults the simulator injects into its HTTP answers (never into the Python-side API).

    Fields (all optional in a scenario's ``"faults"`` object):

    - ``latency``: seconds added to every request in scope (``latency_paths``, if set, narrows
      it to requests whose path starts with one of those prefixes).
    - ``error_rate``: probability (0..1) that a request in scope fails with a status drawn from
      ``error_statuses`` (default 500, 502, 503, 504, 429).
    - ``burst``: the next N requests in scope fail with ``burst_status`` (default 503); the
      counter goes down by one per failed request.
    - ``retry_after``: seconds sent in a ``Retry-After`` header on injected 429 and 503 answers
      (an integer is sent as such, a fraction as a decimal); ``null`` sends none.
    - ``drop_rate``: probability (0..1) that the connection is closed with no answer;
      ``drop_next``: drop the next N requests in scope.
    - ``fault_paths``: path prefixes faults apply to (``null``: every path, the token endpoint
      included); ``exclude_paths``: prefixes they never apply to.
    - ``token_lifetime``: overrides the scenario's token lifetime (real seconds) for tokens
      issued from now on: short-lived tokens.
    - ``licence_exhausted``: the token endpoint answers 403 "Not enough available concurrent
      user licenses".
    - ``cancel_after``: executions started from now on are cancelled by the server after this
      many simulated seconds of running.
    - ``no_record_grace``: for this many real seconds after a start, ``GET /ai/runs`` shows no
      record of that execution (set at the time of the start).
    - ``seed``: seed of the random generator behind ``error_rate`` and ``drop_rate``.
    - ``fault_draw``: how those draws are made. ``"shared"`` (default): one generator for every
      request, in order of arrival. ``"per_execution"``: for a request naming an execution
      (``GET /ai/runs?execution_id=X``, or the execution's own path), the draw depends only on
      ``seed``, on the ``fault_stream`` of the execution's agent (scenario; default ``""``) and on
      how many requests in scope for that execution came before it, so every execution on
      agents of one stream meets the same faults at the same request count (common random
      numbers: two clients compared on one server face identical faults, and the one that asks
      less never pays more retries), and executions on agents of other streams other faults.
      Requests naming no execution keep the shared generator; without a ``seed``, one is drawn
      when the faults are set.
    - ``screenshot_fault``: E12 (screenshots) answers ``"404"``, ``"large"`` (a PNG larger than
      a client's 20 MB cap) or ``"slow"`` (after ``screenshot_delay`` seconds); ``null``: none.
    """

    latency: float = 0.0
    latency_paths: list[str] | None = None
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: list(DEFAULT_ERROR_STATUSES))
    burst: int = 0
    burst_status: int = 503
    retry_after: float | None = None
    drop_rate: float = 0.0
    drop_next: int = 0
    fault_paths: list[str] | None = None
    exclude_paths: list[str] = field(default_factory=list)
    token_lifetime: float | None = None
    licence_exhausted: bool = False
    cancel_after: float | None = None
    no_record_grace: float = 0.0
    seed: int | None = None
    fault_draw: str = "shared"
    screenshot_fault: str | None = None
    screenshot_delay: float = 5.0

    def in_scope(self, path: str) -> bool:
        """Whether faults apply to a request for ``path``."""
        if any(path.startswith(prefix) for prefix in self.exclude_paths):
            return False
        return self.fault_paths is None or any(path.startswith(p) for p in self.fault_paths)

    def latency_for(self, path: str) -> float:
        """Seconds of latency to add to a request for ``path`` (0 when out of scope)."""
        if self.latency <= 0 or not self.in_scope(path):
            return 0.0
        if self.latency_paths is not None and not any(
            path.startswith(prefix) for prefix in self.latency_paths
        ):
            return 0.0
        return self.latency


FAULT_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "latency": number(0),
    "latency_paths": nullable(path_list),
    "error_rate": number(0, 1),
    "error_statuses": status_list,
    "burst": integer(0),
    "burst_status": http_status,
    "retry_after": nullable(number(0)),
    "drop_rate": number(0, 1),
    "drop_next": integer(0),
    "fault_paths": nullable(path_list),
    "exclude_paths": path_list,
    "token_lifetime": nullable(number(0.001)),
    "licence_exhausted": boolean,
    "cancel_after": nullable(number(0)),
    "no_record_grace": number(0),
    "seed": nullable(integer()),
    "fault_draw": one_of("shared", "per_execution"),
    "screenshot_fault": one_of(None, "404", "large", "slow"),
    "screenshot_delay": number(0),
}


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


def _validate(
    fields: Mapping[str, Any], validators: Mapping[str, Callable[[Any], Any]]
) -> dict[str, Any]:
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


def validate_faults(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check fault fields by name; return them normalised or raise :class:`FieldError`."""
    return _validate(fields, FAULT_VALIDATORS)


def validate_dialect(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check dialect fields by name; return them normalised or raise :class:`FieldError`."""
    return _validate(fields, DIALECT_VALIDATORS)


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


def copy_faults(faults: Faults) -> Faults:
    """A deep-enough copy of ``faults`` (lists are copied)."""
    return dataclasses.replace(
        faults,
        latency_paths=None if faults.latency_paths is None else list(faults.latency_paths),
        error_statuses=list(faults.error_statuses),
        fault_paths=None if faults.fault_paths is None else list(faults.fault_paths),
        exclude_paths=list(faults.exclude_paths),
    )


def copy_dialect(dialect: Dialect) -> Dialect:
    """A copy of ``dialect`` (``status_words`` is copied)."""
    return dataclasses.replace(dialect, status_words=dict(dialect.status_words))
