"""One exception tree for everything OSOP raises on purpose.

Every error a user can cause derives from :class:`OsopError`; the CLI turns
these into ``Error: ...`` lines with a non-zero exit code, never a traceback.
Foreign exceptions are mapped at the boundary (``raise X(...) from exc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from osop.diagnostics import Issue

__all__ = [
    "ClassificationError",
    "ExecutionError",
    "ExpressionError",
    "LoadError",
    "MissingReferenceError",
    "OsopError",
    "RunRefusedError",
    "RunStoreError",
    "UsageError",
    "ValidationError",
]


class OsopError(Exception):
    """Root of every error OSOP raises on purpose."""


class UsageError(OsopError):
    """The arguments name nothing usable (no such file, folder or run): exit code 2."""


class LoadError(OsopError):
    """A document could not be read: bad bytes, bad YAML/JSON, too large, hostile."""

    def __init__(
        self,
        message: str,
        *,
        rule: str = "document/unreadable",
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.rule = rule
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.rule}: {self.message}"


class ValidationError(OsopError):
    """A document was read but breaks the spec; carries every issue found."""

    def __init__(self, issues: Sequence[Issue], file: str | None = None) -> None:
        self.issues = list(issues)
        self.file = file
        errors = [i for i in self.issues if i.severity == "error"]
        first = errors[0] if errors else (self.issues[0] if self.issues else None)
        summary = first.format(file) if first is not None else "invalid document"
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(summary + more)


class ExpressionError(OsopError):
    """A CEL expression could not be compiled or evaluated."""

    def __init__(self, expression: str, message: str, *, hint: str | None = None) -> None:
        self.expression = expression
        self.message = message
        self.hint = hint
        text = f"{message} in expression {expression!r}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)


class MissingReferenceError(OsopError):
    """A ``${...}`` reference or a CEL name that resolves to nothing."""

    def __init__(self, reference: str, message: str | None = None) -> None:
        self.reference = reference
        super().__init__(message or f"unresolved reference ${{{reference}}}")


class ClassificationError(OsopError):
    """Data would flow from a node to a node of lower classification (binding §9.3)."""


class ExecutionError(OsopError):
    """The engine cannot start or continue a run (not a node failure: those are recorded)."""


class RunRefusedError(ExecutionError):
    """A run refused before it starts (invalid inputs, a blocked command): nothing ran
    and nothing was written. ``problems`` lists each reason, one line each."""

    def __init__(self, summary: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(summary + lines)


class RunStoreError(OsopError):
    """The run store is missing, locked, or holds something unreadable."""
