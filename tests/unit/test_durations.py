"""Duration strings in, seconds out; seconds in, short human text out."""

from __future__ import annotations

import pytest

from osop.format.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        (600, 600.0),
        (0.25, 0.25),
        ("600", 600.0),
    ],
)
def test_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "10 minutes", "-5s", -1, True, None, "PT10M", ""])
def test_parse_rejects(bad: object) -> None:
    assert parse_duration(bad) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "0.25s"),
        (9.5, "9.5s"),
        (12.4, "12s"),
        (59.4, "59s"),
        (59.7, "1m 0s"),
        (185, "3m 5s"),
        (7200, "2h 0m"),
        (200000, "2d 7h"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
