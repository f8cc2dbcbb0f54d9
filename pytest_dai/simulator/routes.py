"""The routes of the DAI simulator: every request's way from the transport to an answer.

:func:`serve` is the transport's callback: it reads the request, applies the faults (latency,
dropped connections, injected errors), routes it (tokens, test configurations, then the model
run endpoints E1 to E6 and E12 below), words errors as HTML when the dialect says so, and logs
it. The answers come from the :class:`~pytest_dai.simulator.state.SimState`.
"""

from __future__ import annotations

import re
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pytest_dai.simulator.answers import (
    Response,
    detail,
    envelope,
    execution_id,
    extra,
    html_page,
    json_object,
    json_response,
    method_not_allowed,
)
from pytest_dai.simulator.auth import TOKEN_RE, V2_AUTH_PATH, keycloak_token, v2_token
from pytest_dai.simulator.engine import NotFound
from pytest_dai.simulator.public_api import as_problem, internal_path
from pytest_dai.simulator.run_records import ONE_RUN_RE, RUNS_PATH, one_run, runs
from pytest_dai.simulator.runlog import format_time, render_log
from pytest_dai.simulator.screenshots import (
    SCREENSHOT_RE,
    run_of_image,
    screenshot_answer,
    with_images,
)
from pytest_dai.simulator.state import RequestRecord
from pytest_dai.simulator.test_config_routes import route as test_config_route
from pytest_dai.simulator.validation import check_start, int_error, paging

if TYPE_CHECKING:
    from pytest_dai.simulator.dialects import Dialect
    from pytest_dai.simulator.state import SimState
    from pytest_dai.simulator.transport import Handler

__all__ = ["AGENTS_PATH", "EXECUTIONS_PATH", "MODELS_PATH", "RUNS_PATH", "serve"]

EXECUTIONS_PATH = "/execution_service/api/v1/executions"
AGENTS_PATH = "/ai/agents"
MODELS_PATH = "/ai/models"
_EXECUTION_RE = re.compile(r"^/execution_service/api/v1/executions/([^/]+)$")
_RUNLOG_RE = re.compile(r"^/ai/runlogs/([^/]+)$")


