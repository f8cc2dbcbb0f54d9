"""One escaper per output (:mod:`pytest_dai.glue.report.escapers`): the terminal, Markdown (the job
summary), HTML attributes (pytest-html) and GitHub workflow commands."""

from __future__ import annotations

import pytest

from pytest_dai.glue.report.escapers import (
    html_url,
    markdown_link,
    markdown_text,
    terminal_line,
    workflow_data,
    workflow_property,
)

ORIGIN = "https://dai.example.com:8000"


def test_terminal_line_has_no_control_character_and_no_command() -> None:
    assert terminal_line("::error::x\x1b[31m\nnext") == ": :error::x\\x1b[31m\\x0anext"
    assert terminal_line("DAI run started: Shop: https://dai/runs/7") == (
        "DAI run started: Shop: https://dai/runs/7"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[phish](https://evil.example/a)",
        "![track](https://evil.example/p.png)",
        "<script>x()</script><img src=x onerror=y()>",
        "a | b | c",
        "*bold* _it_ `code` ~~del~~ # head",
        "https://evil.example/a www.evil.example someone@evil.example",
        "&lt;already&gt; &amp;",
    ],
)
def test_markdown_text_is_literal_text(text: str) -> None:
    out = markdown_text(text)
    for live in ("](", "<s", "<i", "https://", "www.", "@e", "&lt;a"):
        assert live not in out, (live, out)
    assert "\n" not in markdown_text("a\nb")
    unescaped = [i for i, ch in enumerate(out) if ch == "|" and (i == 0 or out[i - 1] != "\\")]
    assert unescaped == []


def test_markdown_links_go_only_to_the_servers_origin_encoded() -> None:
    assert markdown_link("7", f"{ORIGIN}/runs/7", ORIGIN) == f"[7]({ORIGIN}/runs/7)"
    assert markdown_link("7", f"{ORIGIN}/runs/7%22)(x", ORIGIN) == (
        f"[7]({ORIGIN}/runs/7%22%29%28x)"
    )
    for elsewhere in ("https://evil.example/runs/7", "javascript:alert(1)", f"{ORIGIN}.evil/x"):
        assert markdown_link("7", elsewhere, ORIGIN) == "7", elsewhere
    assert markdown_link("7", "https://user:pw@dai.example.com:8000/runs/7", ORIGIN) == "7"


def test_html_url_is_http_only_and_attribute_safe() -> None:
    assert html_url(f"{ORIGIN}/runs/7") == f"{ORIGIN}/runs/7"
    assert html_url(f'{ORIGIN}/runs/7"><script>x()</script>') == (
        f"{ORIGIN}/runs/7%22%3E%3Cscript%3Ex%28%29%3C/script%3E"
    )
    assert html_url(f"{ORIGIN}/runs/a&b=c") == f"{ORIGIN}/runs/a&amp;b=c"
    for bad in ("javascript:alert(1)", "data:text/html,<b>", f"{ORIGIN}/runs/\n7", "//evil/x"):
        assert html_url(bad) is None, bad


def test_workflow_commands_percent_encode_data_and_properties() -> None:
    assert workflow_data("100% broken\r\n::error::x") == "100%25 broken%0D%0A::error::x"
    assert workflow_property("t.py::test[a,b]\n") == "t.py%3A%3Atest[a%2Cb]%0A"
