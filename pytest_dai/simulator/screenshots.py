"""Screenshots of the DAI simulator: E12 ``GET /api/v2/screenshots/{image_id}`` and the log
entries that name them (contract 2.5).

Eggplant captures the screen before each action; the simulator does the same for every step it
runs: two captures per step (at a quarter and at 60 % of the step), each a log entry with a
non-null ``image_id``, the second one an ``imagefound`` entry. The entry that closes a step
carries no image, so a client must walk back from the failing entry to find the frame the
failed action saw: the step's second capture (:func:`failing_image_id`).

The images are small, valid PNGs made with the standard library (``zlib``, ``struct``), distinct
per image id: a colour taken from the id's hash and the run, step and capture written on them.
A run also logs the suite commit it used: ``Using Git commit SHA: '<sha>'``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from typing import TYPE_CHECKING

from pytest_dai.simulator.runlog import SimLogEntry

if TYPE_CHECKING:
    from pytest_dai.simulator.faults import Faults
    from pytest_dai.simulator.runs import SimRun

__all__ = [
    "LARGE_SIZE",
    "SCREENSHOTS_PATH",
    "failing_image_id",
    "git_sha",
    "image_entries",
    "png_image",
    "screenshot_answer",
    "screenshot_records",
    "with_images",
]

SCREENSHOTS_PATH = "/api/v2/screenshots"
SCREENSHOT_RE = re.compile(r"^/api/v2/screenshots/([^/]+)$")
#: Size of the answer for the ``screenshot_fault: "large"`` fault: above the client's 20 MB cap.
LARGE_SIZE = 21 * 1024 * 1024
#: Captures per step and where in the step (fraction of its duration) each is taken.
SHOTS = (0.25, 0.6)

SUITE_INFO = "suite_info"
_ID_RE = re.compile(r"^scr-(\d{1,12})-(\d{1,6})-(\d)$")
WIDTH, HEIGHT, SCALE = 240, 135, 2


def image_id(run_id: int, step: int, shot: int) -> str:
    """The id of capture ``shot`` (1-based) of ``step`` in run ``run_id``."""
    return f"scr-{run_id}-{step}-{shot}"


def git_sha(execution: SimRun) -> str:
    """The suite commit a run of this model uses (stable per model)."""
    return hashlib.sha1(f"suite:{execution.model.id}".encode()).hexdigest()


def image_entries(execution: SimRun, horizon: float) -> list[SimLogEntry]:
    """The log entries of ``execution`` visible at ``horizon`` that this module adds: the Git
    commit line once the run started, and the captures of each step it ran."""
    started = execution.started_at
    if started is None or started > horizon:
        return []
    entries: list[SimLogEntry] = [
        SimLogEntry(
            started,
            f"Using Git commit SHA: '{git_sha(execution)}'",
            "INFORMATIONAL",
            "execution",
            SUITE_INFO,
        )
    ]
    for step in execution.steps:
        if step.start > horizon:
            break
        span = step.end - step.start if step.end != float("inf") else 0.0
        for shot, fraction in enumerate(SHOTS, start=1):
            # A step of no duration: its captures sort just before the step's own entries.
            when = step.start + span * fraction if span > 0 else step.start - 1e-6 * (3 - shot)
            if when > horizon or (step.end <= when):
                continue
            found = shot == len(SHOTS)
            entries.append(
                SimLogEntry(
                    when,
                    f"Image found: '{step.name}'" if found else f"Screen captured: '{step.name}'",
                    "INFORMATIONAL",
                    "execution",
                    "imagefound" if found else "screen_captured",
                    step=step.number,
                    step_name=step.name,
                    image_id=image_id(execution.run_id, step.number, shot),
                    image_name=f"{step.name} {shot}",
                )
            )
    return entries


def with_images(execution: SimRun, entries: list[SimLogEntry], now: float) -> list[SimLogEntry]:
    """The run log ``entries`` with this module's entries merged in, oldest first (the Git
    commit line right after the run's start)."""
    added = image_entries(execution, execution.horizon(now))
    commit = [entry for entry in added if entry.message_type == SUITE_INFO]
    merged = sorted(
        [*entries, *(entry for entry in added if entry.message_type != SUITE_INFO)],
        key=lambda entry: entry.time,
    )
    starts = [i for i, entry in enumerate(merged) if entry.message_type == "run_started"]
    position = starts[0] + 1 if starts else 0
    merged[position:position] = commit
    return merged


