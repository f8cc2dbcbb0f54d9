"""pytest-html (the ``html`` extra): a failed DAI test's row embeds the screenshot the failing
action saw, links the run's page and shows the run's last log lines. Checked by parsing the
report's data, and (marked ``slow``) by rendering it in headless Chromium, whose picture of the
report is the one in the README (``docs/failure-evidence.png``)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from harness.browser import browser, run_browser
from harness.inner import FAST

from pytest_dai.simulator import DAISimulator

from .support import properties, read_junit

pytest.importorskip("pytest_html")

MODULE = """
import pytest

@pytest.mark.dai_model("Shop checkout", agent="agent-1")
def test_checkout():
    pass

@pytest.mark.dai_model("Payment declined", agent="agent-2")
def test_payment_declined():
    pass
"""

#: Where the browser test leaves its picture of the report when asked to (README's picture):
#: ``PYTEST_DAI_DOCS_PICTURE=docs/failure-evidence.png pytest -m slow tests/reports``.
DOCS_PICTURE = (
    Path(os.environ["PYTEST_DAI_DOCS_PICTURE"]).resolve()
    if os.environ.get("PYTEST_DAI_DOCS_PICTURE")
    else None
)


def report_data(report: Path) -> dict[str, Any]:
    """The test data pytest-html keeps in its report (the ``data-jsonblob`` the page renders)."""
    match = re.search(r'data-jsonblob="([^"]*)"', report.read_text(encoding="utf-8"))
    assert match is not None, "no data-jsonblob in the report"
    data: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return data


def run_report(
    pytester: pytest.Pytester, *extra: str, in_subprocess: bool = False
) -> tuple[pytest.RunResult, Path]:
    pytester.makepyfile(test_shop=MODULE)
    run = pytester.runpytest_subprocess if in_subprocess else pytester.runpytest
    result = run("--junitxml=junit.xml", "--html=report.html", *extra, *FAST)
    result.assert_outcomes(passed=1, failed=1)
    cases = read_junit(pytester.path / "junit.xml")
    shot = Path(properties(cases["test_payment_declined"])["dai_screenshot"])
    assert shot.is_file()
    return result, shot


def extras_of(pytester: pytest.Pytester, test: str) -> dict[str, dict[str, Any]]:
    (row,) = report_data(pytester.path / "report.html")["tests"][f"test_shop.py::{test}"]
    return {extra["format_type"]: extra for extra in row["extras"]}


@pytest.mark.slow
def test_self_contained_report_embeds_the_screenshot(
    pytester: pytest.Pytester, default_sim: DAISimulator
) -> None:
    _, shot = run_report(pytester, "--self-contained-html")
    extras = extras_of(pytester, "test_payment_declined")
    image = extras["image"]["content"]
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]) == shot.read_bytes()
    assert shot.name in extras["image"]["name"]
    assert re.fullmatch(rf"{re.escape(default_sim.url)}/runs/\d+", extras["url"]["content"])
    text = base64.b64decode(extras["text"]["content"].split(",", 1)[1]).decode()
    assert "Card was declined" in text
    assert extras_of(pytester, "test_checkout") == {}


@pytest.mark.slow
def test_report_under_xdist_embeds_the_screenshot(
    pytester: pytest.Pytester, default_sim: DAISimulator
) -> None:
    _, shot = run_report(pytester, "--self-contained-html", "-n", "2", in_subprocess=True)
    image = extras_of(pytester, "test_payment_declined")["image"]["content"]
    assert base64.b64decode(image.split(",", 1)[1]) == shot.read_bytes()


@pytest.mark.slow
def test_report_with_assets_links_the_same_image(
    pytester: pytest.Pytester, default_sim: DAISimulator
) -> None:
    _, shot = run_report(pytester)
    image = extras_of(pytester, "test_payment_declined")["image"]["content"]
    assert (pytester.path / image).read_bytes() == shot.read_bytes()


# -- in a real browser ----------------------------------------------------------------------------


class _Images(HTMLParser):
    """The ``src`` of every ``<img>`` inside a failed result row of the rendered report."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.images: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tbody":
            failed = "failed" in (values.get("class") or "")
            self.rows.append((values.get("id") or "") if failed else "")
        if tag == "img" and self.rows and self.rows[-1] and values.get("src"):
            self.images.setdefault(self.rows[-1], []).append(values["src"] or "")


@pytest.mark.slow
def test_the_browser_shows_the_screenshot_in_the_failed_row(
    pytester: pytest.Pytester, default_sim: DAISimulator
) -> None:
    executable = browser()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    _, shot = run_report(pytester, "--self-contained-html")
    page = (pytester.path / "report.html").as_uri()

    dom = run_browser(executable, pytester.path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = _Images()
    parser.feed(dom.stdout)
    (source,) = parser.images["test_shop.py::test_payment_declined"]
    assert base64.b64decode(source.split(",", 1)[1]) == shot.read_bytes()
    assert "test_shop.py::test_checkout" not in parser.images

    picture = pytester.path / "report.png"
    taken = run_browser(executable, pytester.path / "profile-shot", f"--screenshot={picture}", page)
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000, "the picture of the report looks empty"
    if DOCS_PICTURE is not None:
        shutil.copyfile(picture, DOCS_PICTURE)
