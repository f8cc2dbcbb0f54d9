"""Hostile loopback servers for ``test_hostile.py``: a raw socket server whose every answer is
scripted by a function (trickles, endless bodies, redirects, huge or absurd bodies), and a
proxy in front of the simulator that forwards a request and then loses (or withholds) its
answer. Plain ``socket`` and ``http.client``, nothing of the plugin's."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TOKEN = "hostile-T0ken-5b2e77c1d9a0"


@dataclass
class Request:
    """One request a hostile server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


def read_request(conn: socket.socket) -> Request | None:
    """Read one HTTP/1.1 request (headers and a Content-Length body); None on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, path, headers, rest[:length])


def reply(
    conn: socket.socket,
    status: int = 200,
    body: bytes | str | object = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """Send a whole answer (JSON for objects), with Content-Length, and keep the connection."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    head += f"Content-Length: {len(data)}\r\n\r\n"
    conn.sendall(head.encode() + data)


def token_reply(conn: socket.socket) -> None:
    """The token endpoint's usual answer."""
    reply(conn, 200, {"access_token": TOKEN, "expires_in": 300, "token_type": "Bearer"})


Handler = Callable[["RawServer", socket.socket, Request], None]


class RawServer:
    """A socket server on 127.0.0.1 that hands every request to ``handler(server, conn,
    request)``; the handler writes whatever it likes (or nothing). Records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with contextlib.closing(conn), contextlib.suppress(OSError, ValueError):
            while not self.stop.is_set():
                request = read_request(conn)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                self.handler(self, conn, request)

    def seen(self, path_prefix: str = "") -> list[Request]:
        """Requests received whose path starts with ``path_prefix``."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def close(self) -> None:
        """Stop serving; handlers that wait on :attr:`stop` end."""
        self.stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()


def trickle(server: RawServer, conn: socket.socket, data: bytes, every: float) -> None:
    """Send ``data`` one byte every ``every`` seconds (until the client gives up)."""
    for byte in data:
        if server.stop.wait(every):
            return
        conn.sendall(bytes([byte]))


class Proxy:
    """A proxy in front of ``target`` (the simulator): requests are forwarded as they are, and
    answers relayed, except where ``rules`` say otherwise: ``rules[(method, path)]`` is
    ``"drop"`` (forward, then close the connection without answering), ``"hang"`` (forward,
    then never answer) or ``"swallow"`` (do not forward; never answer)."""

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.rules: dict[tuple[str, str], str] = {}
        self.forwarded = threading.Event()
        self.server = RawServer(self._handle)
        self.url = self.server.url

    def _handle(self, server: RawServer, conn: socket.socket, request: Request) -> None:
        path = urlsplit(request.path).path
        rule = self.rules.get((request.method, path))
        if rule == "swallow":
            server.stop.wait(120)
            raise OSError("swallowed")
        status, headers, body = self._forward(request)
        if rule == "drop":
            self.forwarded.set()
            raise OSError("dropped after forwarding")
        if rule == "hang":
            self.forwarded.set()
            server.stop.wait(120)
            raise OSError("hung")
        reply(conn, status, body, headers)

    def _forward(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        upstream = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=30)
        try:
            keep = {k: v for k, v in request.headers.items() if k not in ("host", "connection")}
            upstream.request(request.method, request.path, body=request.body or None, headers=keep)
            answer = upstream.getresponse()
            body = answer.read()
            headers = {
                k: v
                for k, v in answer.getheaders()
                if k.lower() not in ("content-length", "content-type", "connection")
                and not k.lower().startswith("transfer")
            }
            return answer.status, headers, body
        finally:
            upstream.close()

    def close(self) -> None:
        """Stop the proxy."""
        self.server.close()
