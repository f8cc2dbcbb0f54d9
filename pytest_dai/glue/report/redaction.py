"""A last redaction pass over what pytest-dai's process reports: test reports (their traceback,
with ``--showlocals``, ``--tb=long`` or ``--fulltrace``, and their captured output and logs) and
the traceback pytest prints after a Ctrl-C.

The first line of defence is that no frame holds a credential in a printable form (the
``Authorization`` header and the token form have masking ``repr``\\ s, see
:mod:`pytest_dai.client.auth`); this pass masks whatever got through anyway: a registered
secret (client secret, access token) or anything token-shaped is replaced by ``***``.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from pytest_dai.client.errors import contains_secret, redact

__all__ = ["RedactionHooks", "redact_keyboard_interrupt", "redact_report"]


def redact_report(report: pytest.TestReport) -> None:
    """Mask secrets in a report's traceback and captured sections (in place)."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        if contains_secret(text):
            report.longrepr = redact(text)
    if any(contains_secret(content) for _, content in report.sections):
        report.sections = [(name, redact(content)) for name, content in report.sections]


class _RedactedRepr:
    """A traceback representation printed with secrets masked (what the terminal reporter
    keeps after a Ctrl-C and prints at the end)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        crash = getattr(inner, "reprcrash", None)
        self.reprcrash = _RedactedRepr(crash) if crash is not None else None
        self.message = redact(str(getattr(inner, "message", "")))

    def __str__(self) -> str:
        return redact(str(self._inner))

    def toterminal(self, tw: Any) -> None:
        """Render the original into text, mask it, write it line by line."""
        from _pytest._io import TerminalWriter

        buffer = io.StringIO()
        self._inner.toterminal(TerminalWriter(buffer))
        for line in redact(buffer.getvalue()).splitlines():
            tw.line(line)


def redact_keyboard_interrupt(config: pytest.Config) -> None:
    """After pytest kept the traceback of a Ctrl-C: mask secrets in it."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    memo = getattr(reporter, "_keyboardinterrupt_memo", None)
    if memo is not None and contains_secret(str(memo)):
        reporter._keyboardinterrupt_memo = _RedactedRepr(memo)  # type: ignore[union-attr]


class RedactionHooks:
    """Registered by the plugin: masks secrets in the traceback kept after a Ctrl-C."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """After the terminal reporter kept the traceback: mask it."""
        redact_keyboard_interrupt(self.config)
