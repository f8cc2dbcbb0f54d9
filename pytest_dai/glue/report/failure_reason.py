"""The reason of a failed DAI test in one short line, for the places CI users look first: the
GitHub ``::error`` annotation and the job summary (:mod:`pytest_dai.glue.report.github`).

The reason is the line the terminal and the JUnit failure show under the summary (a model run's
``failed in step 3: Card was declined: ...``, a test configuration's ``failed in test case
Checkout: Failed: ...``, an offline agent): it comes from the outcome exception
(:attr:`~pytest_dai.lifecycle.run_errors.DAIRunOutcome.reason`), is kept on the run's facts
(:attr:`~pytest_dai.glue.report.facts.RunReport.reason`) and on the failure's evidence, and travels
with the test report, also from a pytest-xdist worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_dai.glue.report.facts import RunReport

__all__ = ["REASON_LIMIT", "URL_LIMIT", "failure_facts", "note_reason", "shortened"]

#: The most characters of a reason an annotation or a summary cell shows (the rest is cut,
#: with an ellipsis: the whole line is in the terminal and the JUnit file).
REASON_LIMIT = 300
#: The most characters of a run's address shown (an address longer than this is not one).
URL_LIMIT = 500


def shortened(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters (an ellipsis says it was cut)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _reason_of(exc: BaseException | None) -> tuple[str, str]:
    """(reason, run address) an outcome exception carries; ("", "") for any other."""
    from pytest_dai.lifecycle.run_errors import DAIRunOutcome

    if not isinstance(exc, DAIRunOutcome):
        return "", ""
    url = str(getattr(exc.execution, "url", "") or "") if exc.execution is not None else ""
    return exc.reason, url


def note_reason(runs: Sequence[RunReport], exc: BaseException | None) -> None:
    """Put the reason of ``exc`` (an outcome exception) on the run it is about, told by its
    address; with none told, on the test's only marker run."""
    reason, url = _reason_of(exc)
    if not reason:
        return
    own = [run for run in runs if not run.by_hand]
    matching = [run for run in runs if url and run.url == url] or (own if len(own) == 1 else [])
    for run in matching:
        run.reason = reason


def failure_facts(exc: BaseException | None, runs: Sequence[RunReport]) -> dict[str, str]:
    """What a failed test's evidence says beyond its first line: ``reason`` (one line) and
    ``url`` (the address of the run that failed it: the exception's, else the test's marker
    run's), each left out when not known."""
    reason, url = _reason_of(exc)
    if not url:
        own = [run for run in runs if not run.by_hand and run.url]
        url = own[-1].url if own else ""
    found = {"reason": shortened(reason), "url": shortened(url, URL_LIMIT)}
    return {key: value for key, value in found.items() if value}
