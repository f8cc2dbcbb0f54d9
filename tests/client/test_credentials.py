"""The API Access CSV of the DAI UI (contract section 1) and the Credentials object."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_dai.client.credentials import Credentials, CsvCredentials, read_credentials_csv
from pytest_dai.client.errors import DAIConfigError

from .support import SECRET, TOKEN_URL, assert_dai_message, assert_no_secret

GOOD = f"client_id,client_secret,token_url\npytest-dai-ci,{SECRET},{TOKEN_URL}\n"


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "api-access.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    got = read_credentials_csv(path)
    assert isinstance(got, CsvCredentials)
    assert (got.path, got.client_id, got.client_secret, got.token_url) == (
        os.fspath(path),
        "pytest-dai-ci",
        SECRET,
        TOKEN_URL,
    )
    assert "***" in repr(got)
    assert_no_secret(got)


def test_bom_crlf_spaces_and_column_order(tmp_path: Path) -> None:
    text = f"\ufeff Token_URL , CLIENT_SECRET ,client_id\r\n {TOKEN_URL} , {SECRET} , ci \r\n\r\n"
    got = read_credentials_csv(write(tmp_path, text))
    assert (got.client_id, got.client_secret, got.token_url) == ("ci", SECRET, TOKEN_URL)


def test_token_url_column_is_optional(tmp_path: Path) -> None:
    got = read_credentials_csv(write(tmp_path, f"client_id,client_secret\nci,{SECRET}\n"))
    assert got.token_url == ""


def test_blank_lines_before_header_are_skipped(tmp_path: Path) -> None:
    got = read_credentials_csv(write(tmp_path, "\n\n" + GOOD))
    assert got.client_id == "pytest-dai-ci"


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (f"client_id,token_url\nci,{TOKEN_URL}\n", ["missing column client_secret"]),
        (f"id,secret\nci,{SECRET}\n", ["missing column client_id, client_secret"]),
        (
            f"client_id,client_secret,token_url\nci,,{TOKEN_URL}\n",
            ["column client_secret is empty"],
        ),
        (f"client_id,client_secret,token_url\n  ,{SECRET},{TOKEN_URL}\n", ["client_id is empty"]),
        ("client_id,client_secret,token_url\nci\n", ["client_secret is empty"]),
        ("client_id,client_secret,token_url\n", ["header but no row"]),
        ("", ["is empty"]),
        ("\n \n", ["is empty"]),
    ],
    ids=[
        "no-secret-column",
        "wrong-columns",
        "empty-secret",
        "blank-id",
        "short-row",
        "header-only",
        "empty-file",
        "blank-file",
    ],
)
def test_bad_file_is_one_line_naming_the_file(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DAIConfigError) as info:
        read_credentials_csv(path)
    assert_dai_message(info.value, f"credentials file {os.fspath(path)!r}", *needles)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DAIConfigError) as info:
        read_credentials_csv(path, source="--dai-credentials")
    assert_dai_message(info.value, os.fspath(path), "no such file", "--dai-credentials")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(DAIConfigError) as info:
        read_credentials_csv(tmp_path)
    assert_dai_message(info.value, os.fspath(tmp_path), "is a directory")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"client_id,client_secret\n\xff\xfe\xfa,x\n")
    with pytest.raises(DAIConfigError) as info:
        read_credentials_csv(path)
    assert_dai_message(info.value, os.fspath(path), "cannot be read")


def test_error_for_empty_value_does_not_quote_the_secret(tmp_path: Path) -> None:
    path = write(tmp_path, f"client_id,client_secret,token_url\n,{SECRET},{TOKEN_URL}\n")
    with pytest.raises(DAIConfigError) as info:
        read_credentials_csv(path)
    assert_dai_message(info.value, "client_id is empty")


def test_credentials_repr_masks_the_secret() -> None:
    creds = Credentials("ci", SECRET, TOKEN_URL)
    assert (
        repr(creds) == f"Credentials(client_id='ci', client_secret='***', token_url={TOKEN_URL!r})"
    )
    assert_no_secret(creds)
