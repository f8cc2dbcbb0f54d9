"""Text from a server made safe for one terminal line (no imports: used by the errors too)."""

from __future__ import annotations

import functools
import re

__all__ = ["control_chars", "escape_control_chars"]


@functools.cache
def control_chars() -> re.Pattern[str]:
    """C0 and C1 controls, DEL, and the bidirectional and invisible formatting characters that
    can make a terminal show something other than what was sent (compiled on first use: the
    plugin's start-up does not pay for it)."""
    return re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


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
