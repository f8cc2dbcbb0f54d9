"""Fetching a screenshot (E12, ``GET /api/v2/screenshots/{image_id}``): the bytes, with the
bearer token; a 404, a body over the 20 MB cap, an id that would change the path: each one
clear error."""

from __future__ import annotations

import pytest
import responses

from pytest_dai.client.endpoints import SCREENSHOT_LIMIT, DAIClient
from pytest_dai.client.errors import DAINotFoundError, DAIProtocolError

from .support import BASE, assert_dai_message, bearer, calls

SCREENSHOTS = BASE + "/api/v2/screenshots/"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_screenshot_bytes_with_the_bearer_token(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.add(responses.GET, SCREENSHOTS + "img-7", body=PNG, content_type="image/png")
    assert client.screenshot("img-7") == PNG
    (request,) = calls(rsps, "GET", SCREENSHOTS + "img-7")
    assert bearer(request)


def test_ids_are_percent_encoded(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, SCREENSHOTS + "a%20b%3A1", body=PNG, content_type="image/png")
    assert client.screenshot("a b:1") == PNG


@pytest.mark.parametrize("bad", ["../runs", "a/b", "x?y", "x#y", "a\x1b[31m", ""])
def test_ids_that_would_change_the_path_are_refused(
    client: DAIClient, rsps: responses.RequestsMock, bad: str
) -> None:
    with pytest.raises(DAIProtocolError) as caught:
        client.screenshot(bad)
    assert_dai_message(caught.value, "fetching a screenshot (GET ", "image_id")
    assert not [c for c in rsps.calls if "/screenshots" in c.request.url]


def test_unknown_screenshot_is_not_found(client: DAIClient, rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, SCREENSHOTS + "gone", status=404, json={"detail": "Not found"})
    # Not known yet whether the server has public API v2: its v1 path is asked too (contract 2.7).
    v1 = SCREENSHOTS.replace("/api/v2/", "/api/v1/")
    rsps.add(responses.GET, v1 + "gone", status=404, json={"detail": "Not found"})
    with pytest.raises(DAINotFoundError) as caught:
        client.screenshot("gone")
    assert_dai_message(caught.value, "fetching a screenshot (GET ", "404")


def test_a_screenshot_over_the_cap_is_not_kept(
    client: DAIClient, rsps: responses.RequestsMock
) -> None:
    rsps.add(
        responses.GET,
        SCREENSHOTS + "huge",
        body=PNG + bytes(SCREENSHOT_LIMIT),
        content_type="image/png",
    )
    with pytest.raises(DAIProtocolError) as caught:
        client.screenshot("huge")
    assert_dai_message(caught.value, "fetching a screenshot (GET ", "larger than 20 MB")
