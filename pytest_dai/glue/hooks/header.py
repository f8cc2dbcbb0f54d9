"""The report header: one or two ``dai:`` lines; every setting with ``-v``; runs the session
aborted for killed sessions; notes on ``--dai-dist=agent`` and pytest-timeout's thread method.

Line one says where the runs go and how the session authenticates: the server, the client id
and where the secret came from (the token URL too when it is not derived from the server's).
Line two, when there is any, lists the settings given a value other than their default.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pytest_dai.glue.base.timeouts import TIMEOUT_MARGIN, timeout_method
from pytest_dai.glue.hooks.setup import STATE_KEY
from pytest_dai.glue.settings.values import (
    SETTINGS_KEY,
    SOURCE_DEFAULT,
    SOURCE_DERIVED,
    SOURCE_SIMULATOR,
    short_source,
)

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.settings.values import Settings

__all__ = ["dist_header_lines", "header_lines", "report_header"]

#: On line one (the connection), never repeated on line two.
_CONNECTION = ("url", "token_url", "client_id", "client_secret", "credentials")


def _item(settings: Settings, name: str) -> tuple[str, str]:
    return f"{name}={settings._header_value(name)}", short_source(settings.source(name))


def _joined(items: list[tuple[str, str]]) -> str:
    """``a=1, b=2 (source)``: neighbours from one source name it once."""
    parts: list[str] = []
    for i, (text, source) in enumerate(items):
        last = i + 1 == len(items) or items[i + 1][1] != source
        parts.append(f"{text} ({source})" if last and source else text)
    return ", ".join(parts)


def short_header(settings: Settings) -> list[str]:
    """The one or two ``dai:`` lines shown without ``-v``."""
    if settings.url is None and settings.simulator is None:
        return settings.header_lines()
    first = [_item(settings, "url")]
    token_source = settings.source("token_url")
    if token_source not in (SOURCE_DERIVED, SOURCE_SIMULATOR, SOURCE_DEFAULT):
        first.append(_item(settings, "token_url"))
    first.append(_item(settings, "client_id"))
    if settings.client_secret:
        first.append(_item(settings, "client_secret"))
    else:
        first.append(("client_secret=not set", "DAI_CLIENT_SECRET or a credentials file"))
    lines = ["dai: " + _joined(first)]
    given = [
        _item(settings, f.name)
        for f in dataclasses.fields(settings)
        if f.name not in (*_CONNECTION, "sources")
        and settings.source(f.name) not in (SOURCE_DEFAULT, SOURCE_DERIVED)
    ]
    if given:
        lines.append("dai: " + _joined(given))
    return lines + settings.warning_lines()


def header_lines(config: pytest.Config, settings: Settings) -> list[str]:
    """Short by default; every effective value and its source with ``-v``."""
    if config.get_verbosity() > 0:
        return settings.header_lines()
    return short_header(settings)


def report_header(config: pytest.Config) -> list[str]:
    """The header of a session that started pytest-dai (see ``pytest_report_header``)."""
    settings = config.stash.get(SETTINGS_KEY, None)
    state = config.stash.get(STATE_KEY, None)
    lines: list[str] = []
    if settings is not None:
        lines = header_lines(config, settings)
        if settings.dist == "agent":
            lines.extend(dist_header_lines(config))
        if settings.prestart:
            from pytest_dai.glue.hooks.prestart import header_line

            lines.append(header_line(settings.prestart_limit, dry_run=settings.dry_run))
    if state is not None:
        lines.extend(state.reap_lines)
    if (
        state is not None
        and config.pluginmanager.hasplugin("timeout")
        and timeout_method(config) == "thread"
    ):
        lines.append(
            "dai: pytest-timeout's thread method ends the whole process on a timeout: each "
            f"DAI run gets its own deadline {TIMEOUT_MARGIN:g} s (at most a quarter of the "
            "timeout) before pytest-timeout's, and runs left by a killed process are "
            "aborted by the next session"
        )
    return lines


def dist_header_lines(config: pytest.Config) -> list[str]:
    """Header lines about ``--dai-dist=agent``: without xdist it does nothing."""
    if not config.pluginmanager.hasplugin("xdist"):
        return ["dai: dai_dist = agent needs pytest-xdist (pip install pytest-xdist); ignored"]
    return []
