"""The one boundary for server text (:mod:`pytest_dai.client.server_text`): what every parser
of a server's answer passes each string through."""

from __future__ import annotations

import pytest

from pytest_dai.client.errors import DAIProtocolError, excerpt, register_secret
from pytest_dai.client.records import LogEntry, RunRecord
from pytest_dai.client.safety import path_id
from pytest_dai.client.server_text import (
    NAME_LENGTH_LIMIT,
    address_id,
    server_id,
    server_message,
    server_text,
)
from pytest_dai.client.test_config_records import TestResultRecord

SECRET = "srv-text-S3cret-90af1c"


@pytest.fixture(autouse=True)
def _secret() -> None:
    register_secret(SECRET)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Shop checkout", "Shop checkout"),
        ("a\nb\x1b[2J\x07\u202e\u2028c", "a\\x0ab\\x1b[2J\\x07\\u202e\\u2028c"),
        ("::error title=x::pwned", ": :error title=x::pwned"),
        ("  ::stop-commands::tok", "  : :stop-commands::tok"),
        ("mid ::error:: stays data", "mid ::error:: stays data"),
        ("old ##[error]x and ## [set-output]", "old # #[error]x and # # [set-output]"),
        (
            "[[ATTACHMENT|/etc/passwd]] [[ attachment|x]]",
            "[ [ATTACHMENT|/etc/passwd]] [ [ attachment|x]]",
        ),
        (f"id {SECRET} here", "id *** here"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"),
        (42, "42"),
    ],
)
def test_server_text_is_one_inert_line_without_secrets(sent: object, kept: str) -> None:
    assert server_text(sent) == kept


@pytest.mark.parametrize("sent", [None, {"a": 1}, [1], True])
def test_no_text_is_none(sent: object) -> None:
    assert server_text(sent) is None


def test_length_is_bounded_and_a_secret_is_masked_before_the_cut() -> None:
    long = server_text("x" * 10_000)
    assert long is not None
    assert len(long) == NAME_LENGTH_LIMIT
    assert long.endswith("...")
    straddling = server_text("x" * (NAME_LENGTH_LIMIT - 5) + SECRET)
    assert straddling is not None
    assert SECRET[:5] not in straddling
    assert len(server_message("m" * 100_000)) < 10_000


def test_an_id_too_long_is_refused_in_a_path_rather_than_shortened() -> None:
    cut = server_id("7" * 500)
    assert cut is not None
    assert cut.endswith("...")
    with pytest.raises(DAIProtocolError, match="refused id"):
        path_id(cut, endpoint="GET /x", field="id")
    assert server_id(True) is None
    assert server_id("") is None
    assert server_id(7) == "7"


def test_an_id_in_an_address_is_percent_encoded() -> None:
    assert address_id('7"><script>') == "7%22%3E%3Cscript%3E"
    assert address_id("30832") == "30832"


def test_parsers_use_the_boundary_for_every_field() -> None:
    bad = f"::error::x\n{SECRET}<b>[[ATTACHMENT|/etc/passwd]]"
    shown = ": :error::x\\x0a***<b>[ [ATTACHMENT|/etc/passwd]]"
    record = RunRecord.parse(
        {"id": bad, "execution_id": bad, "status": bad, "modelname": bad, "agentname": bad},
        "GET /ai/runs",
    )
    assert (record.run_id, record.execution_id, record.model_name, record.agent_name) == (
        shown,
        shown,
        shown,
        shown,
    )
    assert record.status.word == shown
    entry = LogEntry.parse({"message": bad, "eventtime": bad, "severity": bad, "step_name": bad})
    assert (entry.message, entry.timestamp, entry.step_name) == (shown, shown, shown)
    assert SECRET not in entry.format()
    assert "\n" not in entry.format()
    case = TestResultRecord.parse({"id": bad, "status": bad, "test_case_name": bad})
    assert (case.id, case.name, case.status.word) == (shown, shown, shown)


def test_an_error_body_quoted_in_a_message_is_inert_too() -> None:
    quoted = excerpt(b"::error::pwned\n[[ATTACHMENT|/etc/passwd]] ##[set-output name=x]y")
    assert quoted == ": :error::pwned [ [ATTACHMENT|/etc/passwd]] # #[set-output name=x]y"
