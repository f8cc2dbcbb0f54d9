"""Screenshots in the simulator (contract 2.5, E12): image ids in the run log before the failing
entry, a ``Using Git commit SHA`` line, valid and distinct PNGs, and the screenshot faults."""

from __future__ import annotations

import re
import struct
import time
import zlib
from typing import Any

import pytest

from pytest_dai.simulator import DAISimulator, ScenarioError
from pytest_dai.simulator.screenshots import LARGE_SIZE, png_image

Api = Any  # the conftest's helper, given by the fixture api


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of an 8-bit RGB PNG, every chunk's CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, size = 8, b"", (0, 0)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
            size = (width, height)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == size[1] * (1 + 3 * size[0])
    return size[0], size[1], raw


def failed_run(api: Api) -> tuple[str, dict[str, object], list[dict[str, object]]]:
    execution = api.start("m-fail", "a1")
    record = api.wait_final(execution)
    return execution, record, api.logs(int(str(record["id"])))["items"]


def test_the_log_names_images_before_the_failing_entry(api: Api, sim: DAISimulator) -> None:
    execution, _, items = failed_run(api)
    # the failing entry: the last entry of the last step that ran (contract 2.5)
    last_step = [e["step_id"] for e in items if e.get("step_id") is not None][-1]
    failing = max(i for i, e in enumerate(items) if e.get("step_id") == last_step)
    before = [e["image_id"] for e in items[:failing] if e.get("image_id")]
    assert len(before) == 4  # two captures in each of the two steps run
    assert not items[failing].get("image_id")
    assert not any(e.get("image_id") for e in items[failing + 1 :])
    wanted = sim.failing_screenshot(execution)
    assert wanted is not None
    assert wanted[0] == before[-1]
    shas = [e["message"] for e in items if "Using Git commit SHA" in str(e["message"])]
    assert len(shas) == 1
    assert re.fullmatch(r"Using Git commit SHA: '[0-9a-f]{40}'", str(shas[0]))


def test_e12_serves_valid_distinct_pngs(api: Api, sim: DAISimulator) -> None:
    execution, _, items = failed_run(api)
    ids = [str(e["image_id"]) for e in items if e.get("image_id")]
    bodies = []
    for image_id in ids:
        response = api.get(f"/api/v2/screenshots/{image_id}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        width, height, _ = decode_png(response.content)
        assert (width, height) == (240, 135)
        bodies.append(response.content)
    assert len(set(bodies)) == len(bodies)
    wanted = sim.failing_screenshot(execution)
    assert wanted is not None
    assert bodies[-1] == wanted[1]
    assert api.get("/api/v2/screenshots/scr-1-1-1").status_code == 404
    assert api.get("/api/v2/screenshots/not-an-image").status_code == 404
    api.session.headers.pop("Authorization")
    assert api.get(f"/api/v2/screenshots/{ids[0]}").status_code == 401


def test_no_image_before_the_run_reached_it(api: Api) -> None:
    execution = api.start("m-long", "a2")
    record = api.run(execution)
    assert api.get(f"/api/v2/screenshots/scr-{record['id']}-9-1").status_code == 404
    api.abort(execution)


def test_a_passed_run_has_no_failing_screenshot(api: Api, sim: DAISimulator) -> None:
    execution = api.start("m-quick", "a1")
    api.wait_final(execution)
    assert sim.failing_screenshot(execution) is None
    assert sim.failing_screenshot("unknown") is None


@pytest.mark.parametrize("fault", ["404", "large", "slow"])
def test_screenshot_faults(api: Api, sim: DAISimulator, fault: str) -> None:
    _, _, items = failed_run(api)
    image_id = next(str(e["image_id"]) for e in items if e.get("image_id"))
    sim.set_faults(screenshot_fault=fault, screenshot_delay=0.3)
    started = time.monotonic()
    response = api.get(f"/api/v2/screenshots/{image_id}")
    elapsed = time.monotonic() - started
    if fault == "404":
        assert response.status_code == 404
    elif fault == "large":
        assert response.status_code == 200
        assert len(response.content) > LARGE_SIZE
        decode_png(response.content)  # still a valid image, only big
    else:
        assert response.status_code == 200
        assert elapsed >= 0.3


def test_a_bad_screenshot_fault_names_the_field(scenario_data: Any) -> None:
    with pytest.raises(ScenarioError, match="screenshot_fault"):
        DAISimulator(scenario_data(faults={"screenshot_fault": "sometimes"}))


def test_png_image_is_distinct_per_seed() -> None:
    first, second = png_image("a", ["X"]), png_image("b", ["X"])
    assert first != second
    assert decode_png(first)[2] != decode_png(second)[2]
