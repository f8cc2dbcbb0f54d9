"""The API Access CSV as found in the wild: header variants, quotes, extra columns, and values in
the wrong column named without being shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dai.client.credentials import read_credentials_csv
from pytest_dai.client.errors import DAIConfigError

SECRET = "csv-S3cret-9f8e7d6c5b4a"
TOKEN_URL = "https://kc-dai.example/auth/realms/eggplant/protocol/openid-connect/token"
CLIENT = "client:dai:api:integration:1b2c"


@pytest.mark.parametrize(
    "text",
    [
        f"client_id,client_secret,token_url\n{CLIENT},{SECRET},{TOKEN_URL}\n",
        f"\ufeffClient ID, Client Secret , Token URL\n{CLIENT},{SECRET},{TOKEN_URL}\n",
        f'"clientId","clientSecret","tokenUrl"\n"{CLIENT}","{SECRET}","{TOKEN_URL}"\n',
        "CLIENT-ID,client-secret,token_url,created,notes\n"
        f"{CLIENT},{SECRET},{TOKEN_URL},2026-01-01,ci\n",
        f"token_url,client_secret,client_id\n {TOKEN_URL} , '{SECRET}' ,{CLIENT}\n",
        f"client_id,client_secret,token_url\r\n\r\n{CLIENT},{SECRET},{TOKEN_URL}\r\n",
    ],
    ids=["plain", "bom-case-spaces", "quoted-camel", "extra-columns", "reordered", "crlf"],
)
def test_header_variants(tmp_path: Path, text: str) -> None:
    path = tmp_path / "api-access.csv"
    path.write_text(text, encoding="utf-8")
    creds = read_credentials_csv(path)
    assert (creds.client_id, creds.client_secret, creds.token_url) == (CLIENT, SECRET, TOKEN_URL)
    assert SECRET not in repr(creds)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        (f"client_id,client_secret,token_url\n{CLIENT},{TOKEN_URL},{SECRET}\n", "token_url"),
        (f"client_id,client_secret,token_url\n{TOKEN_URL},{SECRET},{TOKEN_URL}\n", "client_id"),
        (f"client_id,client_secret\n{CLIENT},{TOKEN_URL}\n", "client_secret"),
    ],
    ids=["secret-in-token-url", "url-in-client-id", "url-in-secret"],
)
def test_a_misplaced_value_names_the_column_not_the_value(
    tmp_path: Path, text: str, column: str
) -> None:
    path = tmp_path / "api-access.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DAIConfigError) as info:
        read_credentials_csv(path, source="--dai-credentials")
    message = str(info.value)
    assert f"column {column}" in message
    assert "wrong order" in message
    assert SECRET not in message
    assert str(path) in message
