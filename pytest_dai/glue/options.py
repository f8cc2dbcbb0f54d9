"""Settings of pytest-dai, by their usual names (the modules below hold them).

- :mod:`pytest_dai.glue.settings_table`: the one table of settings (option, environment
  variable, ini key, default, converter, help) and ``add_options``;
- :mod:`pytest_dai.glue.resolve`: ``resolve_settings`` (command line > environment > ini file >
  default, with sources);
- :mod:`pytest_dai.glue.settings`: the resolved :class:`Settings` (kept at
  ``config.stash[pytest_dai.glue.keys.SETTINGS_KEY]``);
- :mod:`pytest_dai.glue.model_marker` and :mod:`pytest_dai.glue.test_config_marker`: the marker
  level, validated against a signature function.

Cheap to import: no ``requests``.
"""

from __future__ import annotations

from pytest_dai.glue.keys import SETTINGS_KEY
from pytest_dai.glue.model_marker import MARKER_KEYWORDS, ModelSpec, parse_marker
from pytest_dai.glue.resolve import resolve_settings
from pytest_dai.glue.settings import (
    MISSING_SERVER_MESSAGE,
    SOURCE_DEFAULT,
    SOURCE_DERIVED,
    SOURCE_SIMULATOR,
    Settings,
)
from pytest_dai.glue.settings import short_source as _short_source
from pytest_dai.glue.settings_table import add_options

__all__ = [
    "MARKER_KEYWORDS",
    "MISSING_SERVER_MESSAGE",
    "SETTINGS_KEY",
    "SOURCE_DEFAULT",
    "SOURCE_DERIVED",
    "SOURCE_SIMULATOR",
    "ModelSpec",
    "Settings",
    "_short_source",
    "add_options",
    "parse_marker",
    "resolve_settings",
]
