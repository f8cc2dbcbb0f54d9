"""Failure evidence: the screenshot the failing action saw, and the run's last log lines.

For a failed or errored run (a model run, or a test result of a test configuration): find the
failing entry of the run log (contract 2.5), walk back to the nearest earlier entry with an
``image_id``, fetch that image (E12) and save it under ``dai_artifacts`` with a name that says
test and run, with the run's last log lines next to it as text. The same log also names the
suite commit (``Using Git commit SHA: '...'``).

:func:`collect` takes only a log (entries) and a way to fetch an image, so it serves every kind
of run. Fetching evidence never changes a test's outcome: whatever goes wrong becomes one
warning line (:attr:`Evidence.warning`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dai.client.errors import DAIError
from pytest_dai.glue.report.artifacts import remember

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pytest_dai.client.records import LogEntry

__all__ = [
    "Evidence",
    "collect",
    "failing_index",
    "file_stem",
    "git_sha",
    "image_kind",
    "log_image_id",
    "log_step",
    "walk_back",
]

#: How many of the run's last log lines are kept next to the screenshot.
LOG_TAIL = 200

_GIT_SHA = re.compile(r"Using Git commit SHA:\s*'([0-9a-fA-F]{7,64})'")
_ERROR_WORDS = re.compile(
    r"\b(fail(ed|ure|s)?|error(s|ed)?|exception|not found|could not|unable to|timed? ?out)\b",
    re.IGNORECASE,
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


#: The failure evidence of the test's run (screenshot, last log lines, suite commit).
EVIDENCE_KEY: pytest.StashKey[Evidence] = pytest.StashKey()


@dataclass
class Evidence:
    """What was kept for one run (plain data: it travels in test reports as a dict)."""

    #: The saved screenshot (absolute path), "" when none.
    screenshot: str = ""
    #: The image id the screenshot was fetched by.
    image_id: str = ""
    #: The run's last log lines (absolute path of a text file), "" when none.
    log_file: str = ""
    #: The suite commit the run used, where the log names it.
    git_sha: str = ""
    #: One line saying why there is no screenshot ("" when there is one, or none was wanted).
    warning: str = ""
    #: Files of further runs of the same test (a test configuration's failed test results).
    more: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a report attribute."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        """The inverse of :meth:`to_dict` (unknown keys ignored)."""
        found = cls()
        for name in {f.name for f in fields(cls)} - {"more"}:
            if data.get(name) is not None:
                setattr(found, name, str(data[name]))
        more = data.get("more")
        found.more = [str(path) for path in more] if isinstance(more, list) else []
        return found

    def files(self) -> list[str]:
        """Every file kept: the screenshot, the log lines, then those of further runs."""
        return [path for path in (self.screenshot, self.log_file, *self.more) if path]

    def merged(self, other: Evidence) -> Evidence:
        """This evidence with a further run's (the first screenshot stays the main one)."""
        if not self.screenshot and other.screenshot:
            first, second = other, self
        else:
            first, second = self, other
        warnings = [w for w in (self.warning, other.warning) if w]
        return Evidence(
            screenshot=first.screenshot,
            image_id=first.image_id,
            log_file=first.log_file or second.log_file,
            git_sha=self.git_sha or other.git_sha,
            warning="; ".join(dict.fromkeys(warnings)),
            more=[
                *first.more,
                *(p for p in (second.screenshot, second.log_file) if p and p != first.log_file),
                *second.more,
            ],
        )


# -- reading the log ----------------------------------------------------------------------------


