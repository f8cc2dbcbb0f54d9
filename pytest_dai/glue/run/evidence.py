"""Failure evidence on the pytest side: kept after a marked test's run ended, put on the test's
report (it travels from pytest-xdist workers to the controller), written into the JUnit XML
(property ``dai_screenshot`` and a ``[[ATTACHMENT|path]]`` line in ``<system-out>``, the
convention Jenkins' JUnit attachments and GitLab's JUnit pages read) and into pytest-html's
report when pytest-html is installed.

Nothing here changes a test's outcome: any problem is one warning line in the summary.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING

from pytest_dai.client.errors import DAIConnectionError
from pytest_dai.glue.base.keys import EVIDENCE_ATTRIBUTE, RUNS_ATTRIBUTE, SCREENSHOTS_DOWN_KEY
from pytest_dai.glue.report.evidence import EVIDENCE_KEY, Evidence, collect
from pytest_dai.glue.report.facts import set_property
from pytest_dai.glue.report.failure_reason import failure_facts
from pytest_dai.glue.report.html import add_extras

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pytest

    from pytest_dai.client.records import LogEntry
    from pytest_dai.glue.process.state import DAIState
    from pytest_dai.lifecycle.execution import Execution

__all__ = [
    "annotate_report",
    "guarded_fetch",
    "keep_evidence",
    "keep_run_evidence",
    "marker_location",
]

log = logging.getLogger("pytest_dai")


def keep_evidence(
    item: pytest.Item,
    entries: Sequence[LogEntry] | None,
    fetch: Callable[[str], bytes],
    *,
    folder: str,
    run: str,
    failed: bool,
) -> Evidence:
    """Collect a run's evidence (any kind of run: a log and a way to fetch an image), keep it
    on the item and set the JUnit properties ``dai_screenshot`` and ``dai_git_sha``.

    Called again for the same test (a test configuration with several failed test results),
    the evidence adds up: each screenshot gets its own ``dai_screenshot`` property, the first
    one stays the test's main screenshot.

    Never raises (but for Ctrl-C and the like): evidence must not change the outcome. The
    plugin is started (its report hooks attach the evidence)."""
    try:
        evidence = collect(
            entries, fetch, folder=folder, nodeid=item.nodeid, run=run, failed=failed
        )
    except Exception as exc:
        log.debug("pytest-dai: evidence failed", exc_info=True)
        evidence = Evidence(warning=f"{type(exc).__name__}: {exc}".splitlines()[0])
        if not failed:
            evidence.warning = ""
    earlier = item.stash.get(EVIDENCE_KEY, None)
    item.stash[EVIDENCE_KEY] = evidence if earlier is None else earlier.merged(evidence)
    if evidence.screenshot and earlier is not None and earlier.screenshot:
        item.user_properties.append(("dai_screenshot", evidence.screenshot))
    elif evidence.screenshot:
        set_property(item, "dai_screenshot", evidence.screenshot)
    if evidence.git_sha and (earlier is None or not earlier.git_sha):
        set_property(item, "dai_git_sha", evidence.git_sha)
    return item.stash[EVIDENCE_KEY]


def keep_run_evidence(
    item: pytest.Item,
    state: DAIState,
    execution: Execution,
    logs: list[LogEntry] | None,
    *,
    timed_out: bool = False,
) -> Evidence:
    """:func:`keep_evidence` for a marked test's model run: only a failed or errored run, or
    one aborted at its deadline (the screen it was stuck on), gets a screenshot and its last
    log lines saved."""
    from pytest_dai.client.status import RunState

    failed = timed_out or execution.state in (RunState.FAILED, RunState.ERROR)
    return keep_evidence(
        item,
        logs,
        guarded_fetch(item, lambda image_id: state.session().client.screenshot(image_id)),
        folder=state.settings.artifacts,
        run=execution.run_id or execution.id,
        failed=failed,
    )


def guarded_fetch(item: pytest.Item, fetch: Callable[[str], bytes]) -> Callable[[str], bytes]:
    """``fetch`` (a screenshot by image id), not tried again in this process once the server
    did not answer: a server that does not answer costs one failed run its time (a few
    seconds at most), not every failed run (model run or test case run)."""
    config = item.config

    def guarded(image_id: str) -> bytes:
        down = config.stash.get(SCREENSHOTS_DOWN_KEY, None)
        if down is not None:
            raise DAIConnectionError(f"fetching a screenshot: not asked for again after {down}")
        try:
            return fetch(image_id)
        except DAIConnectionError as exc:
            config.stash[SCREENSHOTS_DOWN_KEY] = f"{item.nodeid}: {exc}".splitlines()[0]
            raise

    return guarded


def marker_location(item: pytest.Item) -> tuple[str, int]:
    """``(file, line)`` of the test's ``dai_model`` (or ``dai_test_config``) marker: the
    decorator's line (1-based) when it decorates the function, else the function's line. The
    file is relative to the rootdir, with ``/`` separators (as GitHub's annotations want)."""
    path, lineno, _ = item.location
    path = path.replace("\\", "/")
    function = getattr(item, "function", None)
    try:
        lines, start = inspect.getsourcelines(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return path, (lineno or 0) + 1
    for offset, text in enumerate(lines):
        stripped = text.lstrip()
        if stripped.startswith(("def ", "async def ")):
            break
        if "dai_model" in stripped or "dai_test_config" in stripped:
            return path, start + offset
    return path, (lineno or 0) + 1


def annotate_report(
    item: pytest.Item, report: pytest.TestReport, exc: BaseException | None = None
) -> None:
    """Put the evidence on a DAI test's call report (``report.dai_evidence``: the saved files,
    the warning, the marker's file and line and, for a failure, its first line, its reason
    line and the run's address, from ``exc``), and add pytest-html extras (the screenshot,
    the run's address, the last log lines).

    A DAI test: one with a DAI marker, or one that started runs through ``dai_session``."""
    evidence = item.stash.get(EVIDENCE_KEY, None)
    data: dict[str, object] = dict(evidence.to_dict()) if evidence is not None else {}
    data["file"], data["line"] = marker_location(item)
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = str(getattr(crash, "message", "") or report.longreprtext).strip()
        data["message"] = text.splitlines()[0] if text else "failed"

        data.update(failure_facts(exc, getattr(report, RUNS_ATTRIBUTE, None) or []))
    setattr(report, EVIDENCE_ATTRIBUTE, data)
    if evidence is not None and report.failed and item.config.pluginmanager.hasplugin("html"):
        add_extras(item, report, evidence)
