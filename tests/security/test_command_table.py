"""The table of obfuscated commands and SQL (commands.tsv) that the classifiers must meet."""

from __future__ import annotations

from pathlib import Path

import pytest

from osop.security import classify_command, classify_sql

_TABLE = Path(__file__).with_name("commands.tsv")


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        expected, kind, text = line.split("\t", 2)
        rows.append((expected, kind, text))
    return rows


ROWS = _rows()


def test_the_table_is_large_and_well_formed() -> None:
    assert len(ROWS) >= 150
    assert {r[0] for r in ROWS} == {"safe", "moderate", "dangerous", "blocked"}
    assert {r[1] for r in ROWS} == {"sh", "sql"}


@pytest.mark.parametrize(("expected", "kind", "text"), ROWS, ids=[r[2][:60] for r in ROWS])
def test_classification_meets_the_table(expected: str, kind: str, text: str) -> None:
    result = classify_command(text) if kind == "sh" else classify_sql(text)
    assert result.level == expected, result.summary()
