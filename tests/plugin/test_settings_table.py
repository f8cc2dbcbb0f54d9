"""The one settings table: the README, the ``Settings`` defaults, the options and ini keys all
come from it, and each default value is written once in the product code."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import pytest_dai
from pytest_dai.client import defaults
from pytest_dai.glue.settings.readme import readme_table
from pytest_dai.glue.settings.table import ROWS, TABLE, Setting, shown_default
from pytest_dai.glue.settings.values import Settings

PACKAGE = Path(pytest_dai.__file__).parent
README = Path(__file__).resolve().parents[2] / "README.md"  # the checkout's, also when installed
DEFAULTS_FILE = PACKAGE / "client" / "defaults.py"

#: The parameter and field names under which a default that is a plain number or word ("no",
#: 5.0) would be written again; the distinctive ones (7200, the URL templates) are looked for
#: wherever they stand.
NAMES = {
    "AUTH": {"auth", "scheme"},
    "DIST": {"dist"},
    "REQUEST_TIMEOUT": {"timeout", "request_timeout"},
    "REQUEST_ATTEMPTS": {"attempts", "request_retries", "retries"},
    "BACKOFF_FACTOR": {"backoff_factor"},
    "POLL_INTERVAL": {"poll_interval", "max_interval", "interval"},
    # 64 is a common number (a byte count, a length): only a default named so is a copy.
    "PRESTART_LIMIT": {"prestart_limit", "limit"},
}


def product_files() -> list[Path]:
    """The product's modules, without the simulator (a server of its own, with its own
    realm and client id, that never imports the client)."""
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "simulator" not in path.relative_to(PACKAGE).parts
    ]


def default_constants() -> dict[str, object]:
    return {
        name: value
        for name, value in vars(defaults).items()
        if name.isupper() and isinstance(value, (str, int, float))
    }


def _same(node: ast.AST, value: object) -> bool:
    return (
        isinstance(node, ast.Constant) and type(node.value) is type(value) and node.value == value
    )


def default_positions(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    """``(name, default)`` of every function parameter and class field with a default."""
    found: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = [*node.args.posonlyargs, *node.args.args]
            found.extend(
                (arg.arg, default)
                for arg, default in zip(positional[::-1], node.args.defaults[::-1], strict=False)
            )
            found.extend(
                (arg.arg, default)
                for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                if default is not None
            )
        elif isinstance(node, ast.ClassDef):
            found.extend(
                (item.target.id, item.value)
                for item in node.body
                if isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and item.value is not None
            )
    return found


@dataclasses.dataclass(frozen=True)
class Literals:
    """A module's literals, walked once: all of them, and the defaults with their names."""

    constants: list[ast.AST]
    defaults: list[tuple[str, ast.AST]]

    @classmethod
    def of(cls, tree: ast.AST) -> Literals:
        """The literals of ``tree``."""
        constants = [node for node in ast.walk(tree) if isinstance(node, ast.Constant)]
        return cls(constants, default_positions(tree))


def copies(tree: ast.AST | Literals, constant: str, value: object) -> int:
    """How often ``value`` (the default ``constant``) is written in ``tree``."""
    literals = tree if isinstance(tree, Literals) else Literals.of(tree)
    if constant in NAMES:
        names = NAMES[constant]
        return sum(_same(node, value) for name, node in literals.defaults if name in names)
    return sum(_same(node, value) for node in literals.constants)


def test_every_default_literal_is_written_once() -> None:
    constants = default_constants()
    assert {"RUN_DEADLINE", "POLL_INTERVAL", "REQUEST_TIMEOUT", "CLIENT_ID"} <= set(constants)
    assert set(NAMES) <= set(constants)
    offences: list[str] = []
    for path in product_files():
        literals = Literals.of(ast.parse(path.read_text(encoding="utf-8")))
        for constant, value in constants.items():
            count = copies(literals, constant, value)
            if path == DEFAULTS_FILE:
                count = sum(_same(node, value) for node in literals.constants) - 1
            if count:
                name = path.relative_to(PACKAGE.parent)
                offences.append(f"{name}: {value!r} ({constant}) written again {count}x")
    assert offences == []


