"""The ``db`` executor: SQL through a real driver (SQLite built in).

Runtime fields: ``database`` (a path relative to the workdir, or ``:memory:``;
``connection: sqlite:///path`` is accepted too), ``query`` (or ``sql``; one
statement), ``params`` (list for ``?`` or mapping for ``:name``), ``script``
(several statements, run with ``executescript``), ``max_rows`` (default 10000),
``engine`` (``sqlite``; other engines need a plug-in and fail with
``NO_DRIVER``).

The SQL is classified first (:func:`osop.security.classify_sql`): dangerous
statements (``DROP TABLE``, ``DELETE`` without ``WHERE`` ...) need an
approval exactly like dangerous shell commands, blocked ones are refused.

Outputs: for a query that returns rows, ``rows`` (list of column → value
mappings), ``row_count``, ``columns`` (and ``truncated`` when ``max_rows`` cut
it); otherwise ``rows_affected`` and ``last_row_id``.  Failures: ``SQL_ERROR``
(not retried), ``DB_LOCKED`` (retried), ``NO_DRIVER``, ``NO_QUERY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from osop.executors.approval import enforce
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.security import classify_sql

__all__ = ["DbExecutor"]

DEFAULT_MAX_ROWS: Final = 10_000
_SQLITE: Final = frozenset({"sqlite", "sqlite3"})


def _database(ctx: NodeContext) -> str:
    rt = ctx.runtime
    target = rt.get("database")
    connection = rt.get("connection")
    if target is None and isinstance(connection, str) and connection.startswith("sqlite:"):
        target = (
            connection.removeprefix("sqlite:").removeprefix("///").removeprefix("//") or ":memory:"
        )
    if target is None:
        raise NodeFailure("BAD_RUNTIME", "runtime.database is required for sqlite", retryable=False)
    text = str(target)
    if text == ":memory:":
        return text
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else ctx.workdir / path)


def _execute(
    conn: sqlite3.Connection, sql: str, params: Any, script: bool, max_rows: int
) -> dict[str, Any]:
    try:
        if script:
            conn.executescript(sql)
            conn.commit()
            return {"rows_affected": conn.total_changes}
        bound = params if isinstance(params, Mapping | list | tuple) else ()
        cursor = conn.execute(sql, bound)
        if cursor.description is not None:
            columns = [d[0] for d in cursor.description]
            fetched = cursor.fetchmany(max_rows + 1)
            rows = [dict(zip(columns, row, strict=True)) for row in fetched[:max_rows]]
            out: dict[str, Any] = {"rows": rows, "row_count": len(rows), "columns": columns}
            if len(fetched) > max_rows:
                out["truncated"] = True
            conn.commit()
            return out
        conn.commit()
        return {"rows_affected": cursor.rowcount, "last_row_id": cursor.lastrowid}
    finally:
        conn.close()


class DbExecutor:
    node_type = "db"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        engine = str(rt.get("engine") or "sqlite").lower()
        if engine not in _SQLITE:
            raise NodeFailure(
                "NO_DRIVER",
                f"no built-in driver for database engine {engine!r}; only sqlite is built in "
                "(install a plug-in for the osop.executors entry point 'db')",
                retryable=False,
            )
        script = isinstance(rt.get("script"), str)
        sql = rt.get("script") if script else rt.get("query", rt.get("sql"))
        if not isinstance(sql, str) or not sql.strip():
            raise NodeFailure("NO_QUERY", "runtime.query is required", retryable=False)
        log = enforce(ctx, classify_sql(sql), "SQL")
        database = _database(ctx)
        max_rows = rt.get("max_rows", DEFAULT_MAX_ROWS)
        limit = max_rows if isinstance(max_rows, int) and max_rows > 0 else DEFAULT_MAX_ROWS
        try:
            conn = sqlite3.connect(database, timeout=5.0, check_same_thread=False)
        except sqlite3.Error as exc:
            raise NodeFailure(
                "SQL_ERROR", f"cannot open {database!r}: {exc}", retryable=False
            ) from exc
        work = asyncio.ensure_future(
            asyncio.to_thread(_execute, conn, sql, rt.get("params"), script, limit)
        )
        try:
            outputs = await asyncio.shield(work)
        except asyncio.CancelledError:
            conn.interrupt()
            with contextlib.suppress(Exception):
                await work
            raise
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc).lower() or "busy" in str(exc).lower()
            code = "DB_LOCKED" if locked else "SQL_ERROR"
            raise NodeFailure(code, f"{exc}", retryable=locked) from exc
        except sqlite3.Error as exc:
            raise NodeFailure("SQL_ERROR", f"{exc}", retryable=False) from exc
        return NodeResult(outputs=outputs, log=log)