def screenshot_records(execution: SimRun, now: float) -> list[dict[str, object]]:
    """E11: the screenshots a run took by ``now``, oldest first (``id`` is E12's image id)."""
    return [
        {"id": entry.image_id, "step_id": entry.step, "name": entry.image_name}
        for entry in image_entries(execution, execution.horizon(now))
        if entry.image_id
    ]


def failing_image_id(execution: SimRun) -> str | None:
    """The screenshot the failing action of a finished run saw: the last capture of the last
    step that did not pass (None for a run with no such step)."""
    if execution.ended_at is None:
        return None
    done = execution.steps_done(execution.ended_at)
    failed = [step for step in done if step.outcome != "passed"]
    if not failed:
        return None
    return image_id(execution.run_id, failed[-1].number, len(SHOTS))


def parse_image_id(text: str) -> tuple[int, int, int] | None:
    """``(run_id, step, shot)`` of an image id, or None when it is not one of ours."""
    match = _ID_RE.match(text)
    if match is None:
        return None
    run_id, step, shot = (int(part) for part in match.groups())
    return (run_id, step, shot) if 1 <= shot <= len(SHOTS) else None


def run_of_image(text: str) -> int | None:
    """The run id an image id belongs to (None: not an image id of ours)."""
    parsed = parse_image_id(text)
    return None if parsed is None else parsed[0]


def image_exists(execution: SimRun, step: int, shot: int, now: float) -> bool:
    """Whether the capture was taken by ``now`` (the run had reached it)."""
    if not 1 <= step <= len(execution.steps):
        return False
    return any(
        entry.image_id == image_id(execution.run_id, step, shot)
        for entry in image_entries(execution, execution.horizon(now))
    )


def screenshot_answer(
    execution: SimRun | None, raw_id: str, faults: Faults, now: float
) -> tuple[int, bytes, str]:
    """E12's answer ``(status, body, content type)`` for ``raw_id``, the faults applied
    (``screenshot_fault``: ``"404"``, ``"large"``; ``"slow"`` is the caller's sleep)."""
    parsed = parse_image_id(raw_id)
    if execution is None or parsed is None or not image_exists(execution, *parsed[1:], now):
        return 404, b'{"detail":"Screenshot not found"}', "application/json"
    if faults.screenshot_fault == "404":
        return 404, b'{"detail":"Screenshot not found"}', "application/json"
    run_id, step, shot = parsed
    caption = execution.steps[step - 1].name
    body = png_image(raw_id, [f"RUN {run_id} STEP {step}", caption, f"CAPTURE {shot}"])
    if faults.screenshot_fault == "large":
        body = png_image(raw_id, ["LARGE"], padding=LARGE_SIZE)
    return 200, body, "image/png"


# -- PNG ------------------------------------------------------------------------------------------

