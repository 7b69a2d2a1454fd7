from __future__ import annotations

from pathlib import Path

import pytest

from osop.errors import LoadError, MissingReferenceError
from osop.security import SecretStore, load_env_file, parse_env

ENV_TEXT = """\
# a comment
export API_TOKEN=abc123
PLAIN = value with spaces   # trailing comment
HASH=a#b
SINGLE='literal $HOME \\n'
DOUBLE="line1\\nline2 \\"quoted\\""
MULTI="first
second"
EMPTY=
QUOTED_EMPTY=""
URL=https://example.com/?a=1&b=2
dotted.key-name=ok

  INDENTED=yes
"""


def test_parse_env_forms() -> None:
    values = parse_env(ENV_TEXT)
    assert values == {
        "API_TOKEN": "abc123",
        "PLAIN": "value with spaces",
        "HASH": "a#b",
        "SINGLE": "literal $HOME \\n",
        "DOUBLE": 'line1\nline2 "quoted"',
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "QUOTED_EMPTY": "",
        "URL": "https://example.com/?a=1&b=2",
        "dotted.key-name": "ok",
        "INDENTED": "yes",
    }


def test_later_keys_win() -> None:
    assert parse_env("A=1\nA=2\n") == {"A": "2"}


@pytest.mark.parametrize(
    ("text", "line"),
    [("GOOD=1\nnot a pair\n", 2), ("A='unterminated\n", 1), ('A="x" junk\n', 1), ("=x\n", 1)],
)
def test_malformed_lines_name_file_and_line(text: str, line: int) -> None:
    with pytest.raises(LoadError) as info:
        parse_env(text, "test.env")
    assert info.value.file == "test.env"
    assert info.value.line == line
    assert info.value.rule == "env/syntax"


def test_line_numbers_after_multiline_value() -> None:
    with pytest.raises(LoadError) as info:
        parse_env('A="x\ny"\nbad line\n')
    assert info.value.line == 3


def test_load_env_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfA=1\r\nB='2'\r\n")
    assert load_env_file(path) == {"A": "1", "B": "2"}


def test_load_env_file_missing(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        load_env_file(tmp_path / "nope.env")
    assert info.value.rule == "env/unreadable"


def test_secret_store_lookup_order(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("FROM_FILE=file-value\nBOTH=file\n")
    store = SecretStore(
        {"EXPLICIT": "explicit-value"},
        env_file=env_file,
        environ={"BOTH": "environ", "ONLY_ENV": "env-value", "OSOP_SECRET_PREFIXED": "pre"},
    )
    assert store.get("EXPLICIT") == "explicit-value"
    assert store.get("FROM_FILE") == "file-value"
    assert store.get("BOTH") == "file"
    assert store.get("ONLY_ENV") == "env-value"
    assert store.get("PREFIXED") == "pre"
    assert "ONLY_ENV" in store and "MISSING" not in store
    assert store.used_values() == frozenset(
        {"explicit-value", "file-value", "file", "env-value", "pre"}
    )
    assert list(store) == ["EXPLICIT", "FROM_FILE", "BOTH"]


def test_secret_store_missing_names_the_secret() -> None:
    store = SecretStore(environ={})
    with pytest.raises(MissingReferenceError) as info:
        store.get("DB_PASSWORD")
    assert info.value.reference == "secrets.DB_PASSWORD"
    assert "DB_PASSWORD" in str(info.value)


def test_all_values_cover_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("A=alpha-value\n")
    store = SecretStore(env_file=env_file, environ={})
    assert store.used_values() == frozenset()
    assert store.all_values() == frozenset({"alpha-value"})