def serve(state: SimState, handler: Handler, method: str) -> None:
    """Answer one request (see the module docstring)."""
    from pytest_dai.simulator.transport import BadRequest

    arrived = time.time()
    split = urlsplit(handler.path)
    path = unquote(split.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    raw = b""
    response: Response | None = None
    try:
        raw = handler.read_body()
    except BadRequest as exc:
        handler.close_connection = True
        response = detail(exc.status, exc.detail)
    with state.lock:
        latency = state.faults.latency_for(path)
    if latency > 0:
        time.sleep(latency)
    if response is None:
        response = _answer(state, handler, method, path, query, raw)
    # Logged before the answer goes out: a client that has its answer finds its request in
    # the log (logged after, a test reading the log at once could miss it on a busy machine).
    status = 0 if response is None else response.status
    state.record(RequestRecord(method, path, query, status, arrived, json_object(raw)))
    if response is None:  # dropped by a fault
        handler.drop()
    else:
        _write(state, handler, response, head=method == "HEAD")


def _answer(
    state: SimState, handler: Handler, method: str, path: str, query: dict[str, str], raw: bytes
) -> Response | None:
    """The answer to a readable request, or ``None`` when a fault drops it."""
    with state.lock:
        action = state.fault_action(path, _execution_named(state, path, query))
    if action == "drop":
        return None
    if isinstance(action, int):
        return state.fault_response(action)
    try:
        with state.lock:
            dialect = state.dialect
        # The public API as this DAI serves it (v1 or v2, RFC 7807 errors): contract 2.7.
        routed = internal_path(path, dialect)
        if routed is None or (not dialect.keycloak_auth and TOKEN_RE.match(routed)):
            return as_problem(detail(404, "Not Found"), path, dialect)
        auth = handler.headers.get("Authorization")
        return as_problem(_route(state, method, routed, query, raw, auth), path, dialect)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return detail(500, "Internal simulator error")


def _execution_named(state: SimState, path: str, query: dict[str, str]) -> str | None:
    """The execution id a request names (``GET /ai/runs?execution_id=X``, its run's record
    ``GET /ai/runs/{run_id}``, or the execution's own path), for the faults' per-execution
    draws; None when it names none. Called with the state's lock held."""
    if path == RUNS_PATH:
        return query.get("execution_id") or None
    match = ONE_RUN_RE.match(path)
    if match:
        raw_id = match.group(1)
        run = state.engine.find_run(int(raw_id)) if raw_id.isdigit() else None
        return run.uuid if run is not None else None
    match = _EXECUTION_RE.match(path)
    return match.group(1) if match else None


def _write(state: SimState, handler: Handler, response: Response, *, head: bool) -> None:
    with state.lock:
        html_errors = state.dialect.html_errors
    if response.status >= 400 and html_errors:
        headers = [h for h in response.headers if h[0].lower() != "content-type"]
        response = Response(response.status, html_page(response.status), "text/html", headers)
    try:
        handler.write(response, head=head)
    except OSError:
        handler.close_connection = True


def _allowed(path: str, dialect: Dialect) -> tuple[str, ...] | None:
    """The methods a model-run path takes, or ``None`` for an unknown path."""
    if path == EXECUTIONS_PATH:
        return ("POST",)
    if _EXECUTION_RE.match(path):
        return ("DELETE",)
    if path in (RUNS_PATH, MODELS_PATH) or ONE_RUN_RE.match(path):
        return ("GET",)
    if _RUNLOG_RE.match(path) or SCREENSHOT_RE.match(path):
        return ("GET",)
    if path == AGENTS_PATH:
        # POST creates an agent, as on a real server (seen); GET lists them.
        return ("POST",) if dialect.agents_get_405 else ("GET", "POST")
    return None


def _route(
    state: SimState,
    method: str,
    path: str,
    query: dict[str, str],
    raw: bytes,
    authorization: str | None,
) -> Response:
    match = TOKEN_RE.match(path)
    if match:
        if method != "POST":
            return method_not_allowed("POST")
        return keycloak_token(state, match.group(1), raw, authorization)
    if path == V2_AUTH_PATH:
        return v2_token(state, method, raw)
    answered = test_config_route(state, method, path, query, raw, authorization)
    if answered is not None:
        return answered
    with state.lock:
        dialect = state.dialect
    allowed = _allowed(path, dialect)
    if allowed is None:
        return detail(404, "Not Found")
    if method not in allowed:
        return method_not_allowed(*allowed)
    problem = state.auth_problem(authorization)
    if problem is not None:
        return detail(401, problem, [("WWW-Authenticate", "Bearer")])
    return _endpoint(state, method, path, query, raw, dialect)


def _endpoint(
    state: SimState, method: str, path: str, query: dict[str, str], raw: bytes, dialect: Dialect
) -> Response:
    """An authorised request to a known model-run path, with an allowed method."""
    if path == EXECUTIONS_PATH:
        return _start_execution(state, raw, dialect)
    if path == RUNS_PATH:
        return runs(state, query, dialect)
    match = ONE_RUN_RE.match(path)
    if match:
        return one_run(state, match.group(1), dialect)
    if path == AGENTS_PATH:
        return _create_agent(state, raw, dialect) if method == "POST" else _agents(state, dialect)
    if path == MODELS_PATH:
        return _models(state, dialect)
    match = _EXECUTION_RE.match(path)
    if match:
        return _abort(state, match.group(1), dialect)
    match = SCREENSHOT_RE.match(path)
    if match:
        return _screenshot(state, match.group(1))
    match = _RUNLOG_RE.match(path)
    assert match is not None
    return _runlogs(state, match.group(1), query, dialect)


# -- E1 and E3 ---------------------------------------------------------------------------------


def _start_execution(state: SimState, raw: bytes, dialect: Dialect) -> Response:
    errors, options = check_start(raw)
    if errors:
        return detail(422, errors)
    with state.lock:
        try:
            run = state.engine.start(faults=state.faults, now=time.time(), options=options)
        except NotFound as exc:
            return detail(404, exc.detail)
    payload = {
        dialect.id_field: execution_id(run, dialect),
        "model_id": run.model.id,
        "status": dialect.status_word("Queued"),
    }
    return json_response(dialect.start_status, extra(payload, dialect))


def _abort(state: SimState, key: str, dialect: Dialect) -> Response:
    with state.lock:
        try:
            state.engine.abort(key, time.time())
        except NotFound as exc:  # finished or unknown
            return detail(dialect.abort_over_status, exc.detail)
    return Response(204)


# -- E2, E4, E5, E6, E12 -----------------------------------------------------------------------


def _agents(state: SimState, dialect: Dialect) -> Response:
    with state.lock:
        state.engine.advance(time.time())
        items = [
            extra(
                {
                    "id": agent.spec.id,
                    "name": agent.spec.name,
                    "status": agent.status,
                    "hosted": agent.spec.hosted,
                },
                dialect,
            )
            for agent in state.engine.agents
        ]
    return json_response(200, envelope(items, len(items), dialect))


def _create_agent(state: SimState, raw: bytes, dialect: Dialect) -> Response:
    """``POST /ai/agents``: a real server creates an agent (seen); so does this one."""
    body = json_object(raw) or {}
    name = body.get("name")
    with state.lock:
        agent = state.engine.create_agent(name if isinstance(name, str) else "", time.time())
    record = {"id": agent.spec.id, "name": agent.spec.name, "status": agent.status}
    return json_response(201, extra(record, dialect))


def _models(state: SimState, dialect: Dialect) -> Response:
    items = []
    for number, model in enumerate(state.scenario.models, start=1):
        record: dict[str, Any] = {"id": model.id, "name": model.name}
        if dialect.models_modeluuid:
            record = {"id": number, "name": model.name, "modeluuid": model.id}
        items.append(extra(record, dialect))
    return json_response(200, envelope(items, len(items), dialect))


def _runlogs(state: SimState, raw_id: str, query: dict[str, str], dialect: Dialect) -> Response:
    errors, limit, offset = paging(query)
    try:
        run_id = int(raw_id)
    except ValueError:
        errors.insert(0, int_error(["path", "run_id"], raw_id))
    if errors:
        return detail(422, errors)
    with state.lock:
        now = time.time()
        state.engine.advance(now)
        run = state.engine.find_run(run_id)
        if run is None:
            return detail(404, f"Run {run_id} not found")
        entries = with_images(run, state.engine.log_entries(run, now), now)
    rendered = render_log(entries, run_id=run_id, dialect=dialect, offset=offset, limit=limit)
    answer: dict[str, Any] = {
        dialect.envelope or "items": [extra(item, dialect) for item in rendered],
        "total_count": len(entries),
    }
    if dialect.log_shape == "v2":
        answer["date_as_of"] = format_time(now, dialect.time_format)
    return json_response(200, extra(answer, dialect))


def _screenshot(state: SimState, raw_id: str) -> Response:
    """E12: a run's screenshot (PNG), with the ``screenshot_fault`` fault."""
    from pytest_dai.simulator.faults import copy_faults

    with state.lock:
        now = time.time()
        state.engine.advance(now)
        run_id = run_of_image(raw_id)
        run = None if run_id is None else state.engine.find_run(run_id)
        faults = copy_faults(state.faults)
        status, body, kind = screenshot_answer(run, raw_id, faults, now)
    if faults.screenshot_fault == "slow":
        time.sleep(faults.screenshot_delay)
    return Response(status, body, kind)
