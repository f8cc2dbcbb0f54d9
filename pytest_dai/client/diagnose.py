"""Why a server cannot be reached, found with one cheap look (no retries, no HTTP library).

``requests`` reports a refused connection, an unknown host name and TLS spoken to a plain-http
port alike, as a ``ConnectionError`` or ``SSLError`` after its retries. Before the first call of
a session, :func:`probe` looks once: resolve the name, connect, and for ``https`` shake hands;
when the handshake fails it asks whether the port speaks plain HTTP. The answer is a short
phrase for a user message, or None when nothing is wrong (or nothing decisive was found, e.g. a
timeout, which the retries may still ride out).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Finding", "probe"]

#: Answer of a plain-HTTP server to a few bytes of a request, as far as it is read.
_PLAIN_HTTP_PREFIX = b"HTTP/"


@dataclass(frozen=True)
class Finding:
    """What the look found: ``cause`` for a message (``connection refused``), and a ``hint``
    saying what to change (may be empty)."""

    cause: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.cause} ({self.hint})" if self.hint else self.cause


def _address(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname, port


def _speaks_plain_http(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` answers a plain HTTP request with an HTTP status line."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii", "replace"))
            return sock.recv(len(_PLAIN_HTTP_PREFIX)).startswith(_PLAIN_HTTP_PREFIX)
    except (OSError, UnicodeError):
        return False


def probe(url: str, *, timeout: float = 3.0, ca_cert: str | None = None) -> Finding | None:
    """Look once at the server of ``url``; a :class:`Finding` when it cannot be used."""
    address = _address(url)
    if address is None:
        return None
    scheme, host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return Finding(f"host name {host!r} not resolved", "check the URL's host name")
    except (OSError, UnicodeError):
        return None
    family, kind, proto, _name, sockaddr = infos[0]
    try:
        sock = socket.socket(family, kind, proto)
    except OSError:
        return None
    with sock:
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except ConnectionRefusedError:
            return Finding(
                "connection refused",
                "nothing listens on that port: is the server running, and the port right?",
            )
        except OSError:
            return None  # a timeout or an unreachable network: the retries decide
        if scheme != "https":
            return None
        context = ssl.create_default_context(cafile=ca_cert) if ca_cert else None
        context = context or ssl.create_default_context()
        try:
            with context.wrap_socket(sock, server_hostname=host):
                return None
        except ssl.SSLCertVerificationError:
            return None  # requests says so, with its CA bundle advice
        except (ssl.SSLError, ConnectionResetError):
            if _speaks_plain_http(host, port, timeout):
                return Finding(
                    f"{host}:{port} speaks plain http, not https",
                    f"use http://{host}:{port} in the URL",
                )
            return None
        except OSError:
            return None
