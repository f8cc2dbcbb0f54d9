"""Reading a run log the way contract 2.5 says: by ``step_id`` groups, never by severity.

No entry of a real DAI log carries a step status, and real failures are often
``INFORMATIONAL``. What the log does say is which steps ran (the ``step_id`` groups, in the
order they first appear) and which step the run ended in (the last group). The run's final
status comes from the run record. So:

- a step before the last one that ran passed: the run went on past it (unless the record
  counts more failed steps than the last one, when we cannot tell which: ``unknown``);
- the last step that ran has the run's final status (``unknown`` while the run is going);
- steps never reached were not run.

Older servers that write a step status (``status``, with ``step``) are believed for that
step. :func:`failing_entry` is the entry that shows why a failed run failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_dai.client.status import RunState, normalise_status
from pytest_dai.client.text import escape_control_chars

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_dai.client.records import LogEntry

__all__ = [
    "StepGroup",
    "failing_entry",
    "failure_reason",
    "reads_as_error",
    "step_groups",
    "step_verdicts",
]

#: Messages that read as an error whatever their severity says.
_ERROR_WORDS = re.compile(
    r"\b(error|errors|failed|failure|fail|exception|not found|timed? ?out|unable|cannot|"
    r"could not|crash(ed)?|abort(ed)?)\b",
    re.IGNORECASE,
)

#: A line break in a message as the client keeps it (shown escaped: ``\x0a``, ``\x0d``).
_LINE_BREAK = re.compile(r"\\x0[ad]")

#: Step outcomes: passed, failed, error, skipped (cancelled during the step, or not reached),
#: unknown (the log cannot tell).
OUTCOMES = ("passed", "failed", "error", "skipped", "unknown")


@dataclass
class StepGroup:
    """The entries of one model step, in log order; ``ref`` is the server's ``step_id``."""

    ref: str
    entries: list[LogEntry] = field(default_factory=list)

    @property
    def explicit_status(self) -> str | None:
        """A step status an older server wrote into the log (the last one), else None."""
        for entry in reversed(self.entries):
            if entry.status and entry.step_ref is not None:
                return entry.status
        return None

    @property
    def name(self) -> str:
        """A ``step_name``/``name`` field if the server gives one, else the first message."""
        for entry in self.entries:
            if entry.step_name and entry.step_name.strip():
                return entry.step_name.strip()
        first = next((e.message.strip() for e in self.entries if e.message.strip()), "")
        # Its first line (a message's line breaks are shown escaped: see server_text).
        first = _LINE_BREAK.split(first, 1)[0] if first else ""
        return first[:80] if first else f"step {self.ref}"


def step_groups(logs: Sequence[LogEntry]) -> list[StepGroup]:
    """The steps that ran, in the order they first appear; entries without a step are left out."""
    groups: dict[str, StepGroup] = {}
    for entry in logs:
        if entry.step_ref is None:
            continue
        groups.setdefault(entry.step_ref, StepGroup(entry.step_ref)).entries.append(entry)
    return list(groups.values())


def reads_as_error(entry: LogEntry) -> bool:
    """Whether an entry says something went wrong (its words, or an ERROR-like severity)."""
    if entry.severity in {"ERROR", "CRITICAL", "FATAL", "SEVERE"}:
        return True
    return bool(_ERROR_WORDS.search(entry.message))


def failing_entry(logs: Sequence[LogEntry], state: RunState) -> LogEntry | None:
    """The entry that shows why a failed or errored run failed (contract 2.5): the last entry
    of the last step that ran, or, with no steps in the log, the last entry whose message reads
    as an error. None for any other state or an empty log."""
    if state not in (RunState.FAILED, RunState.ERROR) or not logs:
        return None
    groups = step_groups(logs)
    if groups:
        return groups[-1].entries[-1]
    return next((entry for entry in reversed(logs) if reads_as_error(entry)), None)


def failure_reason(logs: Sequence[LogEntry] | None, state: RunState) -> str:
    """The one line that says why a failed or errored run failed, read from its
    :func:`failing_entry` (``failed in step 3: <message>``); "" when the log does not tell.
    The same for a model run and for a test configuration's test case run."""
    failing = failing_entry(logs, state) if logs else None
    if failing is None:
        return ""
    where = f"step {failing.step_ref}" if failing.step_ref is not None else "the log"
    return escape_control_chars(f"failed in {where}: {failing.message}")


#: A step's outcome when the step ended in a state (any other final state: "error").
_STEP_OUTCOME = {
    RunState.PASSED: "passed",
    RunState.FAILED: "failed",
    RunState.CANCELLED: "skipped",
}


def _step_outcome(state: RunState) -> str:
    return _STEP_OUTCOME.get(state, "error")


def _explicit(word: str) -> str:
    """The outcome of a step whose own status word an older server wrote into the log."""
    return _step_outcome(normalise_status(word, ended=True).state)


def step_verdicts(
    groups: Sequence[StepGroup], state: RunState, *, finished: bool, steps_failed: int | None
) -> list[str]:
    """One outcome (see :data:`OUTCOMES`) per step group, by the rules of this module."""
    last_outcome = _step_outcome(state) if finished else "unknown"
    explicit_failures = sum(
        1 for g in groups if g.explicit_status and _explicit(g.explicit_status) != "passed"
    )
    # More failed steps than the last one and the log does not say which: earlier ones unknown.
    uncertain = (
        state in (RunState.FAILED, RunState.ERROR)
        and steps_failed is not None
        and steps_failed > 1 + explicit_failures
    )
    verdicts = []
    for index, group in enumerate(groups):
        if group.explicit_status:
            verdicts.append(_explicit(group.explicit_status))
        elif index == len(groups) - 1:
            verdicts.append(last_outcome)
        else:
            verdicts.append("unknown" if uncertain else "passed")
    return verdicts
