"""The environment an inner pytest reads: the ``DAI_*`` variables, nothing else of the outer
session's."""

from __future__ import annotations

import os
from typing import Protocol

import pytest


class Server(Protocol):
    """A DAI server tests point at (the simulator)."""

    @property
    def url(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...


def clear_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every ``DAI_*`` variable, and the outer session's xdist worker variables (under
    ``-n`` they would make an inner main process look like a worker to its conftest)."""
    for name in list(os.environ):
        if name.startswith(("DAI_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, client_id: str, secret: str) -> None:
    """Point inner sessions at a server through the environment only (see :func:`clear_env`)."""
    clear_env(monkeypatch)
    monkeypatch.setenv("DAI_URL", url)
    monkeypatch.setenv("DAI_CLIENT_ID", client_id)
    monkeypatch.setenv("DAI_CLIENT_SECRET", secret)


def point_env_at(monkeypatch: pytest.MonkeyPatch, server: Server | None) -> None:
    """:func:`point_at` ``server`` with its own credentials; None: no ``DAI_*`` variable."""
    if server is None:
        clear_env(monkeypatch)
    else:
        point_at(monkeypatch, server.url, server.client_id, server.client_secret)
