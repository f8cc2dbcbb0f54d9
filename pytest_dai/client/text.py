"""Text from a server made safe for one terminal line (no imports: used by the errors too)."""

from __future__ import annotations

import functools
import re

__all__ = ["control_chars", "escape_control_chars", "neutralise"]


@functools.cache
def control_chars() -> re.Pattern[str]:
    """C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional and
    invisible formatting characters that can make a terminal show something other than what
    was sent (compiled on first use: the plugin's start-up does not pay for it)."""
    return re.compile(
        "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
    )


def escape_control_chars(text: str) -> str:
    """``text`` with every control character (ANSI escapes, NUL, newlines, right-to-left
    overrides...) shown as a visible escape (``\\x1b``, ``\\u202e``), safe for one terminal
    line."""
    pattern = control_chars()
    if not pattern.search(text):
        return text
    return pattern.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


@functools.cache
def _acted_on() -> tuple[tuple[re.Pattern[str], str], ...]:
    """What a CI system acts on in a line of text, and its harmless form (compiled on first
    use)."""
    return (
        # A GitHub workflow command (``::error::``, ``::stop-commands::``): the runner trims
        # the line's leading white space before it looks.
        (re.compile(r"^(\s*):(?=:)"), r"\1: "),
        # GitHub's old form ``##[command]``, acted on anywhere in a line.
        (re.compile(r"#(?=#\s*\[)"), "# "),
        # A JUnit attachment (Jenkins, GitLab) in ``<system-out>``: ``[[ATTACHMENT|path]]``.
        (re.compile(r"\[(?=\[\s*attachment)", re.IGNORECASE), "[ "),
    )


def neutralise(text: str) -> str:
    """One line of text with what CI systems act on made inert: a workflow command at its
    start (``: :error::``), ``##[`` anywhere (``# #[``), an attachment (``[ [ATTACHMENT|``);
    the rest unchanged."""
    if ":" not in text and "[" not in text:
        return text
    for pattern, harmless in _acted_on():
        text = pattern.sub(harmless, text)
    return text
