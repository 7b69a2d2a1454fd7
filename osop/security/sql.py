"""Risk classification of SQL text (db nodes, and SQL handed to database CLIs).

Comments and string literals are removed first so a keyword inside a string
(``'please DROP TABLE x'``) does not count; statements are split on ``;`` and
each is matched against the ``sql-*`` rules of :data:`osop.security.rules.RULES`.

A ``WHERE`` that holds for every row is no ``WHERE``: ``DELETE``/``UPDATE``
statements are parsed with sqlglot (the SQL parser and optimiser the Python data
tools use), their condition is simplified (``2>1`` → ``TRUE``), and a condition
that is true, or has an ``OR`` branch that reads no column (``id = 5 OR 1=1``), or
compares a column with itself (``id = id``) counts as deleting everything.  Text
sqlglot cannot parse falls back to the regular expressions below.
"""

from __future__ import annotations

import re
from typing import Final

from osop.security.rules import Classification, Level, Reason

__all__ = ["classify_sql", "sql_reasons"]

_COMMENTS: Final = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRINGS: Final = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$\$.*?\$\$", re.DOTALL)

_BLOCKED: Final = (
    re.compile(r"\bCOPY\b.*\b(?:FROM|TO)\s+PROGRAM\b", re.DOTALL),
    re.compile(r"\bXP_CMDSHELL\b"),
    re.compile(r"\bLOAD_EXTENSION\s*\("),
    re.compile(r"\bINTO\s+(?:OUT|DUMP)FILE\b"),
)
_DROP: Final = re.compile(r"\bDROP\s+(?:TABLE|DATABASE|SCHEMA|USER|ROLE)\b")
_TRUNCATE: Final = re.compile(r"\bTRUNCATE\b")
_DELETE: Final = re.compile(r"\bDELETE\s+(?:FROM\b|(?!FROM)\w+\s+WHERE\b|(?!FROM)\w+\s*$)")
_UPDATE: Final = re.compile(r"\bUPDATE\s+\S+\s+SET\b")
_WHERE: Final = re.compile(r"\bWHERE\b")
_TAUTOLOGY: Final = re.compile(r"\bWHERE\s+(?:1\s*=\s*1|TRUE|1|'1'\s*=\s*'1')\s*$")
_ALTER_DROP: Final = re.compile(r"\bALTER\s+TABLE\b.*\bDROP\b", re.DOTALL)
_WRITE: Final = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|REPLACE\s+INTO|"
    r"MERGE\s+INTO|UPSERT|CREATE\s+\w+|ALTER\s+\w+|DROP\s+\w+|GRANT|REVOKE|ATTACH|DETACH|"
    r"VACUUM|REINDEX|COPY|CALL|EXEC|EXECUTE)\b"
)
_WITH_WRITE: Final = re.compile(r"^\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b", re.DOTALL)


def _strip(sql: str) -> str:
    without_comments = _COMMENTS.sub(" ", sql)
    return _STRINGS.sub("''", without_comments)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _matches_every_row(statement: str) -> bool:
    """Whether the statement's ``WHERE`` is true of every row (sqlglot; False when unparsable)."""
    if not _WHERE.search(statement.upper()):
        return False
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.simplify import simplify

    try:
        parsed = sqlglot.parse_one(statement, error_level=sqlglot.ErrorLevel.RAISE)
    except (sqlglot.errors.SqlglotError, RecursionError, ValueError):
        return False
    where = parsed.args.get("where") if isinstance(parsed, exp.Delete | exp.Update) else None
    if not isinstance(where, exp.Where):
        return False
    try:
        condition = simplify(where.this.copy())
    except (sqlglot.errors.SqlglotError, RecursionError, ValueError):
        condition = where.this
    if isinstance(condition, exp.Boolean):
        return bool(condition.this)
    for branch in condition.flatten() if isinstance(condition, exp.Or) else [condition]:
        if next(branch.find_all(exp.Column), None) is None:
            return True
        if isinstance(branch, exp.EQ | exp.GTE | exp.LTE | exp.Like | exp.Is) and (
            branch.left == branch.right
        ):
            return True
    return False


def _statement_reasons(statement: str, shown: str) -> list[Reason]:
    upper = statement.upper()
    found: list[Reason] = []

    def add(rule: str, level: Level) -> None:
        found.append(Reason(rule, level, shown))

    if any(p.search(upper) for p in _BLOCKED):
        add("sql-shell-escape", "blocked")
    if _DROP.search(upper):
        add("sql-drop", "dangerous")
    if _TRUNCATE.search(upper):
        add("sql-truncate", "dangerous")
    every_row = _matches_every_row(statement)
    if _DELETE.search(upper) and (
        not _WHERE.search(upper) or _TAUTOLOGY.search(upper.strip()) or every_row
    ):
        add("sql-delete-all", "dangerous")
    if _UPDATE.search(upper) and (
        not _WHERE.search(upper) or _TAUTOLOGY.search(upper.strip()) or every_row
    ):
        add("sql-update-all", "dangerous")
    if _ALTER_DROP.search(upper):
        add("sql-drop-column", "dangerous")
    if not found and (_WRITE.search(upper) or _WITH_WRITE.search(upper)):
        add("sql-write", "moderate")
    return found


def sql_reasons(sql: str) -> list[Reason]:
    """Every rule matched by any statement of ``sql``."""
    reasons: list[Reason] = []
    for statement in _strip(sql).split(";"):
        if statement.strip():
            reasons.extend(_statement_reasons(statement, _shorten(statement)))
    return reasons


def classify_sql(sql: str) -> Classification:
    """Classify SQL: reads are ``safe``, writes ``moderate``, data loss ``dangerous``."""
    return Classification.of(sql_reasons(sql))
