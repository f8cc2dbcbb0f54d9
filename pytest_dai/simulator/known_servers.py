"""The DAI servers we have public evidence of, each with the dialect preset of the simulator that
answers as it does. One table for three readers: the README's "Supported DAI versions" (checked
against it by ``tests/package/test_readme_examples.py``), the CI test that runs the examples on
every one (``tests/plugin/test_server_presets.py``), and ``docs/dai-api.md``'s evidence."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KNOWN_SERVERS", "KnownServer", "support_table"]


@dataclass(frozen=True)
class KnownServer:
    """A DAI server we know of: its versions, what differs there, and its preset."""

    versions: str
    differs: str
    preset: str
    #: What a pytest session against it must add (e.g. the auth scheme it speaks).
    plugin_args: tuple[str, ...] = ()


KNOWN_SERVERS: tuple[KnownServer, ...] = (
    KnownServer(
        "7.4",
        "public API v1 (`/api/v1/auth`, test results, logs, screenshots under `/api/v1`); no "
        "test-config results",
        "dai74",
    ),
    KnownServer(
        "7.5 to 25.x",
        "public API v2 (`/api/v2/*`, test-config results and their JUnit); Keycloak tokens",
        "default",
    ),
    KnownServer(
        "26.x",
        "tokens from `POST /api/v2/auth` (`--dai-auth=v2`)",
        "dai26",
        plugin_args=("--dai-auth=v2",),
    ),
    KnownServer(
        "DAI cloud (`*.dai.eggplant.cloud`)",
        "run status in `teststatus` (`INCOMPLETE` while running), `/ai/runs` listed oldest "
        "first, `GET /ai/runs/{id}`",
        "dai_cloud",
    ),
)
"""The servers CI runs the examples against, one preset each."""


def support_table() -> list[str]:
    """The README's table of supported DAI versions, one line per row (header included)."""
    lines = ["| DAI version | What differs | Simulator preset |", "|---|---|---|"]
    lines += [f"| {s.versions} | {s.differs} | `{s.preset}` |" for s in KNOWN_SERVERS]
    return lines
