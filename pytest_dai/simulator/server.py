"""The DAI simulator: a real HTTP server on loopback implementing ``spec/dai-api.md``.

Standard library only: :class:`http.server.ThreadingHTTPServer` speaking HTTP/1.1 (connections
are kept alive; every answer with a body carries ``Content-Length``). The state lives in an
:class:`~pytest_dai.simulator.engine.Engine` and is brought up to date at every request and
every Python-side call, so no background thread is needed besides the server's own.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import errno
import http
import json
import random
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

from pytest_dai.simulator.auth_v2 import V2_AUTH_PATH, v2_token
from pytest_dai.simulator.engine import Engine, NotFound
from pytest_dai.simulator.faults import (
    DIALECTS,
    Dialect,
    Faults,
    copy_dialect,
    copy_faults,
    dialect_preset,
    validate_dialect,
    validate_faults,
)
from pytest_dai.simulator.runlog import format_time, render_log
from pytest_dai.simulator.scenario import Scenario
from pytest_dai.simulator.screenshots import (
    SCREENSHOT_RE,
    failing_image_id,
    run_of_image,
    screenshot_answer,
    with_images,
)
from pytest_dai.simulator.test_config_routes import route as test_config_route
from pytest_dai.simulator.test_configs import TestConfigState

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from types import TracebackType

    from pytest_dai.simulator.engine import Execution

EXECUTIONS_PATH = "/execution_service/api/v1/executions"
RUNS_PATH = "/ai/runs"
AGENTS_PATH = "/ai/agents"
MODELS_PATH = "/ai/models"
RUNLOGS_PATH = "/ai/runlogs"
LOG_LIMIT = 100_000
MAX_BODY = 10 * 1024 * 1024

_TOKEN_RE = re.compile(r"^/auth/realms/([^/]+)/protocol/openid-connect/token$")
_EXECUTION_RE = re.compile(r"^/execution_service/api/v1/executions/([^/]+)$")
_RUNLOG_RE = re.compile(r"^/ai/runlogs/([^/]+)$")


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request the simulator received.

    ``status`` is the status answered (0: the connection was dropped by a fault), ``time`` the
    arrival time (``time.time()``), ``body`` the JSON body when it was a JSON object.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    time: float
    body: dict[str, Any] | None = None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> _Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return _Response(status, body, "application/json", list(headers or []))


def _detail(status: int, detail: Any, headers: list[tuple[str, str]] | None = None) -> _Response:
    return _json_response(status, {"detail": detail}, headers)


def iso_time(timestamp: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``, e.g. ``2026-11-28T10:00:00.250Z``."""
    return format_time(timestamp, "iso")


def _html_page(status: int) -> bytes:
    phrase = _phrase(status)
    padding = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" * 6
    return (
        f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        f"</body>\r\n</html>\r\n{padding}"
    ).encode()


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _format_seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class _BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


