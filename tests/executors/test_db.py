from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure, NodeResult
from osop.executors.db import DbExecutor

from .helpers import make_ctx, run


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, active INTEGER);"
        "INSERT INTO users (name, active) VALUES ('ann', 1), ('bob', 0), ('cy', 1);"
    )
    conn.commit()
    conn.close()
    return path


def db(runtime: dict[str, Any], tmp_path: Path, **kw: Any) -> NodeResult:
    node = {"id": "q", "type": "db", "runtime": {"database": "app.db", **runtime}}
    return run(DbExecutor().execute(make_ctx(node, tmp_path, **kw)))


def test_select_rows(tmp_path: Path, database: Path) -> None:
    result = db(
        {"query": "SELECT id, name FROM users WHERE active = ? ORDER BY id", "params": [1]},
        tmp_path,
    )
    assert result.outputs == {
        "rows": [{"id": 1, "name": "ann"}, {"id": 3, "name": "cy"}],
        "row_count": 2,
        "columns": ["id", "name"],
    }


def test_named_params_and_max_rows(tmp_path: Path, database: Path) -> None:
    result = db(
        {
            "query": "SELECT name FROM users WHERE id >= :low ORDER BY id",
            "params": {"low": 1},
            "max_rows": 2,
        },
        tmp_path,
    )
    assert result.outputs["row_count"] == 2 and result.outputs["truncated"] is True


def test_write_reports_rows_affected(tmp_path: Path, database: Path) -> None:
    result = db({"query": "UPDATE users SET active = 1 WHERE name = 'bob'"}, tmp_path)
    assert result.outputs["rows_affected"] == 1
    assert any("sql-write" in line for line in result.log)
    rows = db({"query": "SELECT COUNT(*) AS n FROM users WHERE active = 1"}, tmp_path)
    assert rows.outputs["rows"] == [{"n": 3}]


def test_dangerous_sql_needs_approval(tmp_path: Path, database: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        db({"query": "DELETE FROM users"}, tmp_path)
    assert info.value.code == "NEEDS_APPROVAL"
    assert "sql-delete-all" in info.value.message
    assert db({"query": "SELECT COUNT(*) AS n FROM users"}, tmp_path).outputs["rows"] == [{"n": 3}]
    db({"query": "DELETE FROM users"}, tmp_path, answer={"approved": True})
    assert db({"query": "SELECT COUNT(*) AS n FROM users"}, tmp_path).outputs["rows"] == [{"n": 0}]


def test_blocked_sql(tmp_path: Path, database: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        db({"query": "SELECT load_extension('x.so')"}, tmp_path, answer={"approved": True})
    assert info.value.code == "BLOCKED"


def test_memory_database_and_script(tmp_path: Path) -> None:
    result = db({"database": ":memory:", "query": "SELECT 1 + 1 AS two"}, tmp_path)
    assert result.outputs["rows"] == [{"two": 2}]
    script = "CREATE TABLE t (x); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"
    result = db({"database": "new.db", "script": script}, tmp_path)
    assert result.outputs["rows_affected"] == 2


def test_connection_url(tmp_path: Path, database: Path) -> None:
    result = db(
        {"database": None, "connection": f"sqlite:///{database}", "query": "SELECT 1 AS one"},
        tmp_path,
    )
    assert result.outputs["rows"] == [{"one": 1}]


@pytest.mark.parametrize(
    ("runtime", "code"),
    [
        ({"query": "SELEC nonsense"}, "SQL_ERROR"),
        ({"query": "SELECT * FROM missing_table"}, "SQL_ERROR"),
        ({"query": ""}, "NO_QUERY"),
        ({"engine": "postgres", "query": "SELECT 1"}, "NO_DRIVER"),
    ],
)
def test_failures(tmp_path: Path, database: Path, runtime: dict[str, Any], code: str) -> None:
    with pytest.raises(NodeFailure) as info:
        db(runtime, tmp_path)
    assert info.value.code == code
    assert info.value.retryable is False