def test_the_grep_finds_a_second_copy(tmp_path: Path) -> None:
    """The check above can fail: a constructor with its own 5.0 is found."""
    source = "class Poller:\n    def __init__(self, poll_interval: float = 5.0) -> None: ...\n"
    assert copies(ast.parse(source), "POLL_INTERVAL", defaults.POLL_INTERVAL) == 1
    source = "@dataclass\nclass Run:\n    timeout: float = 7200.0\n    first: float = 5.0\n"
    assert copies(ast.parse(source), "RUN_DEADLINE", defaults.RUN_DEADLINE) == 1
    assert copies(ast.parse(source), "POLL_INTERVAL", defaults.POLL_INTERVAL) == 0


def test_the_readme_table_is_the_settings_table() -> None:
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    expected = readme_table()
    assert rows == expected, "README's Configuration table, from the settings table:\n" + (
        "\n".join(expected)
    )


def test_every_row_is_a_settings_field_with_the_table_default() -> None:
    fields = {f.name: f for f in dataclasses.fields(Settings) if f.name != "sources"}
    assert list(ROWS) == [row.name for row in TABLE]
    assert set(fields) == set(ROWS)
    for row in TABLE:
        expected = row.default if row.default is not None else (False if row.flag else None)
        assert fields[row.name].default == expected, row.name


@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
def test_every_row_names_a_converter(row: Setting) -> None:
    """Rows name their converter (imported only when a value is given): a misspelt name would
    only show when someone gives that setting."""
    from pytest_dai.glue.settings import converters

    assert callable(getattr(converters, row.converter, None)), row.converter


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_options_and_ini_keys_come_from_the_table(pytester: pytest.Pytester, row: object) -> None:
    assert isinstance(row, Setting)
    config = pytester.parseconfig()
    if row.option is not None:
        dest = row.option.lstrip("-").replace("-", "_")
        assert config.getoption(dest) is None  # no default: the resolution tells them apart
    if row.ini is not None:
        assert config.getini(row.ini) is None


def test_help_shows_the_table_defaults(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = " ".join(result.stdout.str().split())
    assert "default 7200" in text
    assert f"default {defaults.CLIENT_ID}" in text
    assert "DAI_CLIENT_SECRET or the credentials file" in text
    for row in TABLE:
        if row.option:
            assert row.option in text
        if row.ini:
            assert row.ini in text


def test_shown_defaults() -> None:
    assert shown_default(ROWS["timeout"]) == "7200"
    assert shown_default(ROWS["backoff_factor"]) == "0.5"
    assert shown_default(ROWS["dry_run"]) == "off"
    assert shown_default(ROWS["allow_insecure_token_url"]) == "false"
    assert shown_default(ROWS["realm"]) == "`eggplant`"
    assert shown_default(ROWS["credentials"]) == "none"


def test_the_readme_shows_the_markers_signatures() -> None:
    from pytest_dai.glue.markers.args import signature_text
    from pytest_dai.glue.markers.model import dai_model
    from pytest_dai.glue.markers.test_config import dai_test_config

    text = " ".join(README.read_text(encoding="utf-8").split())
    for signature in (dai_model, dai_test_config):
        assert f"`@pytest.mark.{signature_text(signature)}`" in text


def test_the_registered_markers_help_shows_the_signatures() -> None:
    from pytest_dai.glue.markers.args import signature_text
    from pytest_dai.glue.markers.model import dai_model
    from pytest_dai.glue.markers.test_config import dai_test_config
    from pytest_dai.plugin import CONFIG_MARKER_HELP, MARKER_HELP

    assert MARKER_HELP.startswith(signature_text(dai_model) + ": ")
    assert CONFIG_MARKER_HELP.startswith(signature_text(dai_test_config) + ": ")
