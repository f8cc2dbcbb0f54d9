"""GitHub Actions: the "DAI model runs" summary as a Markdown job summary, and one error
annotation per failed DAI test.

- ``GITHUB_STEP_SUMMARY`` set: a Markdown table (one row a run: test, model or config, agent,
  status, duration, link) and the failures (message, screenshot file) are appended to that file.
- ``GITHUB_ACTIONS=true``: ``::error file=<path>,line=<marker line>,title=<test id>::<message>``
  per failed DAI test, printed on the terminal, where the runner picks them up.

Both are written once, by the controller under pytest-xdist (from the test reports).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pytest

    from pytest_dai.glue.reporting import SummaryCollector

__all__ = ["annotation", "markdown_summary", "write_github"]


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell (no pipe, no line break, no raw HTML)."""
    return (
        " ".join(str(text).split())
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _code(text: str) -> str:
    """Inline code that survives any backtick in ``text``, and a pipe inside a table cell."""
    cleaned = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{cleaned}`" if cleaned else ""


def markdown_summary(collector: SummaryCollector) -> str:
    """The job summary: a table with a row a run, then the failures."""
    lines = [
        "## DAI model runs",
        "",
        "| test | model or config | agent | status | duration | run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in collector.runs.values():
        link = f"[{_cell(run.run_id or run.key)}]({run.url})" if run.url else "-"
        lines.append(
            "| "
            + " | ".join(
                [
                    _code(run.nodeid),
                    _cell(run.name) or "-",
                    _cell(run.agent) or "-",
                    _cell(run.status_text) or "-",
                    f"{run.duration_text} s" if run.duration_text else "-",
                    link,
                ]
            )
            + " |"
        )
    if collector.failures:
        lines += ["", "### Failures", ""]
        for nodeid, evidence in collector.failures.items():
            message = str(evidence.get("message") or "failed")
            lines.append(f"- {_code(nodeid)}: {_cell(message)}")
            screenshot = str(evidence.get("screenshot") or "")
            if screenshot:
                lines.append(f"  - screenshot: {_code(os.path.basename(screenshot))}")
            elif evidence.get("warning"):
                lines.append(f"  - no screenshot: {_cell(str(evidence['warning']))}")
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(nodeid: str, evidence: Mapping[str, object]) -> str:
    """One ``::error`` workflow command for a failed test (GitHub's escaping applied)."""
    message = str(evidence.get("message") or "failed")
    screenshot = str(evidence.get("screenshot") or "")
    if screenshot:
        message += f" (screenshot: {os.path.basename(screenshot)})"
    file = str(evidence.get("file") or nodeid.split("::", 1)[0])
    line = evidence.get("line")
    where = f"file={_escape_property(file)}"
    if isinstance(line, int) and line > 0:
        where += f",line={line}"
    return f"::error {where},title={_escape_property(nodeid)}::{_escape_data(message)}"


def write_github(
    collector: SummaryCollector,
    terminalreporter: pytest.TerminalReporter,
    environ: Mapping[str, str] | None = None,
) -> None:
    """(Controller) the job summary and the annotations, when GitHub Actions asks for them."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if path and collector.runs:
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(markdown_summary(collector))
        except OSError as exc:
            terminalreporter.write_line(
                f"dai: could not write the GitHub job summary {path}: {exc.strerror or exc}"
            )
    if env.get("GITHUB_ACTIONS") == "true":
        for nodeid, evidence in collector.failures.items():
            terminalreporter.write_line(annotation(nodeid, evidence))
