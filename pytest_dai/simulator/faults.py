"""Fault injection of the DAI simulator (:class:`Faults`); its server dialects are in
:mod:`pytest_dai.simulator.dialects`.

A plain mutable dataclass, set from a scenario file (the ``"faults"`` object) or at run time
with ``DAISimulator.set_faults(**fields)``, which validates every field with
:func:`validate_faults`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_dai.simulator.values import (
    boolean,
    http_status,
    integer,
    nullable,
    number,
    one_of,
    path_list,
    status_list,
    validate_fields,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

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


def validate_faults(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check fault fields by name; return them normalised or raise :class:`FieldError`."""
    return validate_fields(fields, FAULT_VALIDATORS)


def copy_faults(faults: Faults) -> Faults:
    """A deep-enough copy of ``faults`` (lists are copied)."""
    return dataclasses.replace(
        faults,
        latency_paths=None if faults.latency_paths is None else list(faults.latency_paths),
        error_statuses=list(faults.error_statuses),
        fault_paths=None if faults.fault_paths is None else list(faults.fault_paths),
        exclude_paths=list(faults.exclude_paths),
    )
