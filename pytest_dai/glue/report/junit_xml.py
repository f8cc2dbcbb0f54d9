"""What pytest-dai adds to pytest's own JUnit XML file (``--junitxml``) beyond properties:
the ``[[ATTACHMENT|path]]`` lines of a failed test's evidence, and one ``<failure>`` for a
failed test configuration (its failed test cases' subtests would each add their own).

Through pytest's JUnit reporter (``_pytest.junitxml``): its testcase for a report is open
until the session ends, so what is added here lands in that testcase. Controller only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from pytest_dai.glue.base.keys import EVIDENCE_ATTRIBUTE, RUNS_ATTRIBUTE
from pytest_dai.glue.report.evidence import Evidence

if TYPE_CHECKING:
    import pytest

__all__ = ["attach_to_junit", "is_subtest_report", "keep_one_failure"]


def _node_reporter(config: pytest.Config, report: pytest.TestReport) -> Any | None:
    """pytest's JUnit testcase writer for the report's test; None without ``--junitxml``."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest moved it
        return None
    xml = config.stash.get(xml_key, None)
    return None if xml is None else xml.node_reporter(report)


def is_subtest_report(report: pytest.TestReport) -> bool:
    """A report of one of pytest's subtests (``subtests.test()``), not of the test itself."""
    return type(report).__name__ == "SubtestReport"


def attach_to_junit(config: pytest.Config, report: pytest.TestReport) -> None:
    """A ``[[ATTACHMENT|<absolute path>]]`` line per saved evidence file in the testcase's
    ``<system-out>``, whatever ``junit_logging`` says."""
    data = getattr(report, EVIDENCE_ATTRIBUTE, None)
    if not isinstance(data, dict) or report.when != "call" or is_subtest_report(report):
        return

    paths = Evidence.from_dict(data).files()
    reporter = _node_reporter(config, report) if paths else None
    if reporter is None:
        return
    node = ET.Element("system-out")
    node.text = "".join(f"[[ATTACHMENT|{path}]]\n" for path in paths)
    reporter.append(node)


def keep_one_failure(config: pytest.Config, report: pytest.TestReport) -> None:
    """A failed test configuration's testcase keeps one ``<failure>``: the test's own, which
    names every failed test case with its last error lines (the subtests' are dropped)."""
    runs = getattr(report, RUNS_ATTRIBUTE, None) or []
    config_test = any(getattr(run, "kind", "") == "test_config" for run in runs)
    if not (config_test and report.failed and report.when == "call"):
        return
    if is_subtest_report(report):
        return
    reporter = _node_reporter(config, report)
    if reporter is None:
        return
    failures = [node for node in reporter.nodes if node.tag == "failure"]
    for node in failures[:-1]:
        reporter.nodes.remove(node)
        reporter.xml.stats["failure"] -= 1