class _Handler(BaseHTTPRequestHandler):
    """One connection; every request goes to :meth:`DAISimulator._serve`."""

    protocol_version = "HTTP/1.1"
    server_version = "DAISimulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: headers and body leave in one write
    timeout = 120.0  # idle keep-alive connections are closed after this

    def setup(self) -> None:
        super().setup()
        self._http_server().track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._http_server().track(self.connection, add=False)

    def _http_server(self) -> _HTTPServer:
        return cast("_HTTPServer", self.server)

    def do_GET(self) -> None:
        """Serve a GET."""
        self._http_server().sim._serve(self, "GET")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._http_server().sim._serve(self, "POST")

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._http_server().sim._serve(self, "DELETE")

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._http_server().sim._serve(self, "PUT")

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self._http_server().sim._serve(self, "PATCH")

    def do_HEAD(self) -> None:
        """Serve a HEAD."""
        self._http_server().sim._serve(self, "HEAD")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log is :meth:`DAISimulator.request_log`."""

    def read_body(self) -> bytes:
        """The request body (``Content-Length`` or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    length = int(line.split(b";", 1)[0].strip() or b"x", 16)
                except ValueError:
                    raise _BadRequest(400, "Invalid chunked body") from None
                if length == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    raise _BadRequest(413, "Request body too large")
                chunks.append(self.rfile.read(length))
                self.rfile.readline(1024)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise _BadRequest(400, "Invalid Content-Length") from None
        if length < 0:
            raise _BadRequest(400, "Invalid Content-Length")
        if length > MAX_BODY:
            raise _BadRequest(413, "Request body too large")
        return self.rfile.read(length) if length else b""

    def drop(self) -> None:
        """Close the connection without an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def write(self, response: _Response, *, head: bool = False) -> None:
        """Send ``response`` (one write, thanks to the buffered ``wfile``)."""
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        has_body = response.status not in (204, 304) and response.status >= 200
        if has_body:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if has_body and not head:
            self.wfile.write(response.body)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sim: DAISimulator) -> None:
        self.sim = sim
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class DAISimulator:
    """A simulated Eggplant DAI server on loopback.

    ``scenario``: ``None`` (the packaged default), a JSON file path, a dict or a
    :class:`Scenario`. ``port=0`` picks a free port; :meth:`stop` then :meth:`start` restarts on
    the same port with all state kept. ``faults`` and ``dialect`` (a :class:`Dialect` or a preset
    name from ``DIALECTS``) override the scenario's. ``on_request`` is called with the
    :class:`RequestRecord` of every request once it is answered (the CLI's ``--verbose``).
    """

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        dialect: Dialect | str | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.scenario = Scenario.load(scenario)
        self.on_request = on_request
        self.host = host
        self._port = port
        self._engine = Engine(self.scenario)
        self._test_configs = TestConfigState(self.scenario.test_configs)
        self._lock = self._engine.lock
        self._initial_faults = copy_faults(faults if faults is not None else self.scenario.faults)
        self._initial_dialect = self._as_dialect(
            dialect if dialect is not None else self.scenario.dialect
        )
        self._faults = copy_faults(self._initial_faults)
        self._dialect = copy_dialect(self._initial_dialect)
        self._rng = random.Random(self._faults.seed)
        self._log: deque[RequestRecord] = deque(maxlen=LOG_LIMIT)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> DAISimulator:
        """Start serving (a no-op when already serving); returns ``self``."""
        with self._run_lock:
            if self._server is not None:
                return self
            server = self._bind()
            self._port = int(server.server_address[1])
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"dai-simulator-{self._port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
            thread.start()
        return self

    def _bind(self) -> _HTTPServer:
        deadline = time.monotonic() + 5.0
        while True:
            try:
                return _HTTPServer((self.host, self._port), self)
            except OSError as exc:
                if self._port == 0 or exc.errno != errno.EADDRINUSE:
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop serving and close every open connection; idempotent. State is kept."""
        with self._run_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.shutdown()
            server.close_connections()
            server.server_close()
            if thread is not None:
                thread.join(timeout=5.0)

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def __enter__(self) -> DAISimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port else "not started"
        return f"<DAISimulator {where} realm={self.realm!r}>"

    # -- addresses and credentials -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (known once started)."""
        if not self._port:
            raise RuntimeError("the DAI simulator has not been started yet: call start()")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def realm(self) -> str:
        """The Keycloak realm."""
        return self.scenario.realm

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.url}/auth/realms/{self.realm}/protocol/openid-connect/token"

    @property
    def v2_auth_url(self) -> str:
        """The second token scheme's endpoint (``dai_auth = v2``)."""
        return f"{self.url}{V2_AUTH_PATH}"

    @property
    def client_id(self) -> str:
        """The accepted client id."""
        return self.scenario.client_id

    @property
    def client_secret(self) -> str:
        """The accepted client secret."""
        return self.scenario.client_secret

    # -- faults and dialect --------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The live :class:`Faults`; changing its fields takes effect at the next request."""
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        with self._lock:
            self._faults = copy_faults(value)
            self._rng = random.Random(self._faults.seed)

    def set_faults(self, **fields: Any) -> Faults:
        """Replace the named fault fields at once (``ValueError`` on a bad name or value)."""
        checked = validate_faults(fields)
        with self._lock:
            self._faults = dataclasses.replace(self._faults, **checked)
            if "seed" in checked:
                self._rng = random.Random(self._faults.seed)
            return self._faults

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults = Faults()

    def reset(self) -> None:
        """Put back the faults and the dialect the simulator was created with (the scenario's,
        or the ``faults`` and ``dialect`` arguments). Runs, tokens and the request log stay.
        The ``dai_simulator`` fixture calls this after every test that used it."""
        with self._lock:
            self._faults = copy_faults(self._initial_faults)
            self._rng = random.Random(self._faults.seed)
            self._dialect = copy_dialect(self._initial_dialect)

    @property
    def dialect(self) -> Dialect:
        """The live :class:`Dialect`."""
        return self._dialect

    @dialect.setter
    def dialect(self, value: Dialect | str) -> None:
        with self._lock:
            self._dialect = self._as_dialect(value)

    def set_dialect(self, **fields: Any) -> Dialect:
        """Replace the named dialect fields at once (``ValueError`` on a bad name or value)."""
        checked = validate_dialect(fields)
        with self._lock:
            self._dialect = dataclasses.replace(self._dialect, **checked)
            return self._dialect

    @staticmethod
    def _as_dialect(value: Dialect | str) -> Dialect:
        if isinstance(value, str):
            if value not in DIALECTS:
                raise ValueError(
                    f"unknown dialect preset {value!r} (expected one of: {', '.join(DIALECTS)})"
                )
            return dialect_preset(value)
        return copy_dialect(value)

    # -- Python-side views (never affected by faults) ------------------------------------------

    def request_log(self) -> list[RequestRecord]:
        """A copy of the request log (the last 100,000 requests)."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget the logged requests."""
        with self._lock:
            self._log.clear()

    def issued_tokens(self) -> list[str]:
        """Every access token issued so far."""
        with self._lock:
            return list(self._engine.issued)

    def token_requests(self) -> int:
        """Requests that reached the token endpoint (not counting ones failed by a fault)."""
        with self._lock:
            return self._engine.token_requests

    def expire_tokens(self) -> None:
        """Make every token issued so far expired, as if their lifetime had run out."""
        with self._lock:
            now = time.time()
            for token in self._engine.tokens:
                self._engine.tokens[token] = min(self._engine.tokens[token], now)

    def executions(self) -> list[dict[str, Any]]:
        """A snapshot of every execution, oldest first (canonical status words)."""
        with self._lock:
            now = time.time()
            self._engine.advance(now)
            return [self._engine.snapshot(ex, now) for ex in self._engine.executions]

    def execution(self, execution_id: str | int) -> dict[str, Any] | None:
        """A snapshot of one execution by id (uuid or number), or ``None``."""
        with self._lock:
            now = time.time()
            self._engine.advance(now)
            found = self._engine.find(str(execution_id))
            return None if found is None else self._engine.snapshot(found, now)

    def failing_screenshot(self, execution_id: str | int) -> tuple[str, bytes] | None:
        """``(image id, PNG)`` of the screenshot the failing action of a finished run saw (the
        frame a client finds by walking back from the failing log entry), or ``None``."""
        with self._lock:
            now = time.time()
            self._engine.advance(now)
            found = self._engine.find(str(execution_id))
            image = None if found is None else failing_image_id(found)
            if found is None or image is None:
                return None
            return image, screenshot_answer(found, image, Faults(), now)[1]

    def running_count(self) -> int:
        """Executions not yet final (queued or running)."""
        with self._lock:
            self._engine.advance(time.time())
            return self._engine.running_count()

    def agents(self) -> list[dict[str, Any]]:
        """A snapshot of every agent: id, name, hosted, online, status."""
        with self._lock:
            self._engine.advance(time.time())
            return [
                {
                    "id": agent.spec.id,
                    "name": agent.spec.name,
                    "hosted": agent.spec.hosted,
                    "online": agent.online,
                    "status": agent.status,
                    "queued": len(agent.queue),
                }
                for agent in self._engine.agents
            ]

    def created_agents(self) -> list[str]:
        """Ids of the agents created by ``POST /ai/agents`` (a client should never create one)."""
        with self._lock:
            return list(self._engine.created_agents)

    def set_agent_online(self, agent_id: str, online: bool = True) -> None:
        """Bring an agent online (its queue starts) or take it offline (``KeyError``)."""
        with self._lock:
            self._engine.set_agent_online(agent_id, online, time.time())

    def abort_requests(self, execution_id: str | None = None) -> list[RequestRecord]:
        """The abort (E3 ``DELETE``) requests received, optionally only for one execution."""
        prefix = EXECUTIONS_PATH + "/"
        with self._lock:
            records = [r for r in self._log if r.method == "DELETE" and r.path.startswith(prefix)]
            if execution_id is None:
                return records
            keys = {str(execution_id)}
            found = self._engine.find(str(execution_id))
            if found is not None:
                keys |= {found.uuid, str(found.number)}
            return [r for r in records if r.path[len(prefix) :] in keys]

    def wait_for(
        self,
        predicate: Callable[[DAISimulator], bool],
        timeout: float = 10.0,
        interval: float = 0.02,
    ) -> bool:
        """Poll ``predicate(self)`` until it is true (``True``) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # -- HTTP ----------------------------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str) -> None:
        arrived = time.time()
        split = urlsplit(handler.path)
        path = unquote(split.path) or "/"
        if len(path) > 1:
            path = path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        raw = b""
        response: _Response | None = None
        try:
            raw = handler.read_body()
        except _BadRequest as exc:
            handler.close_connection = True
            response = _detail(exc.status, exc.detail)
        json_body = _json_object(raw)

        with self._lock:
            latency = self._faults.latency_for(path)
        if latency > 0:
            time.sleep(latency)
        if response is None:
            with self._lock:
                action = self._fault_action(path)
            if action == "drop":
                handler.drop()
                self._record(method, path, query, 0, arrived, json_body)
                return
            if isinstance(action, int):
                response = self._fault_response(action)
            else:
                try:
                    response = self._route(handler, method, path, query, raw)
                except Exception:
                    traceback.print_exc(file=sys.stderr)
                    response = _detail(500, "Internal simulator error")
        with self._lock:
            dialect = self._dialect
        if response.status >= 400 and dialect.html_errors:
            response = _Response(
                response.status,
                _html_page(response.status),
                "text/html",
                [h for h in response.headers if h[0].lower() != "content-type"],
            )
        try:
            handler.write(response, head=method == "HEAD")
        except OSError:
            handler.close_connection = True
        self._record(method, path, query, response.status, arrived, json_body)

    def _record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        status: int,
        arrived: float,
        body: dict[str, Any] | None,
    ) -> None:
        record = RequestRecord(method, path, query, status, arrived, body)
        with self._lock:
            self._log.append(record)
        if self.on_request is not None:
            self.on_request(record)

    def _fault_action(self, path: str) -> str | int | None:
        """Decide (lock held) whether this request is dropped or failed."""
        faults = self._faults
        if not faults.in_scope(path):
            return None
        if faults.drop_next > 0:
            faults.drop_next -= 1
            return "drop"
        if faults.drop_rate > 0 and self._rng.random() < faults.drop_rate:
            return "drop"
        if faults.burst > 0:
            faults.burst -= 1
            return faults.burst_status
        if faults.error_rate > 0 and self._rng.random() < faults.error_rate:
            return self._rng.choice(faults.error_statuses)
        return None

    def _fault_response(self, status: int) -> _Response:
        headers: list[tuple[str, str]] = []
        retry_after = self._faults.retry_after
        if retry_after is not None and status in (429, 503):
            headers.append(("Retry-After", str(_format_seconds(retry_after))))
        return _detail(status, f"Simulated fault: {status} {_phrase(status)}", headers)

    def _route(
        self, handler: _Handler, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> _Response:
        match = _TOKEN_RE.match(path)
        if match:
            if method != "POST":
                return _method_not_allowed("POST")
            return self._token(match.group(1), raw, handler.headers.get("Authorization"))
        if path == V2_AUTH_PATH:
            return v2_token(self, method, raw)
        answered = test_config_route(
            self, method, path, query, raw, handler.headers.get("Authorization")
        )
        if answered is not None:
            return answered

        with self._lock:
            dialect = self._dialect
        allowed: tuple[str, ...]
        if path == EXECUTIONS_PATH:
            allowed = ("POST",)
        elif _EXECUTION_RE.match(path):
            allowed = ("DELETE",)
        elif (
            path in (RUNS_PATH, MODELS_PATH) or _RUNLOG_RE.match(path) or SCREENSHOT_RE.match(path)
        ):
            allowed = ("GET",)
        elif path == AGENTS_PATH:
            # POST creates an agent, as on a real server (seen); GET lists them.
            allowed = ("POST",) if dialect.agents_get_405 else ("GET", "POST")
        else:
            return _detail(404, "Not Found")
        if method not in allowed:
            return _method_not_allowed(*allowed)

        problem = self._auth_problem(handler.headers.get("Authorization"))
        if problem is not None:
            return _detail(401, problem, [("WWW-Authenticate", "Bearer")])

        if path == EXECUTIONS_PATH:
            return self._start_execution(raw, dialect)
        match = _EXECUTION_RE.match(path)
        if match:
            return self._abort(match.group(1))
        if path == RUNS_PATH:
            return self._runs(query, dialect)
        if path == AGENTS_PATH:
            if method == "POST":
                return self._create_agent(raw, dialect)
            return self._agents(dialect)
        if path == MODELS_PATH:
            return self._models(dialect)
        match = SCREENSHOT_RE.match(path)
        if match:
            return self._screenshot(match.group(1))
        match = _RUNLOG_RE.match(path)
        assert match is not None
        return self._runlogs(match.group(1), query, dialect)

    # -- token (contract section 1) ------------------------------------------------------------

    def _token(self, realm: str, raw: bytes, authorization: str | None) -> _Response:
        with self._lock:
            self._engine.token_requests += 1
            dialect = self._dialect
            faults = self._faults
        if realm != self.scenario.realm:
            return _json_response(404, {"error": "Realm does not exist"})
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        splits = _basic_credentials(authorization)
        if splits and "client_id" not in form and "client_secret" not in form:
            expected = (self.client_id, self.client_secret)
            form["client_id"], form["client_secret"] = next(
                (split for split in splits if split == expected), splits[0]
            )
        for name in ("grant_type", "client_id", "client_secret"):
            if not form.get(name):
                return _keycloak_error(400, "invalid_request", f"Missing form parameter: {name}")
        if form["grant_type"] != "client_credentials":
            return _keycloak_error(400, "unsupported_grant_type", "Unsupported grant_type")
        if form["client_id"] != self.client_id or form["client_secret"] != self.client_secret:
            return _keycloak_error(
                401, "unauthorized_client", "Invalid client or Invalid client credentials"
            )
        if faults.licence_exhausted:
            return _keycloak_error(
                403, "access_denied", "Not enough available concurrent user licenses"
            )
        lifetime = faults.token_lifetime or self.scenario.token_lifetime
        with self._lock:
            token = self._engine.issue_token(time.time(), lifetime)
        payload: dict[str, Any] = {
            "access_token": token,
            "expires_in": _format_seconds(lifetime),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "profile email",
        }
        return _json_response(
            200,
            _extra(payload, dialect),
            [("Cache-Control", "no-store"), ("Pragma", "no-cache")],
        )

    def _auth_problem(self, authorization: str | None) -> str | None:
        token = None
        if authorization:
            parts = authorization.split(None, 1)
            if len(parts) == 2 and parts[0].lower() == "bearer":
                token = parts[1].strip()
        with self._lock:
            return self._engine.token_problem(token, time.time())

    # -- E1 and E3 -----------------------------------------------------------------------------

    def _start_execution(self, raw: bytes, dialect: Dialect) -> _Response:
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            position = getattr(exc, "pos", 0) or 0
            return _detail(
                422,
                [
                    {
                        "type": "json_invalid",
                        "loc": ["body", position],
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": getattr(exc, "msg", str(exc))},
                    }
                ],
            )
        errors, options = _check_start_body(data)
        if errors:
            return _detail(422, errors)
        with self._lock:
            try:
                execution = self._engine.start(faults=self._faults, now=time.time(), **options)
            except NotFound as exc:
                return _detail(404, exc.detail)
        payload = {
            dialect.id_field: _execution_id(execution, dialect),
            "model_id": execution.model.id,
            "status": dialect.status_word("Queued"),
        }
        return _json_response(dialect.start_status, _extra(payload, dialect))

    def _abort(self, key: str) -> _Response:
        with self._lock:
            try:
                self._engine.abort(key, time.time())
            except NotFound as exc:
                return _detail(404, exc.detail)
        return _Response(204)

    # -- E2, E4, E5, E6 ------------------------------------------------------------------------

    def _runs(self, query: dict[str, str], dialect: Dialect) -> _Response:
        errors, limit, offset = _paging(query)
        if errors:
            return _detail(422, errors)
        wanted = query.get("execution_id") or query.get("execution_status_id")
        with self._lock:
            now = time.time()
            self._engine.advance(now)
            executions = [ex for ex in self._engine.executions if now >= ex.hidden_until]
            if wanted is not None and not dialect.runs_ignore_filter:
                executions = [ex for ex in executions if wanted in (ex.uuid, str(ex.number))]
            executions.reverse()  # newest first
            total = len(executions)
            if limit is None:
                limit = dialect.runs_page_size
            page = executions[offset:] if limit is None else executions[offset : offset + limit]
            records = [self._run_record(ex, now, dialect) for ex in page]
        if not records and dialect.runs_404_when_empty:
            return _detail(404, "No runs found")
        return _json_response(200, _envelope(records, total, dialect))

    def _run_record(self, execution: Execution, now: float, dialect: Dialect) -> dict[str, Any]:
        total, done, failed = execution.counts(now)
        record: dict[str, Any] = {
            "id": execution.run_id,
            dialect.execution_id_key: _execution_id(execution, dialect),
            "model_id": execution.model.id,
            "modelname": execution.model.name,
            "agentname": execution.agent.spec.name if execution.agent is not None else None,
            "initiator": "api",
            "status": dialect.status_word(execution.status),
            "starttime": format_time(execution.started_at, dialect.time_format),
            "endtime": format_time(execution.ended_at, dialect.time_format),
            "steps_total": total,
            "steps_done": done,
            "steps_failed": failed,
        }
        if execution.test_case is not None:
            record["test_case_id"] = execution.test_case.id
            record["testcasename"] = execution.test_case.name
        if execution.rerun_id is not None:
            record["rerun_id"] = execution.rerun_id
        return _extra(record, dialect)

    def _agents(self, dialect: Dialect) -> _Response:
        with self._lock:
            self._engine.advance(time.time())
            items = [
                _extra(
                    {
                        "id": agent.spec.id,
                        "name": agent.spec.name,
                        "status": agent.status,
                        "hosted": agent.spec.hosted,
                    },
                    dialect,
                )
                for agent in self._engine.agents
            ]
        return _json_response(200, _envelope(items, len(items), dialect))

    def _create_agent(self, raw: bytes, dialect: Dialect) -> _Response:
        """``POST /ai/agents``: a real server creates an agent (seen); so does this one."""
        body = _json_object(raw) or {}
        name = body.get("name")
        with self._lock:
            agent = self._engine.create_agent(name if isinstance(name, str) else "", time.time())
        record = {"id": agent.spec.id, "name": agent.spec.name, "status": agent.status}
        return _json_response(201, _extra(record, dialect))

    def _models(self, dialect: Dialect) -> _Response:
        items = []
        for number, model in enumerate(self.scenario.models, start=1):
            record: dict[str, Any] = {"id": model.id, "name": model.name}
            if dialect.models_modeluuid:
                record = {"id": number, "name": model.name, "modeluuid": model.id}
            items.append(_extra(record, dialect))
        return _json_response(200, _envelope(items, len(items), dialect))

    def _runlogs(self, raw_id: str, query: dict[str, str], dialect: Dialect) -> _Response:
        errors, limit, offset = _paging(query)
        try:
            run_id = int(raw_id)
        except ValueError:
            errors.insert(0, _int_error(["path", "run_id"], raw_id))
        if errors:
            return _detail(422, errors)
        with self._lock:
            now = time.time()
            self._engine.advance(now)
            execution = self._engine.find_run(run_id)
            if execution is None:
                return _detail(404, f"Run {run_id} not found")
            entries = with_images(execution, self._engine.log_entries(execution, now), now)
        total = len(entries)
        items = [
            _extra(item, dialect)
            for item in render_log(
                entries, run_id=run_id, dialect=dialect, offset=offset, limit=limit
            )
        ]
        envelope: dict[str, Any] = {dialect.envelope or "items": items, "total_count": total}
        if dialect.log_shape == "v2":
            envelope["date_as_of"] = format_time(now, dialect.time_format)
        return _json_response(200, _extra(envelope, dialect))

    def _screenshot(self, raw_id: str) -> _Response:
        """E12: a run's screenshot (PNG), with the ``screenshot_fault`` fault."""
        with self._lock:
            now = time.time()
            self._engine.advance(now)
            run_id = run_of_image(raw_id)
            execution = None if run_id is None else self._engine.find_run(run_id)
            faults = copy_faults(self._faults)
            status, body, kind = screenshot_answer(execution, raw_id, faults, now)
        if faults.screenshot_fault == "slow":
            time.sleep(faults.screenshot_delay)
        return _Response(status, body, kind)


# -- helpers ------------------------------------------------------------------------------------


def _json_object(raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _method_not_allowed(*allowed: str) -> _Response:
    return _detail(405, "Method Not Allowed", [("Allow", ", ".join(allowed))])


def _keycloak_error(status: int, error: str, description: str) -> _Response:
    return _json_response(status, {"error": error, "error_description": description})


def _basic_credentials(authorization: str | None) -> list[tuple[str, str]]:
    """Client id and secret from HTTP Basic auth: the ways to split them at a colon.

    RFC 6749 has the client form-encode both (a colon in the id becomes ``%3A``); clients that
    do not are tolerated by also trying the last colon.
    """
    if not authorization:
        return []
    parts = authorization.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return []
    try:
        decoded = base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return []
    splits = []
    for client_id, sep, secret in (decoded.partition(":"), decoded.rpartition(":")):
        if sep:
            splits.append((unquote_plus(client_id), unquote_plus(secret)))
    return splits


def _execution_id(execution: Execution, dialect: Dialect) -> str | int:
    return execution.number if dialect.id_as_number else execution.uuid


_EXTRA_FIELDS: dict[str, Any] = {
    "x_simulator_revision": 7,
    "_links": {"self": {"href": "/not/a/real/link"}},
    "tags": ["unknown", "fields"],
}


def _extra(payload: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    if dialect.extra_fields:
        for key, value in _EXTRA_FIELDS.items():
            payload.setdefault(key, json.loads(json.dumps(value)))
    return payload


def _envelope(items: list[dict[str, Any]], total: int, dialect: Dialect) -> Any:
    if dialect.envelope is None:
        return items
    return _extra({dialect.envelope: items, "total_count": total}, dialect)


def _int_error(loc: list[Any], value: Any) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": loc,
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


def _paging(query: dict[str, str]) -> tuple[list[dict[str, Any]], int | None, int]:
    errors: list[dict[str, Any]] = []
    values: dict[str, int | None] = {"limit": None, "offset": 0}
    for name in ("limit", "offset"):
        raw = query.get(name)
        if raw is None or raw == "":
            continue
        try:
            number = int(raw)
        except ValueError:
            errors.append(_int_error(["query", name], raw))
            continue
        if number < 0:
            errors.append(
                {
                    "type": "greater_than_equal",
                    "loc": ["query", name],
                    "msg": "Input should be greater than or equal to 0",
                    "input": raw,
                    "ctx": {"ge": 0},
                }
            )
            continue
        values[name] = number
    return errors, values["limit"], values["offset"] or 0


def _check_start_body(data: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """FastAPI-style validation of the E1 body; returns (errors, engine.start options)."""
    errors: list[dict[str, Any]] = []

    def error(loc: list[Any], kind: str, msg: str, value: Any) -> None:
        errors.append({"type": kind, "loc": ["body", *loc], "msg": msg, "input": value})

    if not isinstance(data, dict):
        error(
            [],
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
            data,
        )
        return errors, {}
    options: dict[str, Any] = {
        "model_id": None,
        "agent_id": None,
        "test_case_id": None,
        "rerun_id": None,
        "step_pause_time": 0.0,
        "script": None,
    }
    if "execution_type" not in data:
        error(["execution_type"], "missing", "Field required", data)
    elif data["execution_type"] != "executing":
        error(
            ["execution_type"],
            "literal_error",
            "Input should be 'executing'",
            data["execution_type"],
        )
    if all(data.get(name) is None for name in ("model_id", "rerun_id", "script")):
        # contract 2.1: at least one of model_id, rerun_id or script
        error(["model_id"], "missing", "Field required", data)
    elif data.get("model_id") is None:
        pass
    elif not isinstance(data["model_id"], str):
        error(["model_id"], "string_type", "Input should be a valid string", data["model_id"])
    else:
        options["model_id"] = data["model_id"]
    agent = data.get("agent")
    if isinstance(agent, dict):
        if "agent_id" not in agent:
            error(["agent", "agent_id"], "missing", "Field required", agent)
        elif not isinstance(agent["agent_id"], str):
            error(
                ["agent", "agent_id"],
                "string_type",
                "Input should be a valid string",
                agent["agent_id"],
            )
        else:
            options["agent_id"] = agent["agent_id"]
        hosted = agent.get("is_hosted_agent")
        if hosted is not None and not isinstance(hosted, bool):
            error(
                ["agent", "is_hosted_agent"], "bool_type", "Input should be a valid boolean", hosted
            )
    elif agent is not None:
        error(
            ["agent"],
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
            agent,
        )
    for name in ("test_case_id", "rerun_id"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            options[name] = value
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            options[name] = int(value)
        else:
            error([name], "int_type", "Input should be a valid integer", value)
    sut = data.get("sut")
    if isinstance(sut, dict):
        if "sut_id" in sut and not isinstance(sut["sut_id"], str):
            error(["sut", "sut_id"], "string_type", "Input should be a valid string", sut["sut_id"])
        criteria = sut.get("criteria")
        if criteria is not None and (
            not isinstance(criteria, list) or not all(isinstance(c, str) for c in criteria)
        ):
            error(
                ["sut", "criteria"],
                "list_type",
                "Input should be a valid list of strings",
                criteria,
            )
    elif sut is not None:
        error(
            ["sut"],
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
            sut,
        )
    _check_pause(data.get("step_pause_time"), error, options)
    _check_script_and_asset(data, error, options)
    return errors, options


def _check_pause(pause: Any, error: Any, options: dict[str, Any]) -> None:
    """``step_pause_time``: an integer number of seconds >= 0 (doc)."""
    if pause is None:
        return
    if isinstance(pause, float) and not isinstance(pause, bool) and not pause.is_integer():
        msg = "Input should be a valid integer, got a number with a fractional part"
        error(["step_pause_time"], "int_from_float", msg, pause)
    elif isinstance(pause, bool) or not isinstance(pause, (int, float)):
        error(["step_pause_time"], "int_type", "Input should be a valid integer", pause)
    elif pause < 0:
        msg = "Input should be greater than or equal to 0"
        error(["step_pause_time"], "greater_than_equal", msg, pause)
    else:
        options["step_pause_time"] = float(pause)


def _check_script_and_asset(data: dict[str, Any], error: Any, options: dict[str, Any]) -> None:
    """``script`` (a string) and ``asset`` (null, or an object of strings)."""
    script = data.get("script")
    if script is not None:
        if isinstance(script, str) and script.strip():
            options["script"] = script
        else:
            error(["script"], "string_type", "Input should be a valid string", script)
    asset = data.get("asset")
    if asset is None:
        return
    if not isinstance(asset, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        error(["asset"], "model_attributes_type", msg, asset)
        return
    for key in ("asset_version_id", "asset_path"):
        if key in asset and not isinstance(asset[key], str):
            error(["asset", key], "string_type", "Input should be a valid string", asset[key])
