"""A headless Chromium (or Chrome) for the tests that open a report in a real browser; they
skip where there is none (``apt-get install chromium``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1280,1000",
)


def browser() -> str | None:
    """A Chromium (or Chrome) on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_browser(executable: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the browser headless with a profile of its own (``--dump-dom PAGE``: the page's DOM
    once its scripts have run, on stdout)."""
    return subprocess.run(
        [executable, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
