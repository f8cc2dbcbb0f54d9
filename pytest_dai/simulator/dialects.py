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
    - ``status_field``: where a run record carries its status: ``"status"`` (default) or
      ``"teststatus"`` (a DAI cloud, contract 2.7).
    - ``runs_order``: ``GET /ai/runs`` lists ``"newest_first"`` (default) or
      ``"oldest_first"`` (a DAI cloud: the newest runs are on the last page).
    - ``run_by_id``: ``GET /ai/runs/{run_id}`` answers one record (default, seen on a DAI
      cloud); ``false``: 404, as on a server without that call.
    - ``cloud_fields``: run records also carry ``runtype``, ``testcase`` and ``groupid``.
    - ``past_runs``: this many finished runs of others are listed before this session's
      (default 0), so a run list has a history to page through.
    - ``public_api``: which public API the server has (contract 2.7): ``"v2"`` (default, DAI
      7.5 and later; ``/api/v1`` answers 404) or ``"v1"`` (DAI 7.4: auth, test results, logs
      and screenshots under ``/api/v1``, ``/api/v2`` answers 404, no test-config results).
    - ``keycloak_auth``: the Keycloak token endpoint exists (default); ``false``: 404, the
      server expects the public API's auth (``dai_auth = v2``).
    - ``problem_errors``: errors of ``/api/...`` paths are RFC 7807 problems (``{"type",
      "title", "status", "detail"}``, ``detail`` null when there is none); a 422 stays
      FastAPI's ``{"detail": [...]}``.
    - ``public_paged``: public lists (E8 to E11, E14) are ``{"items", "total_count"}`` pages
      honouring ``limit`` (default ``public_page_size``) and ``offset``; ``false`` (default):
      every item at once, bare or in the dialect's ``envelope``.
    - ``public_page_size``: a paged public list's largest page, and its page without
      ``limit`` (default 20).
    - ``public_sort``: paged lists honour pytest-dai's ``sort_by``/``sort_order`` (default);
      ``false``: they ignore them.
    - ``one_result``: ``GET /api/v2/test_config_results/{id}`` answers one result (default,
      public API v2); ``false``: 404, as on a server without that call.
    - ``public_oldest_first``: a paged list's own order, when not sorted as asked: oldest
      first (default false: newest first; logs and test results then come newest first too).
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
    status_field: str = "status"
    runs_order: str = "newest_first"
    run_by_id: bool = True
    cloud_fields: bool = False
    past_runs: int = 0
    public_api: str = "v2"
    keycloak_auth: bool = True
    problem_errors: bool = False
    public_paged: bool = False
    public_page_size: int = 20
    public_sort: bool = True
    public_oldest_first: bool = False
    one_result: bool = True

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
    "status_field": one_of("status", "teststatus"),
    "runs_order": one_of("newest_first", "oldest_first"),
    "run_by_id": boolean,
    "cloud_fields": boolean,
    "past_runs": integer(0),
    "public_api": one_of("v2", "v1"),
    "keycloak_auth": boolean,
    "problem_errors": boolean,
    "public_paged": boolean,
    "public_page_size": integer(1),
    "public_sort": boolean,
    "public_oldest_first": boolean,
    "one_result": boolean,
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
    "no_run_by_id": Dialect(run_by_id=False),
    "oldest_first": Dialect(
        envelope="items", runs_order="oldest_first", runs_ignore_filter=True, past_runs=45
    ),
    # A DAI cloud as a script by Eggplant staff saw it (contract 2.7): status under teststatus,
    # INCOMPLETE while going, a few hundred runs listed oldest first without the filter.
    "dai_cloud": Dialect(
        envelope="items",
        status_field="teststatus",
        status_case="upper",
        status_words={"Queued": "Incomplete", "Running": "Incomplete"},
        runs_order="oldest_first",
        runs_ignore_filter=True,
        cloud_fields=True,
        past_runs=300,
    ),
    # DAI 7.4 (contract 2.7): public API v1 only (auth, test results, logs, screenshots
    # under /api/v1), no test-config results, paged lists, RFC 7807 errors.
    "dai74": Dialect(
        public_api="v1",
        problem_errors=True,
        public_paged=True,
        public_oldest_first=True,
    ),
    # DAI 26.x: public API v2 with its own auth (POST /api/v2/auth, dai_auth = v2; no Keycloak
    # endpoint on the DAI host), paged and sortable lists, RFC 7807 errors.
    "dai26": Dialect(
        keycloak_auth=False,
        problem_errors=True,
        public_paged=True,
        public_oldest_first=True,
    ),
    # Public lists that ignore the sort asked for and list oldest first, five a page: the
    # newest test-config result is on the last page.
    "public_unsorted": Dialect(
        public_paged=True,
        public_page_size=5,
        public_sort=False,
        public_oldest_first=True,
    ),
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
