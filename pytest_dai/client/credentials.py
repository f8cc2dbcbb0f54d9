"""Client credentials: the API Access CSV that the DAI UI downloads, and secret handling.

The CSV (System > API Access > Add New) has the columns ``client_id``, ``client_secret`` and
``token_url``. The secret never appears in a ``repr``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

from pytest_dai.client import defaults
from pytest_dai.client.errors import DAIConfigError, register_secret

__all__ = ["CSV_COLUMNS", "Credentials", "read_credentials_csv"]

CSV_COLUMNS = ("client_id", "client_secret", "token_url")


@dataclass(frozen=True)
class Credentials:
    """What the token endpoint needs: a client id and secret, where to post them, and how:
    ``scheme`` ``keycloak`` (an OAuth form, contract section 1) or ``v2`` (a JSON body to
    ``{url}/api/v2/auth``, seen on DAI 26.2.2)."""

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    scheme: str = defaults.AUTH

    def __post_init__(self) -> None:
        register_secret(self.client_secret)

    def __repr__(self) -> str:
        return (
            f"Credentials(client_id={self.client_id!r}, client_secret='***', "
            f"token_url={self.token_url!r}"
            + (f", scheme={self.scheme!r})" if self.scheme != defaults.AUTH else ")")
        )


@dataclass(frozen=True)
class CsvCredentials:
    """The three values of an API Access CSV; ``token_url`` may be empty."""

    path: str
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str

    def __repr__(self) -> str:
        return (
            f"CsvCredentials(path={self.path!r}, client_id={self.client_id!r}, client_secret='***')"
        )


def read_credentials_csv(path: str | os.PathLike[str], *, source: str = "") -> CsvCredentials:
    """Read an API Access CSV: a header row with :data:`CSV_COLUMNS` and one row of values.

    ``source`` says where the path came from (``"--dai-credentials"`` ...) for the error text.
    Raises :class:`DAIConfigError` naming the file (and the column) for anything wrong.
    """
    where = f"credentials file {os.fspath(path)!r}" + (f" (from {source})" if source else "")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise DAIConfigError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise DAIConfigError(f"{where}: is a directory, expected a CSV file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DAIConfigError(f"{where}: cannot be read: {type(exc).__name__}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DAIConfigError(f"{where}: is empty, expected a header row and a row of values")
    header = [_column(cell) for cell in rows[0]]
    missing = [column for column in CSV_COLUMNS[:2] if column not in header]
    if missing:
        raise DAIConfigError(
            f"{where}: missing column {', '.join(missing)} (expected columns: "
            f"{', '.join(CSV_COLUMNS)})"
        )
    if len(rows) < 2:
        raise DAIConfigError(f"{where}: has a header but no row of values")
    values: dict[str, str] = {}
    for name, cell in zip(header, rows[1], strict=False):
        values.setdefault(name, _unquote(cell))
    register_secret(values.get("client_secret"))
    for column in CSV_COLUMNS[:2]:
        if not values.get(column):
            raise DAIConfigError(f"{where}: column {column} is empty")
    _check_placement(where, values)
    return CsvCredentials(
        path=os.fspath(path),
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        token_url=values.get("token_url", ""),
    )


def _column(cell: str) -> str:
    """A header cell as a column name: ``Client ID``, ``client-id``, ``"clientId"`` and
    ``\ufeffclient_id`` are all ``client_id``; unknown names are kept (extra columns)."""
    key = "".join(ch for ch in _unquote(cell).lstrip("\ufeff").casefold() if ch.isalnum())
    return _COLUMN_KEYS.get(key, key)


_COLUMN_KEYS = {column.replace("_", ""): column for column in CSV_COLUMNS}


def _unquote(cell: str) -> str:
    """A cell without surrounding spaces and stray quotes (``'x'`` or ``"x"`` left by a
    spreadsheet that quoted an already quoted value)."""
    text = cell.strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _check_placement(where: str, values: dict[str, str]) -> None:
    """A value in the wrong column (columns swapped, a shifted row) is named by its column,
    never shown: it may be the secret."""
    token_url = values.get("token_url", "")
    if token_url and not _looks_like_url(token_url):
        raise DAIConfigError(
            f"{where}: column token_url does not hold an http(s) URL (a value of "
            f"{len(token_url)} characters, not shown: are the columns in the wrong order?)"
        )
    for column in CSV_COLUMNS[:2]:
        if _looks_like_url(values[column]):
            raise DAIConfigError(
                f"{where}: column {column} holds a URL (not shown): are the columns in the "
                "wrong order?"
            )
