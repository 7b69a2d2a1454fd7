"""The CEL tokenizer: every literal form, operators, and what is not CEL."""

from __future__ import annotations

import pytest

from osop.expr.lexer import decode_string, tokenize


def kinds(source: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(source)]


@pytest.mark.parametrize(
    "literal",
    [
        "'single'",
        '"double"',
        "'''triple ' quote'''",
        '"""triple " quote"""',
        "r'raw \\d'",
        'R"raw"',
        "'esc \\' quote'",
        '"esc \\" quote"',
        "'''multi\nline'''",
    ],
)
def test_string_literals_are_one_token(literal: str) -> None:
    assert kinds(literal) == [("string", literal)]


@pytest.mark.parametrize("literal", ["b'abc'", 'B"abc"', "rb'x'", "BR'x'", "b'''x'''"])
def test_bytes_literals(literal: str) -> None:
    assert kinds(literal) == [("bytes", literal)]


@pytest.mark.parametrize(
    "literal", ["0", "42", "0x1F", "0XabU", "7u", "1.5", ".5", "1e3", "2.5E-4"]
)
def test_number_literals(literal: str) -> None:
    assert kinds(literal) == [("number", literal)]


def test_identifier_prefixed_like_a_string_is_an_identifier() -> None:
    assert kinds("rb + bar") == [("ident", "rb"), ("op", "+"), ("ident", "bar")]


def test_operators_longest_match() -> None:
    assert [t.text for t in tokenize("a<=b&&c!=d||!e>=f")] == [
        "a",
        "<=",
        "b",
        "&&",
        "c",
        "!=",
        "d",
        "||",
        "!",
        "e",
        ">=",
        "f",
    ]


def test_comments_and_whitespace_are_dropped() -> None:
    assert kinds("a // a comment with 'quote\n  == 1") == [
        ("ident", "a"),
        ("op", "=="),
        ("number", "1"),
    ]


def test_unterminated_string_is_an_error_token_not_an_exception() -> None:
    tokens = tokenize("x == 'abc")
    assert tokens[-1].kind == "error"
    assert tokens[-1].problem == "unterminated string"


def test_single_quoted_string_stops_at_newline() -> None:
    tokens = tokenize("'abc\n' == x")
    assert tokens[0].kind == "error"


def test_non_cel_symbols_are_lexed_for_the_linter() -> None:
    assert [t.text for t in tokenize("a = b <> c ${d}")] == [
        "a",
        "=",
        "b",
        "<>",
        "c",
        "${",
        "d",
        "}",
    ]
    assert tokenize("a # b")[1].kind == "error"


def test_offsets_point_into_the_source() -> None:
    source = "  outputs.x  == 'y'"
    for token in tokenize(source):
        assert source[token.start : token.end] == token.text


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'plain'", "plain"),
        ('"a\\"b"', 'a"b'),
        ("'tab\\tnew\\n'", "tab\tnew\n"),
        ("r'\\d+'", "\\d+"),
        ("'''x'''", "x"),
        ("'\\u00e9'", None),  # unicode escapes: not decoded, caller falls back
    ],
)
def test_decode_string(literal: str, value: str | None) -> None:
    assert decode_string(tokenize(literal)[0]) == value
