"""The outputs of ``test_server_text.py``: each output's row (:data:`OUTPUTS`: what the output
holds, and what in it would be live)."""

from __future__ import annotations

import base64
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

# -- the outputs, and what would be live in each ---------------------------------------------------


@dataclass
class Session:
    """What the inner session wrote, and the secrets to look for."""

    project: Path
    terminal: str
    secrets: list[str]

    def read(self, name: str) -> str:
        path = self.project / name
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def secrets_in(text: str, session: Session) -> list[str]:
    return [f"secret {s[:6]}..." for s in session.secrets if s and s in text]


def raw_escapes(text: str) -> list[str]:
    """ANSI/OSC escapes a terminal (or a log viewer) would obey."""
    return [f"raw {name}" for char, name in (("\x1b", "ESC"), ("\x07", "BEL")) if char in text]


def attachments(text: str) -> list[str]:
    return ["an attachment of /etc/passwd"] if re.search(r"\[\[\s*ATTACHMENT\|/etc", text) else []


def commands(text: str) -> list[str]:
    """Workflow commands that are not the plugin's own annotations (``::error file=...``)."""
    found = [
        line
        for line in text.splitlines()
        if line.lstrip().startswith("::") and not line.startswith("::error file=")
    ]
    found += [line for line in text.splitlines() if "##[" in line]
    return [f"workflow command: {line[:80]!r}" for line in found]


def everywhere(text: str, session: Session) -> list[str]:
    """What no output may carry: a secret, a raw escape, an attachment of a server's choosing."""
    return secrets_in(text, session) + raw_escapes(text) + attachments(text)


def check_terminal(session: Session) -> tuple[str, list[str]]:
    text = session.terminal
    return text, everywhere(text, session) + commands(text)


def check_annotations(session: Session) -> tuple[str, list[str]]:
    lines = [line for line in session.terminal.splitlines() if line.startswith("::error file=")]
    problems = []
    for line in lines:
        properties, _, data = line[len("::error ") :].partition("::")
        if not re.fullmatch(r"file=[^,:\s]+(,line=\d+)?,title=[^,:\s]+", properties):
            problems.append(f"annotation properties broken: {properties[:80]!r}")
        problems += secrets_in(data, session) + raw_escapes(data)
    return "\n".join(lines), problems


def check_xml(name: str) -> Callable[[Session], tuple[str, list[str]]]:
    def check(session: Session) -> tuple[str, list[str]]:
        text = session.read(name)
        if not text:
            return "", [f"no {name}"]
        root = ET.fromstring(text.encode())
        problems = everywhere(text, session)
        tags = {element.tag for element in root.iter()}
        problems += [f"element <{tag}>" for tag in tags & {"script", "img", "a"}]
        return text, problems

    return check


class _Markup(HTMLParser):
    """Tags, event handlers and link targets of a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "img", "iframe", "svg", "object"):
            self.problems.append(f"<{tag}> from server text")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r}")
            if name in ("href", "src") and not re.fullmatch(_SAFE_TARGET, value or ""):
                self.problems.append(f"{name}={value!r}")


#: Where a link or image of the report may go: an http(s) address, or pytest-html's own
#: embedded text (the log extra, checked for what it holds).
_SAFE_TARGET = r"https?://[^\s\"'<>]*|data:text/plain;charset=utf-8;base64,[A-Za-z0-9+/=]*"


def _embedded(extra: dict[str, Any]) -> str:
    """The text of a text extra pytest-html embedded as base64 (what the browser shows)."""
    content = str(extra.get("content") or "")
    if extra.get("format_type") != "text" or ";base64," not in content:
        return ""
    return base64.b64decode(content.split(",", 1)[1]).decode("utf-8", errors="replace")


def check_html(session: Session) -> tuple[str, list[str]]:
    page = session.read("report.html")
    if not page:
        return "", ["no report.html"]
    match = re.search(r'data-jsonblob="([^"]*)"', page)
    assert match is not None, "no data-jsonblob in the report"
    data = json.loads(html.unescape(match.group(1)))
    problems = everywhere(page, session)
    shown = []
    for rows in data["tests"].values():
        for row in rows:
            cells = "".join(row.get("resultsTableRow", []))
            parser = _Markup()
            parser.feed(cells)
            parser.feed("".join(row.get("tableHtml", []) or []))
            problems += parser.problems
            log = row.get("log", "")
            if re.search(r"<(script|img)\b", log):
                problems.append("markup in the log")
            for extra in row.get("extras", []):
                if extra["format_type"] == "url" and not re.fullmatch(
                    r"https?://[^\s\"'<>]*", extra["content"]
                ):
                    problems.append(f"link extra {extra['content'][:80]!r}")
            texts = "\n".join(_embedded(extra) for extra in row.get("extras", []))
            problems += everywhere(texts, session)
            shown.append(cells + log + texts + json.dumps(row.get("extras", [])))
    return html.unescape("\n".join(shown)), problems


def check_summary(session: Session) -> tuple[str, list[str]]:
    text = session.read("summary.md")
    if not text:
        return "", ["no job summary"]
    problems = everywhere(text, session)
    for pattern, what in (
        (r"<\s*(script|img)", "raw HTML"),
        (r"!?\[[^\]]*\]\(https://e\.vil", "a Markdown link or image to another origin"),
        (r"(?<!\\)https?://e\.vil", "an autolink to another origin"),
        (r"\bon\w+\s*=", "an event handler"),
    ):
        if re.search(pattern, text):
            problems.append(what)
    table = [line for line in text.splitlines() if line.startswith("|")]
    widths = {len(re.split(r"(?<!\\)\|", line)) for line in table}
    if len(widths) != 1:
        problems.append(f"the table's rows have {sorted(widths)} cells")
    return text, problems


def check_log_file(session: Session) -> tuple[str, list[str]]:
    text = session.read("dai.log")
    if not text:
        return "", ["no log file"]
    return text, everywhere(text, session) + commands(text)


def check_cache(session: Session) -> tuple[str, list[str]]:
    texts = [
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted((session.project / ".pytest_cache").rglob("*"))
        if path.is_file()
    ]
    text = "\n".join(texts)
    return text, everywhere(text, session)


def check_evidence(session: Session) -> tuple[str, list[str]]:
    folder = session.project / "dai-artifacts"
    names = sorted(path.name for path in folder.rglob("*") if path.is_file())
    problems = [f"file name {name!r}" for name in names if not re.fullmatch(r"[\w.-]+", name)]
    problems += secrets_in("\n".join(names), session)
    texts = [
        path.read_text(encoding="utf-8", errors="replace")
        for path in folder.rglob("*.txt")
        if path.is_file()
    ]
    text = "\n".join([*names, *texts])
    return text, problems + everywhere("\n".join(texts), session)


#: Each output, and its check: the text it holds (where a field's tag can be found) and what in
#: it would be live.
OUTPUTS: dict[str, Callable[[Session], tuple[str, list[str]]]] = {
    "terminal": check_terminal,
    "annotations": check_annotations,
    "JUnit XML": check_xml("junit.xml"),
    "steps file": check_xml("steps.xml"),
    "job summary": check_summary,
    "pytest-html": check_html,
    "log file": check_log_file,
    "cache": check_cache,
    "evidence files": check_evidence,
}
