"""``--dai-junit-steps PATH``: a second JUnit XML file with one testsuite per DAI run and one
testcase per DAI step, for CI pages that show a 40-step model as 40 results.

Written by the controller only (under pytest-xdist the steps arrive with the test reports),
atomically (a temporary file, then ``os.replace``), at the end of the session: also when a run
errored or the session was interrupted (steps not reached are ``<skipped>`` with the reason;
a step whose result the run log cannot tell has ``status="unknown"`` and says why in its
``<system-out>``).
The format follows the JUnit schema that pytest's own tests validate against (junit-10.xsd).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_dai.glue.report.facts import RunReport
    from pytest_dai.lifecycle.steps import StepResult

__all__ = ["steps_xml", "write_steps_junit"]

#: Code points XML 1.0 cannot carry: control characters, lone surrogates (JSON can bring them
#: as ``\ud83d``), U+FFFE and U+FFFF.
_ILLEGAL = (
    {c for c in range(32) if c not in (9, 10, 13)} | set(range(0xD800, 0xE000)) | {0xFFFE, 0xFFFF}
)


def _clean(text: str) -> str:
    """Text XML 1.0 can carry (illegal characters dropped)."""
    return "".join(ch for ch in text if ord(ch) not in _ILLEGAL)


def _suite(run: RunReport, hostname: str) -> ET.Element:
    counts = {"failed": 0, "error": 0, "skipped": 0}
    for step in run.steps:
        if step.outcome in counts:
            counts[step.outcome] += 1
    suite = ET.Element(
        "testsuite",
        {
            "name": _clean(f"{run.name} ({run.key})"),
            "tests": str(len(run.steps)),
            "failures": str(counts["failed"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"]),
            "time": f"{run.duration or 0.0:.3f}",
            "timestamp": run.started_at or datetime.now(timezone.utc).isoformat(),
            "hostname": hostname,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _suite_properties(run):
        if value:
            ET.SubElement(properties, "property", {"name": name, "value": _clean(value)})
    failing = [s for s in run.steps if s.outcome in ("failed", "error")]
    for step in run.steps:
        attachment = run.screenshot if failing and step is failing[-1] else ""
        suite.append(_case(run.name, step, attachment))
    return suite


def _suite_properties(run: RunReport) -> list[tuple[str, str]]:
    """A run's properties in the steps file."""
    config = run.kind == "test_config"
    return [
        ("dai_task_instance_id" if config else "dai_execution_id", run.key),
        ("dai_url", run.url),
        ("dai_test_config" if config else "dai_model", run.name),
        ("dai_agent", run.agent),
        ("dai_status", run.ended_as),
        ("dai_test", run.nodeid),
        ("dai_rerun_of", run.rerun_of),
        ("dai_interrupted", run.interrupted),
        ("dai_screenshot", run.screenshot),
    ]


def _case(classname: str, step: StepResult, attachment: str) -> ET.Element:
    """A step's testcase; ``attachment``: the screenshot the failing action saw (for CI pages
    that show JUnit attachments), on the run's last failing step."""
    case = ET.Element(
        "testcase",
        {"classname": _clean(classname), "name": _clean(step.name), "time": f"{step.duration:.3f}"},
    )
    if step.outcome == "unknown":
        # JUnit has no "unknown" result: say it in the testcase's status and its output
        # rather than invent a pass or a skip (contract 2.5).
        case.set("status", "unknown")
        ET.SubElement(case, "system-out").text = _clean(step.message) or "result unknown"
        return case
    tag = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(step.outcome)
    if tag is not None:
        message = _clean(step.message) or step.outcome
        first = next((line for line in message.splitlines() if line.strip()), step.outcome)
        ET.SubElement(case, tag, {"message": first[:500]}).text = message
    if attachment:
        ET.SubElement(case, "system-out").text = f"[[ATTACHMENT|{_clean(attachment)}]]"
    return case


def steps_xml(runs: list[RunReport]) -> bytes:
    """The document: ``<testsuites>`` with a ``<testsuite>`` per run."""
    hostname = socket.gethostname()
    suites = [_suite(run, hostname) for run in runs]
    root = ET.Element(
        "testsuites",
        {
            "name": "pytest-dai steps",
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": str(sum(int(s.get("errors", "0")) for s in suites)),
            "time": f"{sum(run.duration or 0.0 for run in runs):.3f}",
        },
    )
    root.extend(suites)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def write_steps_junit(path: str | os.PathLike[str], runs: list[RunReport]) -> None:
    """Write the file atomically (the folder is made if needed), readable as the umask allows
    (like pytest's own JUnit file; ``tempfile.mkstemp`` would make it owner-only)."""
    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".dai-steps-{os.getpid()}-{secrets.token_hex(4)}.xml.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(steps_xml(runs))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
