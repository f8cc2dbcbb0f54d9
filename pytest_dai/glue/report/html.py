"""pytest-html (optional, the ``html`` extra): a failed DAI test's row shows the screenshot the
failing action saw, a link to the run's page and the run's last log lines.

Extras are added to the test's call report (``report.extras``), which pytest-html reads, also
from reports that pytest-xdist workers send to the controller.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

from pytest_dai.glue.report.escapers import html_url
from pytest_dai.glue.report.facts import RUN_REPORT_KEY

if TYPE_CHECKING:
    import pytest

    from pytest_dai.glue.report.evidence import Evidence

__all__ = ["LOG_LINES", "add_extras"]

#: How many of the run's last log lines the report shows.
LOG_LINES = 40


def _extra(content: str, format_type: str, name: str, mime: str | None, ext: str | None) -> dict:  # type: ignore[type-arg]
    """An extra in pytest-html's form (``pytest_html.extras.extra``), made here so that this
    module works without importing pytest-html."""
    return {
        "name": name,
        "format_type": format_type,
        "content": content,
        "mime_type": mime,
        "extension": ext,
    }


def add_extras(item: pytest.Item, report: pytest.TestReport, evidence: Evidence) -> None:
    """Add the screenshot (embedded, base64), the run's address and its last log lines to a
    failed test's report. Files that cannot be read are left out."""
    extras: list[dict[str, str | None]] = list(getattr(report, "extras", []) or [])
    for path in evidence.files():
        # Only our own files, embedded as base64: pytest-html would use any other content
        # of an image extra as its address (its fallback), opened on a click.
        if not path.endswith((".png", ".jpg")):
            continue
        try:
            with open(path, "rb") as handle:
                data = base64.b64encode(handle.read()).decode("ascii")
        except OSError:
            continue
        jpeg = path.endswith(".jpg")
        extras.append(
            _extra(
                data,
                "image",
                f"DAI screenshot ({os.path.basename(path)})",  # (shown as text)
                "image/jpeg" if jpeg else "image/png",
                "jpg" if jpeg else "png",
            )
        )
    run = item.stash.get(RUN_REPORT_KEY, None)
    href = html_url(run.url) if run is not None and run.url else None
    if href is not None:  # (pytest-html writes a link's content into href="..." as it is)
        extras.append(_extra(href, "url", "DAI run", None, None))
    if evidence.log_file:
        try:
            with open(evidence.log_file, encoding="utf-8", errors="replace") as handle:
                tail = handle.read().splitlines()[-LOG_LINES:]
        except OSError:
            tail = []
        if tail:
            extras.append(
                _extra("\n".join(tail), "text", "DAI log (last lines)", "text/plain", "txt")
            )
    report.extras = extras  # type: ignore[attr-defined]
