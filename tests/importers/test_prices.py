"""The one price table: lookup by family, cost, override by a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osop.errors import OsopError
from osop.llm.prices import ENV_PRICES, cost, load_table, lookup


def test_dated_and_prefixed_names_find_their_family() -> None:
    price = lookup("claude-sonnet-4-5-20250929")
    assert price is not None and price.model == "claude-sonnet-4-5"
    assert price.input == pytest.approx(3e-6) and price.cache_read == pytest.approx(0.3e-6)
    assert lookup("anthropic/claude-opus-4-1-20250805").model == "claude-opus-4-1"  # type: ignore[union-attr]
    assert lookup("gpt-5-2025-08-07").model == "gpt-5"  # type: ignore[union-attr]
    assert lookup("gpt-5-codex").model == "gpt-5-codex"  # type: ignore[union-attr]
    assert lookup("gpt-50") is None
    assert lookup("<synthetic>") is None and lookup(None) is None
    assert load_table().as_of is not None


def test_cost_of_each_token_kind() -> None:
    # claude-sonnet-4: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million
    assert cost("claude-sonnet-4-20250514", 1_000_000, 0, 0, 0) == pytest.approx(3.0)
    assert cost("claude-sonnet-4-20250514", 0, 1_000_000) == pytest.approx(15.0)
    assert cost("claude-sonnet-4-20250514", 0, 0, 1_000_000) == pytest.approx(3.75)
    assert cost("claude-sonnet-4-20250514", 0, 0, 0, 1_000_000) == pytest.approx(0.3)
    assert cost("unknown-model", 10, 10) is None


def test_a_file_overrides_and_extends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "as_of": "2030-01-01",
                "models": {
                    "claude-sonnet-4": {"input": 1, "output": 2},
                    "in-house-7b": {"input": 0.1, "output": 0.2},
                },
            }
        )
    )
    assert cost("claude-sonnet-4", 1_000_000, path=path) == pytest.approx(1.0)
    # missing cache prices default to the input price
    assert cost("claude-sonnet-4", 0, 0, 1_000_000, 1_000_000, path=path) == pytest.approx(2.0)
    monkeypatch.setenv(ENV_PRICES, str(path))
    assert lookup("in-house-7b") is not None
    assert load_table().as_of == "2030-01-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "`models` object"),
        ('{"models": {"m": {"input": -1}}}', "/models/m/input"),
    ],
)
def test_a_bad_price_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(OsopError, match=message.replace("/", "/")):
        cost("claude-sonnet-4", 1, path=path)


def test_secret_shapes_are_found() -> None:
    from osop.security.redact import mask_secret_like, secret_like_values

    assert "ghp_" + "a" * 36 in secret_like_values("token ghp_" + "a" * 36)
    assert mask_secret_like("curl -H 'Authorization: Bearer abcdef123456' x") == (
        "curl -H 'Authorization: Bearer ***' x"
    )
    assert mask_secret_like("DB_PASSWORD=hunter22 ./run") == "DB_PASSWORD=*** ./run"
    assert mask_secret_like("mysql --password s3cr3tpw") == "mysql --password ***"
    assert mask_secret_like("git clone https://bob:pa55word@example.com/r") == (
        "git clone https://bob:***@example.com/r"
    )
    assert mask_secret_like("pytest tests/test_parser.py -q") == "pytest tests/test_parser.py -q"
