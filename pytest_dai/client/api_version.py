"""Which version of Keysight's public API a client speaks: ``/api/v2`` (DAI 7.5 and later) or
``/api/v1`` (DAI 7.4), contract section 2.7.

The setting ``dai_api_version`` is ``auto`` (default), ``v1`` or ``v2``. With ``auto`` the
client starts on v2; the first public-API answer that settles it decides for the whole session,
once, whatever the threads do: a v2 path that answers (not 404) keeps v2; a v2 path that
answers 404 while its v1 path answers is v1 (a DAI 7.4 server). The decision is said once (a
callback: the plugin shows a ``dai:`` line).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pytest_dai.client import defaults
from pytest_dai.client.calls import DEFAULT_API_VERSION
from pytest_dai.client.errors import DAIConfigError, DAIError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "API_VERSION_SETTINGS",
    "AUTO",
    "ApiVersion",
    "DAIServerTooOld",
    "needs_dai_75",
    "to_api_version",
]

AUTO = defaults.API_VERSION
#: The values of ``dai_api_version``.
API_VERSION_SETTINGS = (AUTO, "v1", "v2")


def to_api_version(value: str, where: str = "dai_api_version") -> str:
    """``auto``, ``v1`` or ``v2`` (any case, spaces ignored); else a one-line DAIConfigError."""
    text = str(value).strip().lower()
    if text not in API_VERSION_SETTINGS:
        raise DAIConfigError(
            f"{where}: expected {', '.join(API_VERSION_SETTINGS[:-1])} or "
            f"{API_VERSION_SETTINGS[-1]}, got {str(value)[:40]!r}"
        )
    return text


class DAIServerTooOld(DAIError):
    """The server lacks a call pytest-dai needs (test-config results: DAI 7.5 or later)."""


def needs_dai_75(endpoint: str, why: str) -> DAIServerTooOld:
    """The one line of a test configuration on a server without ``test_config_results``."""
    return DAIServerTooOld(
        f"{endpoint}: {why}: this server has no test_config_results (public API v2): a test "
        "configuration needs DAI 7.5 or later (DAI 7.4 has public API v1 only)",
        endpoint=endpoint,
    )


class ApiVersion:
    """The public API version of one client; thread-safe, decided once.

    ``setting``: ``auto``, ``v1`` or ``v2`` (a fixed version is decided from the start).
    ``on_decided(line)`` is called once when ``auto`` settles on v1 (v2 is the default and
    says nothing)."""

    def __init__(self, setting: str = AUTO, on_decided: Callable[[str], None] | None = None):
        self.setting = to_api_version(setting)
        self.on_decided = on_decided
        self._lock = threading.Lock()
        self._version: str | None = None if self.setting == AUTO else self.setting
        #: Why the version is what it is (for reports).
        self.why = "" if self.setting == AUTO else f"dai_api_version = {self.setting}"

    def __repr__(self) -> str:
        return f"ApiVersion({self.version!r}, setting={self.setting!r})"

    @property
    def version(self) -> str:
        """``v2`` or ``v1``: the version calls use now."""
        return self._version or DEFAULT_API_VERSION

    @property
    def decided(self) -> bool:
        """Whether the version is settled (given, or seen on the server)."""
        return self._version is not None

    @property
    def may_probe(self) -> bool:
        """Whether a v2 path's 404 should be tried on v1 (``auto``, not yet decided)."""
        return self._version is None

    def decide(self, version: str, why: str) -> str:
        """Settle on ``version`` unless already settled; returns the version in use."""
        with self._lock:
            if self._version is not None:
                return self._version
            self._version = version
            self.why = why
        if version != DEFAULT_API_VERSION and self.on_decided is not None:
            self.on_decided(self.line())
        return version

    def line(self) -> str:
        """What the plugin says of it: ``dai: public API /api/v1 (...)``."""
        return f"dai: public API /api/{self.version} for this session ({self.why})"