# A 3x5 pixel font: five rows of three cells a glyph ("#" ink, "." paper).
_GLYPHS = {
    "0": "### #.# #.# #.# ###",
    "1": ".#. ##. .#. .#. ###",
    "2": "### ..# ### #.. ###",
    "3": "### ..# ### ..# ###",
    "4": "#.# #.# ### ..# ..#",
    "5": "### #.. ### ..# ###",
    "6": "### #.. ### #.# ###",
    "7": "### ..# ..# ..# ..#",
    "8": "### #.# ### #.# ###",
    "9": "### #.# ### ..# ###",
    "A": ".#. #.# ### #.# #.#",
    "B": "##. #.# ##. #.# ##.",
    "C": ".## #.. #.. #.. .##",
    "D": "##. #.# #.# #.# ##.",
    "E": "### #.. ##. #.. ###",
    "F": "### #.. ##. #.. #..",
    "G": ".## #.. #.# #.# .##",
    "H": "#.# #.# ### #.# #.#",
    "I": "### .#. .#. .#. ###",
    "J": "..# ..# ..# #.# .#.",
    "K": "#.# #.# ##. #.# #.#",
    "L": "#.. #.. #.. #.. ###",
    "M": "#.# ### ### #.# #.#",
    "N": "##. #.# #.# #.# #.#",
    "O": ".#. #.# #.# #.# .#.",
    "P": "##. #.# ##. #.. #..",
    "Q": ".#. #.# #.# ##. .##",
    "R": "##. #.# ##. #.# #.#",
    "S": ".## #.. .#. ..# ##.",
    "T": "### .#. .#. .#. .#.",
    "U": "#.# #.# #.# #.# ###",
    "V": "#.# #.# #.# #.# .#.",
    "W": "#.# #.# ### ### #.#",
    "X": "#.# #.# .#. #.# #.#",
    "Y": "#.# #.# .#. .#. .#.",
    "Z": "### ..# .#. #.. ###",
    "-": "... ... ### ... ...",
    ":": "... .#. ... .#. ...",
    ".": "... ... ... ... .#.",
    "/": "..# ..# .#. #.. #..",
    "'": ".#. .#. ... ... ...",
}


def _glyph(char: str) -> str:
    return _GLYPHS.get(char.upper(), "... ... ... ... ...").replace(" ", "")


class _Canvas:
    """An RGB pixel buffer with rectangles and text."""

    def __init__(self, width: int, height: int, colour: tuple[int, int, int]) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(colour) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, colour: tuple[int, int, int]) -> None:
        row = bytes(colour) * max(min(w, self.width - x), 0)
        for line in range(max(y, 0), min(y + h, self.height)):
            start = (line * self.width + x) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, colour: tuple[int, int, int]) -> None:
        for index, char in enumerate(text):
            cells = _glyph(char)
            left = x + index * 4 * SCALE
            for cell, ink in enumerate(cells):
                if ink == "#":
                    column, row = cell % 3, cell // 3
                    self.rect(left + column * SCALE, y + row * SCALE, SCALE, SCALE, colour)

    def png(self, padding: int = 0) -> bytes:
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[line * stride : (line + 1) * stride])
            for line in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        chunks = [_chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw, 9))]
        if padding > 0:  # a private ancillary chunk: the image stays valid, only bigger
            chunks.append(_chunk(b"prVt", bytes(padding)))
        return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_image(seed: str, lines: list[str], *, padding: int = 0) -> bytes:
    """A small PNG, distinct per ``seed``: a "screen" of a colour taken from the seed's hash
    with a title bar, a window and ``lines`` of text. ``padding`` bytes of a private chunk
    make it as large as wanted."""
    digest = hashlib.sha256(seed.encode()).digest()
    background = (96 + digest[0] % 128, 96 + digest[1] % 128, 96 + digest[2] % 128)
    canvas = _Canvas(WIDTH, HEIGHT, background)
    canvas.rect(0, 0, WIDTH, 16, (40, 44, 52))
    canvas.text(6, 3, "DAI SIMULATOR", (230, 230, 230))
    canvas.rect(16, 28, WIDTH - 32, HEIGHT - 44, (248, 248, 246))
    canvas.rect(16, 28, WIDTH - 32, 3, (digest[3], digest[4], digest[5]))
    for number, line in enumerate(lines[:5]):
        canvas.text(26, 40 + number * 16, line[:24], (30, 30, 30))
    # A hash-coloured stripe: two ids never give the same pixels.
    for index in range(16):
        shade = (digest[index], digest[index + 8], digest[(index + 16) % 32])
        canvas.rect(16 + index * ((WIDTH - 32) // 16), HEIGHT - 12, (WIDTH - 32) // 16, 6, shade)
    return canvas.png(padding)
