"""Text from a server made safe for one terminal line (no imports: used by the errors too)."""

from __future__ import annotations

import re

__all__ = ["CONTROL_CHARS", "escape_control_chars"]

# C0 and C1 controls, DEL, and the bidirectional and invisible formatting characters that can
# make a terminal show something other than what was sent.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_control_chars(text: str) -> str:
    """``text`` with every control character (ANSI escapes, NUL, newlines, right-to-left
    overrides...) shown as a visible escape (``\\x1b``, ``\\u202e``), safe for one terminal
    line."""
    if not CONTROL_CHARS.search(text):
        return text
    return CONTROL_CHARS.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
