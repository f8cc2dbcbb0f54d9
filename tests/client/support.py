"""Fakes and helpers of the DAI wire client tests (fixtures are in ``conftest.py``).

Two kinds of fake server:

- ``rsps``: the ``responses`` library (no sockets). It honours the adapter's urllib3 ``Retry``
  for statuses (``responses._on_request`` calls ``is_retry``/``increment``) but never sleeps
  and cannot time out, so it is used for everything except timing and timeouts.
- ``server``: a tiny scripted ``http.server`` on 127.0.0.1:0, for the retry tests that need a
  real socket (``Retry-After`` sleeps, read timeouts, connection refused).

Every fake server issues tokens that contain :data:`TOKEN`, and every client is built with the
secret :data:`SECRET`, so :func:`assert_no_secret` can grep for both.
"""

from __future__ import annotations

import itertools
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests
import responses

from pytest_dai.client.credentials import Credentials
from pytest_dai.client.errors import DAIError

BASE = "http://dai.test:8000"
TOKEN_PATH = "/auth/realms/eggplant/protocol/openid-connect/token"
TOKEN_URL = BASE + TOKEN_PATH
CLIENT_ID = "pytest-dai-ci"
#: The client secret of every test client; must never show in a message or a repr.
SECRET = "s3cr3t-XYZ"
#: Every access token the fake servers issue starts with this; never shown either.
TOKEN = "tok-ABC123"

MODELS = BASE + "/ai/models"
AGENTS = BASE + "/ai/agents"
RUNS = BASE + "/ai/runs"
EXECUTIONS = BASE + "/execution_service/api/v1/executions"
RUNLOGS = BASE + "/ai/runlogs"

# Every object a client test shows to a user passes through here (see ``assert_no_secret``);
# the autouse fixture ``seen_objects_stay_clean`` checks them once more when the test ends.
SEEN: list[object] = []


def assert_no_secret(*objs: object) -> None:
    """``str()`` and ``repr()`` of each object hold neither the secret nor any token."""
    for obj in objs:
        SEEN.append(obj)
        texts = [str(obj), repr(obj)]
        if isinstance(obj, BaseException):
            texts += [str(arg) for arg in obj.args]
        for text in texts:
            assert SECRET not in text, f"client secret leaked in {type(obj).__name__}: {text}"
            assert TOKEN not in text, f"access token leaked in {type(obj).__name__}: {text}"


def assert_dai_message(exc: BaseException, *needles: str) -> str:
    """A :class:`DAIError` message: one line, no secret, containing every needle."""
    assert isinstance(exc, DAIError), f"{type(exc).__name__}: {exc}"
    text = str(exc)
    assert "\n" not in text, text
    assert "\r" not in text, text
    assert text, "empty message"
    assert text.strip() == text, text
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    assert_no_secret(exc)
    return text


# -- responses-based fake --------------------------------------------------------------------


@dataclass
class TokenIssuer:
    """The fake token endpoint: ``tok-ABC123-1``, ``-2``, ... and what was posted."""

    expires_in: float = 300
    delay: float = 0.0
    forms: list[dict[str, str]] = field(default_factory=list)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issued(self) -> int:
        """How many tokens were handed out."""
        return len(self.forms)

    def next_token(self, form: dict[str, str]) -> str:
        """Record a token request and name the token it gets."""
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.forms.append(form)
            return f"{TOKEN}-{next(self._counter)}"

    def body(self, token: str) -> dict[str, Any]:
        """The Keycloak answer (contract section 1)."""
        return {
            "access_token": token,
            "expires_in": self.expires_in,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": "0b9b7c5e-5b0e-4b53-9c0f-3f1c1a1e2d3c",
            "scope": "profile email",
        }

    def callback(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        """A ``responses`` callback answering the token POST."""
        raw = request.body or ""
        text = raw.decode() if isinstance(raw, bytes) else raw
        form = dict(pair.split("=", 1) for pair in text.split("&") if "=" in pair)
        token = self.next_token(form)
        return 200, {"Content-Type": "application/json"}, json.dumps(self.body(token))


def calls(mock: responses.RequestsMock, method: str, url: str) -> list[requests.PreparedRequest]:
    """The requests ``mock`` saw for ``method`` and ``url`` (query string ignored)."""
    return [
        call.request
        for call in mock.calls
        if call.request.method == method
        and str(call.request.url).split("?", 1)[0] == url.split("?", 1)[0]
    ]


def bearer(request: requests.PreparedRequest) -> str:
    """The token a request carried."""
    return str(request.headers.get("Authorization", "")).removeprefix("Bearer ")


# -- a real scripted HTTP server ---------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer: status, body (dict/list → JSON, str → as is), headers, delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """A request the scripted server received."""

    method: str
    path: str
    at: float
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """``http.server`` on 127.0.0.1:0 answering from per-route scripts.

    ``tls`` is ``(cert file, key file)`` to serve https. ``add(method, path, *replies)``:
    requests to that route get the replies in order, and the last one again and again. The
    token endpoint answers tokens unless scripted otherwise. Unknown routes get 404.
    """

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        self._routes: dict[tuple[str, str], list[Reply]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.seen: list[Seen] = []
        self.tokens = TokenIssuer()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                with outer._lock:
                    outer.seen.append(
                        Seen(self.command, self.path, time.monotonic(), dict(self.headers), body)
                    )
                reply = outer._next(self.command, path, body)
                if reply.delay and outer._stop.wait(reply.delay):
                    return
                payload = reply.body
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    ctype = "application/json"
                else:
                    data = (payload or "").encode()
                    ctype = "text/html" if data.lstrip().startswith(b"<") else "text/plain"
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": ctype, **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout): nothing to answer
                    pass

            do_GET = do_POST = do_DELETE = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            scheme = "https"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        port = self._httpd.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{port}"
        self.token_url = self.url + TOKEN_PATH

    def start(self) -> ScriptedServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; sleeping handlers wake up and answer nothing."""
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, method: str, path: str, *replies: Reply) -> None:
        """Script ``replies`` for ``method path``."""
        with self._lock:
            self._routes[(method.upper(), path)] = list(replies)

    def _next(self, method: str, path: str, body: bytes) -> Reply:
        if method == "POST" and path == TOKEN_PATH:
            with self._lock:
                script = self._routes.get((method, path))
                if script:
                    reply = script.pop(0) if len(script) > 1 else script[0]
                    if reply.status != 200:
                        return reply
            form = dict(pair.split("=", 1) for pair in body.decode().split("&") if "=" in pair)
            return Reply(body=self.tokens.body(self.tokens.next_token(form)))
        with self._lock:
            script = self._routes.get((method, path))
            if not script:
                return Reply(404, {"detail": "Not Found"})
            return script.pop(0) if len(script) > 1 else script[0]

    def requests(self, method: str, path: str) -> list[Seen]:
        """The requests received for ``method path`` (query string ignored)."""
        with self._lock:
            return [s for s in self.seen if s.method == method and urlsplit(s.path).path == path]

    def credentials(self) -> Credentials:
        """Credentials for this server's token endpoint."""
        return Credentials(CLIENT_ID, SECRET, self.token_url)
