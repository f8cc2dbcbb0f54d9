"""The DAIError hierarchy, ``excerpt`` and ``redact``."""

from __future__ import annotations

import threading

import pytest

from pytest_dai.client.errors import (
    BODY_EXCERPT_LIMIT,
    DAIAuthError,
    DAIConfigError,
    DAIConnectionError,
    DAIError,
    DAIHTTPError,
    DAILicenceError,
    DAINotFoundError,
    DAIProtocolError,
    excerpt,
    redact,
    register_secret,
)

from .support import assert_dai_message


def test_hierarchy() -> None:
    for cls in (DAIConfigError, DAIAuthError, DAIConnectionError, DAIHTTPError, DAIProtocolError):
        assert issubclass(cls, DAIError)
    assert issubclass(DAILicenceError, DAIAuthError)
    assert issubclass(DAINotFoundError, DAIHTTPError)
    assert issubclass(DAIError, Exception)


def test_message_is_one_line_and_keeps_endpoint_and_status() -> None:
    exc = DAIHTTPError(
        "E2 GET /ai/runs:\n  500\r\n\tboom  ", endpoint="E2 GET /ai/runs", status=500
    )
    assert str(exc) == "E2 GET /ai/runs: 500 boom"
    assert exc.args == ("E2 GET /ai/runs: 500 boom",)
    assert repr(exc) == "DAIHTTPError('E2 GET /ai/runs: 500 boom')"
    assert (exc.endpoint, exc.status) == ("E2 GET /ai/runs", 500)
    assert_dai_message(exc, "E2 GET /ai/runs")


def test_message_is_redacted() -> None:
    register_secret("hush-hush-1234")
    exc = DAIError("E5 GET /ai/models: server said hush-hush-1234 and Bearer abc.def-ghi")
    assert "hush-hush-1234" not in str(exc)
    assert "abc.def-ghi" not in repr(exc)
    assert str(exc) == "E5 GET /ai/models: server said *** and Bearer ***"


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.e30=", "eyJhbGciOi"),
        ("authorization: bearer abc+/def==", "abc+/def"),
        ('{"access_token": "zzz-top", "expires_in": 300}', "zzz-top"),
        ("grant_type=client_credentials&client_id=ci&client_secret=qwerty99", "qwerty99"),
        ("refresh_token=r1r2r3, id_token: i1i2i3", "r1r2r3"),
        ("refresh_token=r1r2r3, id_token: i1i2i3", "i1i2i3"),
        ("'client_secret': plain", "plain"),
    ],
)
def test_redact_patterns(text: str, hidden: str) -> None:
    out = redact(text)
    assert hidden not in out
    assert "***" in out


def test_redact_keeps_ordinary_text() -> None:
    text = "E1 POST /execution_service/api/v1/executions: 422 model_id: field required"
    assert redact(text) == text


def test_registered_secrets_longest_first() -> None:
    register_secret("abcd")
    register_secret("abcdefgh")
    assert redact("x abcdefgh y abcd z") == "x *** y *** z"


@pytest.mark.parametrize("short", ["", None, "abc"])
def test_short_or_empty_secrets_are_not_registered(short: str | None) -> None:
    register_secret(short)
    assert redact("abc a b c") == "abc a b c"


def test_register_secret_is_thread_safe() -> None:
    threads = [
        threading.Thread(target=register_secret, args=(f"thread-secret-{i:03d}",))
        for i in range(50)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "thread-secret" not in redact(" ".join(f"thread-secret-{i:03d}" for i in range(50)))


def test_excerpt_limit_and_one_line() -> None:
    body = "word " * 200
    out = excerpt(body)
    assert len(out) <= BODY_EXCERPT_LIMIT == 200
    assert out.endswith("...")
    assert "\n" not in excerpt("a\nb\r\nc\td")
    assert excerpt("a\nb\r\nc\td") == "a b c d"
    assert len(excerpt("x" * 1000, limit=20)) == 20


def test_excerpt_strips_html() -> None:
    html = (
        "<html><head><title>503 Service Temporarily Unavailable</title></head>\n"
        "<body><center><h1>503 Service Temporarily Unavailable</h1></center>"
        "<hr><center>nginx</center></body></html>"
    )
    out = excerpt(html)
    assert "<" not in out
    assert out.startswith("503 Service Temporarily Unavailable")
    assert out.endswith("nginx")


def test_excerpt_keeps_comparisons_that_are_not_tags() -> None:
    assert excerpt("limit < 10") == "limit < 10"


def test_excerpt_bytes_and_none() -> None:
    assert excerpt(None) == ""
    assert excerpt(b"caf\xc3\xa9 \xff") == "café \ufffd"


def test_excerpt_redacts_before_cutting() -> None:
    register_secret("zz-cut-secret-zz")
    body = "x" * 190 + "zz-cut-secret-zz" + "y" * 50
    out = excerpt(body)
    assert "zz-cut" not in out
    assert len(out) <= 200
