"""GitHub Actions: the "DAI runs" summary (model runs and test configurations) as a Markdown
job summary, and one error annotation per failed DAI test.

- ``GITHUB_STEP_SUMMARY`` set: a Markdown table (one row a run: test, model or config, agent,
  status, duration, link) and the failures (message, screenshot file) are appended to that file.
- ``GITHUB_ACTIONS=true``: ``::error file=<path>,line=<marker line>,title=<test id>::<message>``
  per failed DAI test, printed on the terminal, where the runner picks them up.

Both are written once, by the controller under pytest-xdist (from the test reports).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pytest_dai.glue.report.escapers import (
    markdown_link,
    markdown_text,
    workflow_data,
    workflow_property,
)
from pytest_dai.glue.report.failure_reason import REASON_LIMIT, shortened
from pytest_dai.glue.settings.values import SETTINGS_KEY

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    import pytest

    from pytest_dai.glue.report.summary import SummaryCollector

__all__ = ["annotation", "markdown_summary", "write_github"]

#: The most characters of a failure's reason in its job-summary row (the failures below the
#: table show more of it).
ROW_REASON_LIMIT = 120
#: Between the parts of an annotation's one line: the failure, its reason, the run's address.
ANNOTATION_SEPARATOR = "--"


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell or list item (the Markdown escaper)."""
    return markdown_text(text)


def _code(text: str) -> str:
    """Inline code that survives any backtick in ``text``, and a pipe inside a table cell."""
    cleaned = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{cleaned}`" if cleaned else ""


def _link(label: str, url: str, origins: Collection[str] | None) -> str:
    """A link to a run's page when it is on one of ``origins`` (the server's own; None: any
    ``http(s)`` address), else its label as text; the target percent-encoded."""
    for origin in [url] if origins is None else origins:
        if origin and markdown_link(label, url, origin) != markdown_text(label):
            return markdown_link(label, url, origin)
    return markdown_text(label)


def markdown_summary(collector: SummaryCollector, origins: Collection[str] | None = None) -> str:
    """The job summary: a table with a row a run, then the failures. Links go to ``origins``
    only (see :func:`link_origins`)."""
    lines = [
        "## DAI runs",
        "",
        "| test | model or config | agent | status | duration | run | reason |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in collector.runs.values():
        link = _link(run.run_id or run.key, run.url, origins) if run.url else "-"
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
                    _cell(shortened(run.reason, ROW_REASON_LIMIT)) or "-",
                ]
            )
            + " |"
        )
    if collector.failures:
        lines += ["", "### Failures", ""]
        for nodeid, evidence in collector.failures.items():
            message = str(evidence.get("message") or "failed")
            lines.append(f"- {_code(nodeid)}: {_cell(message)}")
            if evidence.get("reason"):
                lines.append(f"  - reason: {_cell(str(evidence['reason']))}")
            if evidence.get("url"):
                url = str(evidence["url"])
                lines.append(f"  - run: {_link(url, url, origins)}")
            screenshot = str(evidence.get("screenshot") or "")
            if screenshot:
                lines.append(f"  - screenshot: {_code(os.path.basename(screenshot))}")
            elif evidence.get("warning"):
                lines.append(f"  - no screenshot: {_cell(str(evidence['warning']))}")
    return "\n".join(lines) + "\n"


def annotation(nodeid: str, evidence: Mapping[str, object]) -> str:
    """One ``::error`` workflow command for a failed test (GitHub's escaping applied)."""
    message = str(evidence.get("message") or "failed")
    if len(message) > REASON_LIMIT:
        message = message[: REASON_LIMIT - 3] + "..."
    for label in ("reason", "url"):
        if evidence.get(label):
            message += f" {ANNOTATION_SEPARATOR} {'run: ' if label == 'url' else ''}"
            message += str(evidence[label])
    screenshot = str(evidence.get("screenshot") or "")
    if screenshot:
        message += f" (screenshot: {os.path.basename(screenshot)})"
    file = str(evidence.get("file") or nodeid.split("::", 1)[0])
    line = evidence.get("line")
    where = f"file={workflow_property(file)}"
    if isinstance(line, int) and line > 0:
        where += f",line={line}"
    return f"::error {where},title={workflow_property(nodeid)}::{workflow_data(message)}"


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
                handle.write(markdown_summary(collector, link_origins(terminalreporter.config)))
        except OSError as exc:
            terminalreporter.write_line(
                f"dai: could not write the GitHub job summary {path}: {exc.strerror or exc}"
            )
    if env.get("GITHUB_ACTIONS") == "true":
        for nodeid, evidence in collector.failures.items():
            terminalreporter.write_line(annotation(nodeid, evidence))


def link_origins(config: pytest.Config) -> list[str]:
    """Where the job summary may link: the server's origin, and those of the run and result
    address templates (a DAI UI of its own), as the settings in use give them."""

    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.url:
        return []
    origins = [settings.url]
    for template in (settings.run_url, settings.result_url):
        try:
            origins.append(template.format_map(_AnyId(url=settings.url)))
        except (KeyError, ValueError, IndexError):
            continue
    return origins


class _AnyId(dict[str, str]):
    """Template values: the server URL, and ``0`` for any id."""

    def __missing__(self, key: str) -> str:
        return "0"
