"""One escaper per output: every writer of an output passes what it writes through that
output's escaper here.

Server text is made safe once, where the client parses it
(:mod:`pytest_dai.client.server_text`: secrets masked, length bounded, control characters shown
escaped, workflow commands and JUnit attachments made inert). What is markup or syntax in one
output is escaped by that output's writer:

- the terminal (live line, progress lines, the summary): :func:`terminal_line`, no control
  character and no workflow command at a line's start;
- Markdown (the GitHub job summary): :func:`markdown_text` escapes every character Markdown or
  HTML gives a meaning to and breaks autolinks; :func:`markdown_link` links only to the
  server's own origin, its target percent-encoded;
- HTML attributes (pytest-html's extras): :func:`html_url`, ``http(s)`` only, attribute-escaped;
- GitHub workflow commands (annotations): :func:`workflow_data` and :func:`workflow_property`
  (GitHub's ``%``-encoding);
- XML (JUnit, the steps file) as ever: the XML writer escapes, illegal characters dropped; file
  names as ever: :func:`pytest_dai.glue.report.evidence.file_stem`.
"""

from __future__ import annotations

import html
import re
import string
from urllib.parse import quote, urlsplit

from pytest_dai.client.text import escape_control_chars, neutralise

__all__ = [
    "html_url",
    "markdown_link",
    "markdown_text",
    "same_origin",
    "terminal_line",
    "workflow_data",
    "workflow_property",
]

# -- the terminal ------------------------------------------------------------------------------


def terminal_line(text: str) -> str:
    """One line for the terminal: control characters shown escaped, nothing a CI system acts
    on (a workflow command at its start, ``##[``, an attachment)."""
    return neutralise(escape_control_chars(text))


# -- Markdown (the job summary) ----------------------------------------------------------------

#: Characters written as HTML entities (raw HTML, and what would open a tag or an entity).
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;"}
#: What turns text into a link by itself (GitHub's autolinks): a scheme's ``://``, ``www.``,
#: an e-mail address's ``@``. A zero-width space after it keeps it text.
_AUTOLINK = re.compile(r"(:|www|@)", re.IGNORECASE)
_ZERO_WIDTH = "&#8203;"


def markdown_text(text: object) -> str:
    """``text`` as literal text in Markdown (a table cell, a list item): one line, every ASCII
    punctuation character backslash-escaped or written as an entity, no autolink."""
    line = escape_control_chars(" ".join(str(text).split()))
    out = []
    for part in _AUTOLINK.split(line):
        if _AUTOLINK.fullmatch(part):
            out.append(_escape_markdown(part) + _ZERO_WIDTH)
        else:
            out.append(_escape_markdown(part))
    return "".join(out)


def _escape_markdown(text: str) -> str:
    return "".join(
        _ENTITIES.get(ch) or ("\\" + ch if ch in string.punctuation else ch) for ch in text
    )


def same_origin(url: str, origin: str) -> bool:
    """Whether ``url`` is an ``http(s)`` address on the server's own ``origin`` (scheme, host
    and port of the server URL)."""
    try:
        target, home = urlsplit(url), urlsplit(origin)
        ports = (target.port, home.port)
    except ValueError:
        return False
    return (
        target.scheme.lower() in ("http", "https")
        and (target.scheme.lower(), (target.hostname or "").lower(), ports[0])
        == (home.scheme.lower(), (home.hostname or "").lower(), ports[1])
        and not target.username
        and not target.password
    )


def markdown_link(label: str, url: str, origin: str) -> str:
    """A Markdown link to ``url`` (its text ``label``) when ``url`` is on the server's
    ``origin``; otherwise the label alone, as text. The target is percent-encoded (nothing that
    could end it or open another)."""
    if not url or not origin or not same_origin(url, origin):
        return markdown_text(label)
    target = quote(url, safe=":/?#@!$&*+,;=%-._~")
    return f"[{markdown_text(label)}]({target})"


# -- HTML (pytest-html's extras) ----------------------------------------------------------------


def html_url(url: str) -> str | None:
    """``url`` as an HTML attribute value (pytest-html puts a link's content into ``href="..."``
    as it is): None unless it is an ``http(s)`` address; percent-encoded where it is not an
    address character, then attribute-escaped."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https") or escape_control_chars(url) != url:
        return None
    target = quote(url, safe=":/?#[]@!$&*+,;=%-._~")
    return html.escape(target, quote=True)


# -- GitHub workflow commands (annotations) ----------------------------------------------------


def workflow_data(text: str) -> str:
    """A workflow command's data (after ``::``): GitHub's ``%``-encoding."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow command's property value (``title=...``): also ``:`` and ``,`` encoded."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
