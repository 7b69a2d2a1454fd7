from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from osop.security import MASK, is_secret_key, redact


def test_redacts_every_occurrence_in_nested_structures() -> None:
    value = {
        "url": "https://api.example.com/?key=abcd1234&again=abcd1234",
        "items": ["x abcd1234 y", ("abcd1234",), 3, None, True],
        "abcd1234": "key that is a secret",
    }
    out = redact(value, ["abcd1234"])
    assert "abcd1234" not in json.dumps(out)
    assert out["url"] == "https://api.example.com/?key=***&again=***"
    assert out["items"] == ["x *** y", ("***",), 3, None, True]
    assert out["***"] == "key that is a secret"


def test_longest_secret_first() -> None:
    assert redact("token=abcdefgh", ["abcd", "abcdefgh"]) == "token=***"


def test_short_values_are_not_redacted() -> None:
    assert redact("a b c", ["a", "ab", "abc"]) == "a b c"


def test_secret_keys_are_masked_whatever_their_value() -> None:
    value = {
        "password": "pw",
        "Authorization": "Bearer xyz",
        "x-api-key": 12345,
        "db_password": "p",
        "headers": {"X-Api-Key": "k", "Accept": "json"},
        "api_key": None,
        "token": "",
        "secrets": {"A": "one", "B": ["two"]},
        "prompt_tokens": 120,
        "max_tokens": 300,
    }
    out = redact(value, [])
    assert out["password"] == MASK
    assert out["Authorization"] == MASK
    assert out["x-api-key"] == MASK
    assert out["db_password"] == MASK
    assert out["headers"] == {"X-Api-Key": MASK, "Accept": "json"}
    assert out["api_key"] is None
    assert out["token"] == ""
    assert out["secrets"] == {"A": MASK, "B": [MASK]}
    assert out["prompt_tokens"] == 120
    assert out["max_tokens"] == 300


def test_key_rule_can_be_turned_off() -> None:
    assert redact({"password": "pw"}, [], redact_keys=False) == {"password": "pw"}


def test_original_is_not_modified() -> None:
    value = {"a": ["secret-value"]}
    redact(value, ["secret-value"])
    assert value == {"a": ["secret-value"]}


def test_is_secret_key() -> None:
    assert is_secret_key("GITHUB_TOKEN")
    assert is_secret_key("client-secret")
    assert not is_secret_key("completion_tokens")
    assert not is_secret_key("name")


def test_masking_cannot_create_a_new_occurrence() -> None:
    # Masking the inner secret would spell the outer one: it must be masked too.
    assert redact("x" + "abcd" + "y", ["abcd", "x***y"]) == MASK


_alphabet = st.sampled_from("ab*xyz: 12")
_secrets = st.lists(st.text(_alphabet, min_size=4, max_size=8), min_size=1, max_size=3)


def _nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.tuples(children, children),
            st.dictionaries(st.text(_alphabet, max_size=10), children, max_size=4),
        ),
        max_leaves=20,
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        out = [k for k in value if isinstance(k, str)]
        for item in value.values():
            out += _strings(item)
        return out
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


@settings(max_examples=300, deadline=None)
@given(data=st.data(), secrets=_secrets)
def test_no_secret_survives_anywhere(data: st.DataObject, secrets: list[str]) -> None:
    # Leaves are built from the secrets themselves, glued to noise.
    pieces = st.sampled_from(secrets) | st.text(_alphabet, max_size=6)
    leaf = st.lists(pieces, max_size=4).map("".join) | st.integers() | st.none()
    value = data.draw(_nested(leaf))
    out = redact(value, secrets)
    for text in _strings(out):
        for secret in secrets:
            assert secret not in text
