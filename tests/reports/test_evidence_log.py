"""Reading a run log for evidence (contract 2.5): the failing entry, the walk back to the
nearest earlier ``image_id``, the suite commit; in the revision-2 shape and the older one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_dai.client.errors import DAINotFoundError
from pytest_dai.client.records import LogEntry
from pytest_dai.glue.report.evidence import collect, failing_index, file_stem, git_sha, walk_back

PNG = b"\x89PNG\r\n\x1a\n" + b"rest"


def log(*entries: dict[str, Any]) -> list[LogEntry]:
    return [LogEntry.parse(entry) for entry in entries]


#: A real-looking revision-2 log: the failure is INFORMATIONAL, an ``imagefound`` entry.
REVISION_2 = log(
    {"id": 1, "eventtime": "2026-08-02T10:00:00Z", "message": "Run started", "step_id": None},
    {"id": 2, "message": "Using Git commit SHA: '0123456789abcdef0123456789abcdef01234567'"},
    {"id": 3, "message": "Click Login", "step_id": 1, "image_id": "img-1"},
    {"id": 4, "message": "Login clicked", "step_id": 1, "image_id": None},
    {"id": 5, "message": "Search for Basket", "step_id": 2, "image_id": "img-2"},
    {"id": 6, "message": "Search for PayButton", "step_id": 2, "image_id": 77},
    {
        "id": 7,
        "message": "Image PayButton not found on screen",
        "severity": "INFORMATIONAL",
        "message_type": "imagefound",
        "step_id": 2,
        "image_id": "",
    },
    {"id": 8, "message": "Run finished", "step_id": None},
)


def test_walk_back_from_the_failing_entry_in_the_revision_2_shape() -> None:
    index = failing_index(REVISION_2)
    assert index == 6
    assert walk_back(REVISION_2, index) == "77"
    assert git_sha(REVISION_2) == "0123456789abcdef0123456789abcdef01234567"


def test_older_field_names_step_and_timestamp() -> None:
    entries = log(
        {"timestamp": "2026-08-02T10:00:00Z", "message": "a", "step": 1, "image_id": "s1"},
        {"message": "b", "step": 2, "image_id": "s2"},
        {"message": "c", "step": 2},
        {"message": "Run finished: Failed"},
    )
    index = failing_index(entries)
    assert index == 2  # the last entry of the last step, not the run-level line after it
    assert walk_back(entries, index) == "s2"


def test_a_log_without_steps_uses_the_last_error_line() -> None:
    entries = log(
        {"message": "start", "image_id": "a"},
        {"message": "screen", "image_id": "b"},
        {"message": "Could not find the OK button"},
        {"message": "cleaning up"},
    )
    assert failing_index(entries) == 2
    assert walk_back(entries, 2) == "b"
    assert failing_index([]) is None
    assert git_sha(entries) == ""


def test_file_names_say_test_and_run_and_are_safe() -> None:
    stem = file_stem("tests/dai/test_shop.py::test_pay[card/visa]", "30832")
    assert stem == "tests_dai_test_shop.py-test_pay_card_visa-run-30832"
    long = file_stem("t.py::test_" + "x" * 300, "../../etc")
    assert len(long) < 140
    assert "/" not in long
    assert ".." not in long


def test_collect_saves_the_image_and_the_last_lines(tmp_path: Path) -> None:
    asked: list[str] = []

    def fetch(image_id: str) -> bytes:
        asked.append(image_id)
        return PNG

    evidence = collect(
        REVISION_2, fetch, folder=str(tmp_path), nodeid="t.py::test_a", run="7", failed=True
    )
    assert asked == ["77"]
    assert Path(evidence.screenshot).read_bytes() == PNG
    assert evidence.screenshot == str(tmp_path / "t.py-test_a-run-7.png")
    assert "PayButton not found" in Path(evidence.log_file).read_text()
    assert evidence.warning == ""


def test_collect_never_raises_and_says_why(tmp_path: Path) -> None:
    def missing(image_id: str) -> bytes:
        raise DAINotFoundError(
            f"fetching a screenshot (GET /api/v2/screenshots/{image_id}): 404 unknown screenshot"
        )

    evidence = collect(
        REVISION_2, missing, folder=str(tmp_path), nodeid="t.py::t", run="7", failed=True
    )
    assert evidence.screenshot == ""
    assert evidence.warning.startswith("fetching a screenshot (GET")
    html = collect(
        REVISION_2,
        lambda _: b"<html>",
        folder=str(tmp_path),
        nodeid="t.py::t",
        run="8",
        failed=True,
    )
    assert html.screenshot == ""
    assert "not a PNG or JPEG" in html.warning
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    unwritable = collect(
        REVISION_2, lambda _: PNG, folder=str(blocked), nodeid="t.py::t", run="9", failed=True
    )
    assert unwritable.screenshot == ""
    assert "could not write" in unwritable.warning


@pytest.mark.parametrize("failed", [False, True])
def test_nothing_fetched_for_a_passed_run(tmp_path: Path, failed: bool) -> None:
    asked: list[str] = []
    evidence = collect(
        REVISION_2,
        lambda image_id: asked.append(image_id) or PNG,  # type: ignore[func-returns-value]
        folder=str(tmp_path / "art"),
        nodeid="t.py::t",
        run="1",
        failed=failed,
    )
    assert bool(asked) == failed
    assert (tmp_path / "art").exists() == failed
    assert evidence.git_sha.startswith("0123")


def test_evidence_of_further_runs_adds_up() -> None:
    from pytest_dai.glue.report.evidence import Evidence

    none = Evidence(warning="404", git_sha="abc1234")
    first = Evidence(screenshot="/a.png", log_file="/a.log.txt", image_id="1")
    second = Evidence(screenshot="/b.png", log_file="/b.log.txt", warning="slow")
    merged = none.merged(first).merged(second)
    assert merged.screenshot == "/a.png"
    assert merged.files() == ["/a.png", "/a.log.txt", "/b.png", "/b.log.txt"]
    assert merged.warning == "404; slow"
    assert merged.git_sha == "abc1234"
    assert Evidence.from_dict(merged.to_dict()) == merged
