"""What real DAI servers answer (contract revision 2): log entries, times and status words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import responses

from pytest_dai.client.endpoints import DAIClient
from pytest_dai.client.records import LogEntry, RunRecord, parse_time
from pytest_dai.client.status import RunState, normalise_status

from .support import RUNLOGS

#: A run log as DAI 25.3.1 answers it (contract 2.5), trimmed to four entries.
REAL_LOG = {
    "items": [
        {
            "id": 1,
            "eventtime": "2026-08-02T10:00:01.123Z",
            "testrunid": 30832,
            "message": "Login",
            "severity": "INFORMATIONAL",
            "step_id": 7,
            "stage": "execution",
            "message_type": "step",
            "image_name": None,
            "image_id": None,
        },
        {
            "id": 2,
            "eventtime": "2026-08-02T10:00:05.500Z",
            "testrunid": 30832,
            "message": "Image found: LoginButton",
            "severity": "INFORMATIONAL",
            "step_id": 7,
            "stage": "execution",
            "message_type": "imagefound",
            "image_name": "LoginButton",
            "image_id": "img-41",
        },
        {
            "id": 3,
            "eventtime": "2026-08-02T10:00:09Z",
            "testrunid": 30832,
            "message": "Unable to find image Dashboard",
            "severity": "INFORMATIONAL",
            "step_id": 8,
            "stage": "execution",
            "message_type": "imagefound",
            "image_name": "Dashboard",
            "image_id": None,
        },
        {
            "id": 4,
            "eventtime": "2026-08-02T10:00:10Z",
            "testrunid": 30832,
            "message": "Run finished",
            "severity": "INFORMATIONAL",
            "step_id": None,
            "stage": "execution",
            "message_type": "runfinished",
            "image_name": None,
            "image_id": None,
        },
    ],
    "total_count": 4,
    "date_as_of": "2026-08-02 10:00:11.000001+01",
}


def test_real_log_shape_is_read(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{RUNLOGS}/30832", json=REAL_LOG)
    page = client.run_logs("30832")
    assert page.total_count == 4
    first, found, failing, last = page.items
    assert (first.step, first.step_ref, first.timestamp) == (7, "7", "2026-08-02T10:00:01.123Z")
    assert first.time == datetime(2026, 8, 2, 10, 0, 1, 123000, tzinfo=timezone.utc)
    assert (found.image_id, found.image_name, found.message_type) == (
        "img-41",
        "LoginButton",
        "imagefound",
    )
    assert failing.severity == "INFORMATIONAL"
    assert failing.status is None  # no entry carries a step status
    assert (last.step, last.step_ref) == (None, None)
    assert failing.format() == (
        "2026-08-02T10:00:09Z INFORMATIONAL step 8 Unable to find image Dashboard"
    )


def test_old_field_names_still_accepted() -> None:
    entry = LogEntry.parse(
        {"timestamp": "2026-11-28T10:00:01Z", "step": 3, "status": "Passed", "message": "ok"}
    )
    assert (entry.step, entry.step_ref, entry.status) == (3, "3", "Passed")
    assert entry.time == datetime(2026, 11, 28, 10, 0, 1, tzinfo=timezone.utc)
    # the new name wins where a server sends both
    both = LogEntry.parse({"eventtime": "2026-01-01T00:00:00Z", "timestamp": "x", "step_id": 9})
    assert (both.timestamp, both.step) == ("2026-01-01T00:00:00Z", 9)


def test_string_step_ids_group_too() -> None:
    entry = LogEntry.parse({"step_id": "a1b2", "message": "m"})
    assert (entry.step, entry.step_ref) == (None, "a1b2")


PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the legacy record's form (doc): space, microseconds, two-digit offset
        ("2018-05-31 17:00:01.366412+01", datetime(2018, 5, 31, 17, 0, 1, 366412, PLUS_ONE)),
        ("2018-05-31 17:00:01+01", datetime(2018, 5, 31, 17, 0, 1, tzinfo=PLUS_ONE)),
        ("2018-05-31T17:00:01.366412+0100", datetime(2018, 5, 31, 17, 0, 1, 366412, PLUS_ONE)),
        ("2018-05-31T16:00:01.366Z", datetime(2018, 5, 31, 16, 0, 1, 366000, timezone.utc)),
        ("2018-05-31T16:00:01.36Z", datetime(2018, 5, 31, 16, 0, 1, 360000, timezone.utc)),
        (
            "2018-05-31T16:00:01.1234567+00:00",
            datetime(2018, 5, 31, 16, 0, 1, 123456, timezone.utc),
        ),
        ("2018-05-31 16:00:01", datetime(2018, 5, 31, 16, 0, 1, tzinfo=timezone.utc)),
        ("2018-05-31T13:00:01-03", datetime(2018, 5, 31, 16, 0, 1, tzinfo=timezone.utc)),
    ],
)
def test_times_parse_without_fromisoformat(
    text: str, expected: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python 3.10's fromisoformat takes neither "Z", "+01" nor five-digit fractions: the parser
    # must not lean on a newer Python's. Prove it by taking fromisoformat away.
    import pytest_dai.client.records as records

    class NoIso(datetime):
        @classmethod
        def fromisoformat(cls, date_string: str) -> datetime:
            raise AssertionError("fromisoformat is not used")

    monkeypatch.setattr(records, "datetime", NoIso)
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize(
    "value",
    [
        "tomorrow",
        "2018-13-01T00:00:00Z",
        "2018-05-31T25:00:00Z",
        "2018-05-31T10:00:00+24",
        float("nan"),
        float("inf"),
        1e300,
        -1e300,
        True,
        [],
        {},
        "9" * 100,
    ],
)
def test_unreadable_times_are_none_not_a_traceback(value: object) -> None:
    assert parse_time(value) is None


def test_unreadable_end_time_still_ends_the_run() -> None:
    weird = RunRecord.parse(
        {"status": "Weird", "endtime": "2018-05-31 25:61:00+01"}, "E2 GET /ai/runs"
    )
    assert weird.ended_at is None
    assert weird.status.final
    assert weird.status.state is RunState.ERROR
    assert "'Weird'" in weird.status.describe()


def test_short_offset_times_in_a_run_record() -> None:
    record = RunRecord.parse(
        {
            "status": "Passed",
            "starttime": "2018-05-31 17:00:01.366412+01",
            "endtime": "2018-05-31 17:10:01.366412+01",
        },
        "E2 GET /ai/runs",
    )
    assert record.started_at == datetime(2018, 5, 31, 16, 0, 1, 366412, timezone.utc)
    assert record.ended_at is not None
    assert (record.ended_at - record.started_at).total_seconds() == 600


@pytest.mark.parametrize("word", ["Untested", "un_tested"])
def test_untested_is_a_final_error(word: str) -> None:
    status = normalise_status(word)
    assert status.final
    assert status.state is RunState.ERROR
    assert status.known
    assert status.describe() == word
