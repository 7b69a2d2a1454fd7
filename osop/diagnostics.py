"""Diagnostics: one issue found in one document, with where it is.

An :class:`Issue` is what the validator yields and what ``osop validate``
prints as ``file:line:col: severity rule-id: message`` or as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

__all__ = ["Issue", "Severity", "escape_pointer_token", "join_pointer"]


def escape_pointer_token(token: str | int) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    """``join_pointer("/nodes", 3, "id") == "/nodes/3/id"``."""
    return base + "".join("/" + escape_pointer_token(t) for t in tokens)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem (or note) in a document."""

    severity: Severity
    rule: str
    message: str
    pointer: str = ""
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    schema_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self, file: str | None = None) -> str:
        """``file:line:col: severity rule: message`` (the shape compilers use)."""
        where = file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.severity} {self.rule}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": file,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
        }
        if self.hint:
            out["hint"] = self.hint
        if self.schema_path:
            out["schema_path"] = self.schema_path
        return out
