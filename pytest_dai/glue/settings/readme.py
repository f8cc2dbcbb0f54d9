"""The README's "Configuration" table, made from the settings table (checked by
``tests/plugin/test_settings_table.py``, so the two never drift apart). Not imported by a
pytest session."""

from __future__ import annotations

from pytest_dai.glue.settings.table import TABLE, shown_default

__all__ = ["readme_table"]


def _cell(text: str | None) -> str:
    return f"`{text}`" if text else ""


def readme_table() -> list[str]:
    """The README's "Configuration" table, one line per row (header included)."""
    lines = [
        "| Setting | Command line | Environment | ini key | Default |",
        "|---|---|---|---|---|",
    ]
    for row in TABLE:
        option = row.usage or _cell(row.option)
        ini = "none, on purpose" if row.name == "client_secret" else _cell(row.ini)
        cells = (row.what, option, _cell(row.env), ini, shown_default(row))
        lines.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return lines
