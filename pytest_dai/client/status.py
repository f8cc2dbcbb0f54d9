"""Status words of DAI run records, normalised (contract section 2.4).

Servers differ in the words they use ("Passed", "SUCCEEDED", "in_progress", ...): compare
case-insensitively, ignoring spaces, underscores and hyphens. A word not in the table is not
final while the run has no end time; once it has one, it is final and counts as an error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["FINAL_STATES", "RunState", "Status", "normalise_status"]


class RunState(str, enum.Enum):
    """What a run is doing, whatever word the server used for it."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


FINAL_STATES = frozenset({RunState.PASSED, RunState.FAILED, RunState.ERROR, RunState.CANCELLED})

_WORDS: dict[RunState, tuple[str, ...]] = {
    RunState.QUEUED: ("Queued", "Pending", "Preparing", "Scheduled", "Waiting"),
    RunState.RUNNING: ("Running", "In Progress", "Executing", "Started"),
    RunState.PASSED: ("Passed", "Success", "Succeeded", "Completed", "Pass"),
    RunState.FAILED: ("Failed", "Failure", "Fail"),
    RunState.ERROR: ("Error", "Errored", "Untested"),
    RunState.CANCELLED: ("Cancelled", "Canceled", "Aborted", "Stopped"),
}


#: Words that mean "still going" while the record has no end time and an error once it has one:
#: a DAI cloud lists running runs as ``INCOMPLETE`` (contract 2.4 and 2.7).
_RUNNING_UNTIL_ENDED = ("Incomplete",)


def _key(word: str) -> str:
    return "".join(ch for ch in word.casefold() if ch not in " _-\t")


_LOOKUP: dict[str, RunState] = {
    _key(word): state for state, words in _WORDS.items() for word in words
}
_RUNNING_UNTIL_ENDED_KEYS = frozenset(_key(word) for word in _RUNNING_UNTIL_ENDED)


@dataclass(frozen=True)
class Status:
    """A normalised status: the state and the server's own word for it."""

    state: RunState
    word: str
    known: bool = True

    @property
    def final(self) -> bool:
        """True once the run has ended (passed, failed, error or cancelled)."""
        return self.state in FINAL_STATES

    def describe(self) -> str:
        """The server's word, with the meaning when the word was not one we know."""
        if self.known:
            return self.word
        return f"{self.word!r} (a status word pytest-dai does not know, counted as {self.state})"


def normalise_status(word: object, *, ended: bool = False) -> Status:
    """Map a server's status word to a :class:`Status`.

    ``ended`` is whether the run record has an end time: an unknown word is then final and
    counts as :attr:`RunState.ERROR`; otherwise it is :attr:`RunState.UNKNOWN` (still going).
    ``Incomplete`` is running without an end time and an error with one.
    """
    text = "" if word is None else str(word).strip()
    if _key(text) in _RUNNING_UNTIL_ENDED_KEYS:
        return Status(RunState.ERROR if ended else RunState.RUNNING, text)
    state = _LOOKUP.get(_key(text))
    if state is not None:
        return Status(state, text)
    return Status(RunState.ERROR if ended else RunState.UNKNOWN, text, known=False)