def log_step(entry: LogEntry) -> int | None:
    """The entry's step: ``step_id`` (contract revision 2) or ``step`` (older servers)."""
    raw = entry.raw
    value = raw.get("step_id", raw.get("step"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def log_image_id(entry: LogEntry) -> str | None:
    """The entry's ``image_id`` when it names one (a string or a number), else None."""
    value = entry.image_id  # (made safe where the entry was parsed)
    return value.strip() or None if value is not None else None


def _reads_as_error(entry: LogEntry) -> bool:
    return bool(_ERROR_WORDS.search(entry.message))


def failing_index(entries: Sequence[LogEntry]) -> int | None:
    """The failing entry of a failed run's log (contract 2.5): within the steps, the last
    entry whose message reads as an error, else the last entry of the last step; in a log
    without steps, the last entry that reads as an error, else the last entry."""
    if not entries:
        return None
    stepped = [index for index, entry in enumerate(entries) if log_step(entry) is not None]
    candidates = stepped or list(range(len(entries)))
    for index in reversed(candidates):
        if _reads_as_error(entries[index]):
            return index
    return candidates[-1]


def walk_back(entries: Sequence[LogEntry], index: int) -> str | None:
    """The image id of the nearest entry at or before ``index`` that names one (Eggplant
    captures the screen, then acts: that frame is what the failed action saw)."""
    for position in range(min(index, len(entries) - 1), -1, -1):
        found = log_image_id(entries[position])
        if found is not None:
            return found
    return None


def git_sha(entries: Sequence[LogEntry]) -> str:
    """The suite commit from a ``Using Git commit SHA: '<sha>'`` line ("" when none)."""
    for entry in entries:
        match = _GIT_SHA.search(entry.message)
        if match:
            return match.group(1).lower()
    return ""


def image_kind(data: bytes) -> str | None:
    """``"png"`` or ``"jpg"`` from the bytes' signature; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    return None


# -- saving -------------------------------------------------------------------------------------


def file_stem(nodeid: str, run: str) -> str:
    """A file name (no extension) that says test and run, safe on every file system:
    ``tests_test_shop.py_test_pay-run-30832``; long names are cut and keep a short hash."""
    test = _UNSAFE.sub("_", nodeid.replace("::", "-")).strip("_.-") or "test"
    label = _UNSAFE.sub("_", run).strip("_.-")[:40] or "unknown"
    if len(test) > 90:
        digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
        test = f"{test[:80]}-{digest}"
    return f"{test}-run-{label}"


def _write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.{os.getpid()}.part"
    with open(partial, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)
    remember(path)  # the next session removes it (evidence of one session only)


def collect(
    entries: Sequence[LogEntry] | None,
    fetch: Callable[[str], bytes],
    *,
    folder: str,
    nodeid: str,
    run: str,
    failed: bool,
) -> Evidence:
    """The evidence of one run from its log. Only for a ``failed`` run is anything fetched or
    saved: the screenshot the failing action saw (``fetch(image_id)``, which raises a
    :class:`DAIError` when it cannot) and the last :data:`LOG_TAIL` log lines.

    Never raises for a missing or bad screenshot or a file that cannot be written: that is
    :attr:`Evidence.warning`, one line."""
    logs = list(entries or [])
    evidence = Evidence(git_sha=git_sha(logs))
    if not failed:
        return evidence
    if entries is None:
        evidence.warning = "the run log could not be read"
        return evidence
    stem = os.path.join(os.path.abspath(folder), file_stem(nodeid, run))
    problem = ""
    if logs:
        try:
            text = "\n".join(entry.format() for entry in logs[-LOG_TAIL:]) + "\n"
            _write(stem + ".log.txt", text.encode("utf-8", "replace"))
            evidence.log_file = stem + ".log.txt"
        except OSError as exc:
            problem = f"could not write {stem}.log.txt: {exc.strerror or exc}"
    index = failing_index(logs)
    image_id = walk_back(logs, index) if index is not None else None
    if image_id is None:
        evidence.warning = problem or "the run log names no screenshot before the failing entry"
        return evidence
    evidence.image_id = image_id
    try:
        data = fetch(image_id)
        kind = image_kind(data)
        if kind is None:
            evidence.warning = f"screenshot {image_id!r} is not a PNG or JPEG image"
            return evidence
        _write(f"{stem}.{kind}", data)
        evidence.screenshot = f"{stem}.{kind}"
    except DAIError as exc:
        evidence.warning = str(exc).splitlines()[0]
    except OSError as exc:
        evidence.warning = f"could not write {stem}.png: {exc.strerror or exc}"
    return evidence
