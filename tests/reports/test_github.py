"""GitHub Actions: with ``GITHUB_STEP_SUMMARY`` set, a Markdown job summary (a table with a row
per run, then the failures); with ``GITHUB_ACTIONS=true``, one ``::error`` annotation per failed
DAI test at its marker's line. Both once, by the controller, also under pytest-xdist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness.inner import FAST

from pytest_dai.glue.report.github import annotation
from pytest_dai.simulator import DAISimulator

MODULE = """import pytest


@pytest.mark.dai_model("Passing", agent="a1")
def test_passed():
    pass


@pytest.mark.timeout(60)
@pytest.mark.dai_model("Failing", agent="a2")
def test_failed():
    pass


@pytest.mark.dai_model("Erroring", agent="a3")
def test_errored():
    pass


def test_not_dai():
    assert False, "not a DAI test"


def test_by_hand(dai_session):
    execution = dai_session.start("Failing", agent="a4")
    execution.wait(timeout=30)
    assert execution.passed, execution.url
"""


def marker_line(name: str) -> int:
    """The 1-based line of the ``dai_model`` marker of ``name`` in :data:`MODULE`."""
    lines = MODULE.splitlines()
    definition = lines.index(f"def {name}():")
    return next(
        number + 1
        for number in range(definition, -1, -1)
        if lines[number].startswith("@pytest.mark.dai_model")
    )


def split_row(line: str) -> list[str]:
    """The cells of one Markdown table row (escaped pipes stay inside their cell)."""
    assert line.startswith("|"), line
    assert line.endswith("|"), line
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line[1:-1])]


def read_table(text: str) -> tuple[list[str], list[list[str]]]:
    """The one Markdown table in ``text``: header and rows, checked to be well formed (a
    separator row after the header, every row as wide as the header)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(split_row(line))
    header, separator, *rows = table
    assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in separator), separator
    assert len(separator) == len(header)
    for row in rows:
        assert len(row) == len(header), row
    assert not any(line.startswith("|") for line in lines[start + len(table) :])
    return header, rows


@pytest.mark.slow
@pytest.mark.parametrize("workers", [None, "2"])
def test_job_summary_and_annotations(
    pytester: pytest.Pytester,
    sim: DAISimulator,
    monkeypatch: pytest.MonkeyPatch,
    workers: str | None,
) -> None:
    summary = pytester.path / "step-summary.md"
    summary.write_text("# Earlier step\n\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pytester.makepyfile(test_gh=MODULE)
    args = ["-n", workers] if workers else []
    result = pytester.runpytest_subprocess(*args, *FAST)
    result.assert_outcomes(passed=1, failed=4)

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Earlier step\n\n"), "the summary file was not appended to"
    assert text.count("## DAI runs") == 1
    header, rows = read_table(text)
    assert header == ["test", "model or config", "agent", "status", "duration", "run", "reason"]
    by_test = {row[0].strip("`"): row for row in rows}
    assert sorted(by_test) == [
        "test_gh.py::test_by_hand",
        "test_gh.py::test_errored",
        "test_gh.py::test_failed",
        "test_gh.py::test_passed",
    ]
    assert [by_test[t][1:4] for t in sorted(by_test)] == [
        ["Failing", "a4", "Failed"],
        ["Erroring", "a3", "Error"],
        ["Failing", "a2", "Failed"],
        ["Passing", "a1", "Passed"],
    ]
    for row in rows:
        assert re.fullmatch(r"\[\d+\]\(http://127\.0\.0\.1:\d+/runs/\d+\)", row[5]), row
        assert re.fullmatch(r"\d+\.\d s", row[4]), row
    failures = text.split("### Failures", 1)[1]
    for name in ("test_failed", "test_errored"):
        assert f"`test_gh.py::{name}`" in failures
        assert f"screenshot: `test_gh.py-{name}-run-" in failures
    assert "test_not_dai" not in text

    annotations = [line for line in result.stdout.lines if line.startswith("::")]
    assert sorted(annotations) == sorted(set(annotations)), "an annotation printed twice"
    assert len(annotations) == 3, annotations
    for name, kind in (("test_failed", "DAIRunFailed"), ("test_errored", "DAIRunError")):
        (line,) = [a for a in annotations if f"title=test_gh.py%3A%3A{name}::" in a]
        assert line.startswith(f"::error file=test_gh.py,line={marker_line(name)},"), line
        message = line.split("::", 2)[2]
        assert message.startswith(f"{kind}: DAI run of model"), message
        assert "%0A" not in message
        assert "\n" not in message
        assert re.search(r"\(screenshot: test_gh\.py-test_\w+-run-\d+\.png\)$", message)
    (by_hand,) = [a for a in annotations if "title=test_gh.py%3A%3Atest_by_hand::" in a]
    definition = MODULE.splitlines().index("def test_by_hand(dai_session):") + 1
    assert by_hand.startswith(f"::error file=test_gh.py,line={definition},"), by_hand
    assert "AssertionError" in by_hand or "assert" in by_hand, by_hand


def test_nothing_for_github_outside_github_actions(
    pytester: pytest.Pytester, sim: DAISimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    pytester.makepyfile(test_gh=MODULE)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1, failed=4)
    assert not [line for line in result.stdout.lines if line.startswith("::")]


def test_annotation_escapes_what_github_would_misread() -> None:
    line = annotation(
        "tests/t.py::test_x[a,b:c]",
        {"message": "100% broken\nsecond line", "file": "tests/t.py", "line": 7},
    )
    assert line == (
        "::error file=tests/t.py,line=7,title=tests/t.py%3A%3Atest_x[a%2Cb%3Ac]"
        "::100%25 broken%0Asecond line"
    )


def test_summary_cells_keep_the_table_intact(tmp_path: Path) -> None:
    from pytest_dai.client.status import RunState
    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.glue.report.github import markdown_summary
    from pytest_dai.glue.report.summary import SummaryCollector

    collector = SummaryCollector()
    collector.runs["e1"] = RunReport(
        kind="model",
        key="e1",
        nodeid="t.py::test_a[x|y]",
        name="Shop | checkout\nnew line <b>",
        agent="",
        status="Failed",
        state=RunState.FAILED,
        duration=1.5,
        url="https://dai.example.com/runs/7",
        run_id="7",
        test_failed=True,
    )
    collector.failures["t.py::test_a[x|y]"] = {"message": "a | b", "warning": "404"}
    text = markdown_summary(collector)
    _header, rows = read_table(text)
    assert rows == [
        [
            "`t.py::test_a[x\\|y]`",
            "Shop \\| checkout new line &lt;b&gt;",
            "-",
            "Failed",
            "1.5 s",
            "[7](https://dai.example.com/runs/7)",
            "-",
        ]
    ]
    assert "no screenshot: 404" in text
