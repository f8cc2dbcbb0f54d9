"""Evidence of this session only: the files pytest-dai wrote under ``dai_artifacts`` are listed
in a manifest there (:data:`MANIFEST`), and a new session first removes the files the manifest
lists, and nothing else.

Why a manifest rather than a folder per session: CI steps and users find the evidence where the
settings say (``upload-artifact: dai-artifacts/``, the ``[[ATTACHMENT|...]]`` paths), and a
folder per session would still leave every earlier session's folder in a workspace that is
kept between jobs, to be shipped again. Why not empty the folder: it may hold files that are not
ours (a user's ``--dai-artifacts=.`` must never cost them a file). So: only what pytest-dai
itself wrote, and only plain files directly in the folder (a name with a path separator, a
symlink or a folder in the manifest is left alone).

Each process appends the files it writes (one short line per ``write``: appends of a line are
whole on POSIX, so pytest-xdist workers never mix their lines); only the controller cleans, at
the start of the test loop (before the first test runs; under pytest-xdist before it hands
out any test), and only when tests are to run (not for ``--collect-only``, a dry run,
``--dai-list`` or ``--dai-reap-orphans-only``).
"""

from __future__ import annotations

import logging
import os

import pytest

__all__ = ["MANIFEST", "EvidenceCleanup", "clean_earlier", "remember"]

log = logging.getLogger("pytest_dai")

#: The manifest's name in the artifacts folder.
MANIFEST = ".pytest-dai-files"
#: A manifest longer than this (bytes) is not read (it is not ours, or it is broken).
MANIFEST_LIMIT = 4_000_000


def remember(path: str) -> None:
    """Add ``path`` (a file just written in the artifacts folder) to that folder's manifest.
    Never raises: a manifest that cannot be written only means the file is kept longer."""
    folder, name = os.path.split(os.path.abspath(path))
    try:
        with open(os.path.join(folder, MANIFEST), "a", encoding="utf-8") as handle:
            handle.write(name + "\n")
    except OSError as exc:
        log.debug("pytest-dai: could not note %s in the manifest: %s", name, exc)


def _listed(folder: str) -> list[str]:
    """The names the manifest lists (empty when there is none or it cannot be read)."""
    manifest = os.path.join(folder, MANIFEST)
    try:
        if os.path.islink(manifest) or os.path.getsize(manifest) > MANIFEST_LIMIT:
            return []
        with open(manifest, encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in handle]
    except OSError:
        return []


def _ours(folder: str, name: str) -> str | None:
    """The path of a listed name that may be removed: a plain file directly in ``folder``."""
    if not name or name in (os.curdir, os.pardir, MANIFEST) or "/" in name or os.sep in name:
        return None
    if os.altsep and os.altsep in name:
        return None
    path = os.path.join(folder, name)
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    return path


def clean_earlier(folder: str) -> list[str]:
    """Remove the files earlier sessions wrote in ``folder`` (as its manifest lists them), then
    start an empty manifest; return the names removed. Files that cannot be removed are left
    (said in the log); nothing else in the folder is touched."""
    folder = os.path.abspath(folder)
    removed: list[str] = []
    for name in dict.fromkeys(_listed(folder)):
        path = _ours(folder, name)
        if path is None:
            continue
        try:
            os.remove(path)
        except OSError as exc:
            log.warning("pytest-dai: could not remove earlier evidence %s: %s", path, exc)
            continue
        removed.append(name)
    manifest = os.path.join(folder, MANIFEST)
    if os.path.isfile(manifest) and not os.path.islink(manifest):
        try:
            os.truncate(manifest, 0)
        except OSError as exc:
            log.debug("pytest-dai: could not empty %s: %s", manifest, exc)
    return removed


class EvidenceCleanup:
    """(Controller) removes the evidence of earlier sessions when this one starts running
    tests: registered by :func:`pytest_dai.glue.hooks.start.start_plugin`."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.removed: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Before the first test (a session that only collects keeps what is there)."""
        if not session.config.option.collectonly:
            self.removed = clean_earlier(self.folder)
