"""The effective session settings of pytest-dai (:class:`Settings`) and where each came from.

Resolved once per session by :func:`pytest_dai.glue.settings.resolve.resolve_settings` from the
settings table (:mod:`pytest_dai.glue.settings.table`); the field defaults are the table's,
taken from :mod:`pytest_dai.client.defaults`. Cheap to import: no ``requests``, no client. The
settings are kept at ``config.stash[SETTINGS_KEY]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping  # noqa: TC003 (runtime: Settings field type hints)
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from pytest_dai.client import defaults
from pytest_dai.client.errors import register_secret
from pytest_dai.glue.settings.table import NO_SERVER_HEADER

MISSING_SERVER_MESSAGE = (
    "no DAI server configured: give --dai-url or DAI_URL (or dai_url in the ini file), "
    "or run with --dai-simulator"
)

_MASK = "***"
_HEADER_WIDTH = 100

SOURCE_DEFAULT = "default"
SOURCE_DERIVED = "derived from url and realm"
SOURCE_DERIVED_V2 = "derived from url (dai_auth = v2)"
SOURCE_SIMULATOR = "simulator"

#: The resolved settings (see :class:`Settings`).
SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()


# --------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Settings:
    """The effective session settings of pytest-dai, and where each value came from.

    ``sources`` maps a field name to a text such as ``"command line (--dai-timeout)"``,
    ``"environment (DAI_URL)"``, ``"ini file (dai_url)"``, ``"default"``,
    ``"derived from url and realm"``, ``"credentials file /path/x.csv"`` or ``"simulator"``.
    ``repr()`` and ``str()`` mask the client secret.
    """

    url: str | None = None
    realm: str = defaults.REALM
    token_url: str | None = None
    client_id: str = defaults.CLIENT_ID
    client_secret: str | None = field(default=None, repr=False)
    credentials: str | None = None
    request_timeout: float = defaults.REQUEST_TIMEOUT
    request_retries: int = defaults.REQUEST_ATTEMPTS
    backoff_factor: float = defaults.BACKOFF_FACTOR
    ca_cert: str | None = None
    timeout: float = defaults.RUN_DEADLINE
    poll_interval: float = defaults.POLL_INTERVAL
    dry_run: bool = False
    simulator: str | None = None
    run_url: str = defaults.RUN_URL
    handle_sigterm: bool = True
    junit_steps: str | None = None
    rerun_failed: bool = False
    reap_orphans: bool = True
    reap_orphans_only: bool = False
    parameters_file: str | None = None
    result_url: str = defaults.RESULT_URL
    artifacts: str = defaults.ARTIFACTS
    allow_insecure_token_url: bool = False
    dist: str = defaults.DIST
    agent: str | None = None
    offline_agent: str = defaults.OFFLINE_AGENT
    list_names: str | None = None
    auth: str = defaults.AUTH
    api_version: str = defaults.API_VERSION
    space: str | None = None
    prestart: bool = False
    prestart_limit: int = defaults.PRESTART_LIMIT
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        register_secret(self.client_secret)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "client_secret" and value is not None:
                parts.append(f"client_secret={_MASK!r}")
            elif f.name == "sources":
                parts.append(f"sources={dict(value)!r}")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    def source(self, name: str) -> str:
        """Where the setting ``name`` came from (``"default"`` when not recorded)."""
        return self.sources.get(name, SOURCE_DEFAULT)

    def with_simulator(
        self, *, url: str, token_url: str, client_id: str, client_secret: str
    ) -> Settings:
        """A copy that talks to a running simulator; those four values get source "simulator"."""
        register_secret(client_secret)
        sources = dict(self.sources)
        for name in ("url", "token_url", "client_id", "client_secret"):
            sources[name] = SOURCE_SIMULATOR
        if self.auth == "v2":
            token_url = url.rstrip("/") + defaults.V2_AUTH_PATH
        return dataclasses.replace(
            self,
            url=url.rstrip("/"),
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            sources=sources,
        )

    def header_lines(self) -> list[str]:
        """A few ``dai: name=value (source)`` lines for pytest's report header, secret masked."""
        if self.url is None and self.simulator is None:
            return [NO_SERVER_HEADER]
        given: list[str] = []
        defaults: list[str] = []
        for f in dataclasses.fields(self):
            if f.name == "sources":
                continue
            text = f"{f.name}={self._header_value(f.name)}"
            source = self.source(f.name)
            if source == SOURCE_DEFAULT:
                defaults.append(text)
            else:
                given.append(f"{text} ({short_source(source)})")
        lines = _wrap("dai: ", given)
        if defaults:
            lines += _wrap("dai: defaults: ", defaults)
        return lines + self.warning_lines()

    def warning_lines(self) -> list[str]:
        """One header line when the DAI URL is plain http, unless it never leaves this machine
        (a loopback address: the simulator, a local tunnel)."""
        plain = (self.url or "").lower().startswith("http://")
        host = (urlsplit(self.url or "").hostname or "").lower()
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        if plain and not loopback and self.source("url") != SOURCE_SIMULATOR:
            return [
                "dai: warning: the DAI URL is plain http: the access token and run data "
                "cross the network unencrypted"
            ]
        return []

    def _header_value(self, name: str) -> str:
        value = getattr(self, name)
        if name == "client_secret":
            return _MASK if value else "not set"
        if name in ("url", "token_url") and value is None and self.simulator is not None:
            return "(from the simulator)"
        if name == "simulator":
            return "off" if value is None else (value or "default scenario")
        if name == "ca_cert" and value is None:
            return "system"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            return _number(value)
        if value is None:
            return "none"
        return str(value)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def short_source(source: str) -> str:
    """``command line (--dai-x)`` -> ``--dai-x``, ``environment (X)`` -> ``env X``..."""
    for prefix, short in (
        ("command line (", ""),
        ("environment (", "env "),
        ("ini file (", "ini "),
    ):
        if source.startswith(prefix) and source.endswith(")"):
            return short + source[len(prefix) : -1]
    return source


def _wrap(prefix: str, items: list[str]) -> list[str]:
    lines: list[str] = []
    current = prefix
    for item in items:
        if current != prefix and len(current) + len(item) + 2 > _HEADER_WIDTH:
            lines.append(current + ",")
            current = "dai: "
        current += item if current in (prefix, "dai: ") else ", " + item
    if current not in (prefix, "dai: "):
        lines.append(current)
    return lines
