"""The HTTP transport of the DAI simulator: a threading HTTP/1.1 server on loopback.

Standard library only (:class:`http.server.ThreadingHTTPServer`): connections are kept alive,
every answer with a body carries ``Content-Length``, and :meth:`Listener.stop` closes the open
connections too. What to answer is not decided here: every request goes to the ``serve``
callback given to :class:`Listener` (the routes).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.simulator.answers import Response

    Serve = Callable[["Handler", str], None]

__all__ = ["MAX_BODY", "BadRequest", "Handler", "Listener"]

MAX_BODY = 10 * 1024 * 1024


class BadRequest(Exception):
    """A request body that cannot be read: answered with ``status`` and ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


class Handler(BaseHTTPRequestHandler):
    """One connection; every request goes to the server's ``serve`` callback."""

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

    def _serve(self) -> None:
        """Serve the request, whatever its method (``self.command``)."""
        self._http_server().serve(self, self.command)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log is ``DAISimulator.request_log()``."""

    def read_body(self) -> bytes:
        """The request body (``Content-Length`` or chunked); :class:`BadRequest` if unreadable."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise BadRequest(400, "Invalid Content-Length") from None
        if length < 0:
            raise BadRequest(400, "Invalid Content-Length")
        if length > MAX_BODY:
            raise BadRequest(413, "Request body too large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                length = int(line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                raise BadRequest(400, "Invalid chunked body") from None
            if length == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            size += length
            if size > MAX_BODY:
                raise BadRequest(413, "Request body too large")
            chunks.append(self.rfile.read(length))
            self.rfile.readline(1024)

    def drop(self) -> None:
        """Close the connection without an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def write(self, response: Response, *, head: bool = False) -> None:
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

    def __init__(self, address: tuple[str, int], serve: Serve) -> None:
        self.serve = serve
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (broken pipe, reset) is no error; anything else is printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

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


class Listener:
    """A server socket and its serving thread. :meth:`start` binds ``host:port`` (``port`` 0:
    a free one; a busy given port is retried for 5 s, for a restart on the same port)."""

    def __init__(self, host: str, port: int, serve: Serve) -> None:
        self.host = host
        self.port = port
        self._serve = serve
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def start(self) -> None:
        """Start serving (a no-op when already serving)."""
        with self._lock:
            if self._server is not None:
                return
            server = self._bind()
            self.port = int(server.server_address[1])
            # serve_forever sees a stop request only between polls: a short poll makes stop()
            # (each test's simulator, at its end) take at most 10 ms, not 50 ms.
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name=f"dai-simulator-{self.port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
            thread.start()

    def _bind(self) -> _HTTPServer:
        deadline = time.monotonic() + 5.0
        while True:
            try:
                return _HTTPServer((self.host, self.port), self._serve)
            except OSError as exc:
                if self.port == 0 or exc.errno != errno.EADDRINUSE:
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop serving and close every open connection; idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.shutdown()
            server.close_connections()
            server.server_close()
            if thread is not None:
                thread.join(timeout=5.0)
