"""The OSOP functions an expression may call: ``status``, ``duration_of``, ``error_of``,
``attempt``, ``now``.

The engine owns the facts (which node ran, how, when); this module turns a
lookup over those facts into the callables :meth:`CompiledExpression.evaluate`
takes, so every engine component gives the functions the same meaning.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from osop.errors import MissingReferenceError

__all__ = ["OSOP_FUNCTION_NAMES", "NodeFacts", "osop_functions"]

OSOP_FUNCTION_NAMES = ("status", "duration_of", "error_of", "attempt", "now")


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What an expression may learn about one node's latest attempt."""

    status: str
    duration_seconds: float | None = None
    # ``{code, message, details}`` of the latest failure, if any.
    error: Mapping[str, Any] | None = None
    attempt: int = 1


def _utc_now() -> datetime:
    return datetime.now(UTC)


def osop_functions(
    facts: Callable[[str], NodeFacts | None],
    *,
    current: str | None = None,
    known_ids: Collection[str] | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> dict[str, Callable[..., Any]]:
    """Build the five OSOP functions over ``facts(node_id)``.

    ``current`` is the node the expression belongs to (an edge's source): it is
    what ``status()``, ``duration_of()``, ``error_of()`` without an argument and
    ``attempt()`` describe. ``known_ids`` lets an unknown id fail loudly (with a
    did-you-mean) instead of reading as a node that has not run yet (PENDING).

    - ``status(id)`` → the latest record's status (COMPLETED, FAILED, SKIPPED, TIMED_OUT,
      CANCELLED), or PENDING / RUNNING / WAITING for a node that has not finished
    - ``duration_of(id)`` → seconds as a double, or null when the node has not finished
    - ``error_of(id)`` → ``{"code", "message", "details"}`` (empty strings when it did not fail)
    - ``attempt()`` → the current node's attempt number, 1-based
    - ``now()`` → the engine clock as a CEL timestamp (UTC)
    """

    def lookup(node_id: object, function: str) -> NodeFacts | None:
        if node_id is None:
            if current is None:
                raise MissingReferenceError(
                    f"{function}()",
                    f"{function}() needs a node id here, e.g. {function}('build')",
                )
            node_id = current
        if not isinstance(node_id, str):
            raise MissingReferenceError(
                f"{function}({node_id!r})",
                f"{function}() takes a node id string, e.g. {function}('build'), not {node_id!r}",
            )
        found = facts(node_id)
        if found is None and known_ids is not None and node_id not in known_ids:
            close = difflib.get_close_matches(node_id, list(known_ids), n=1)
            suggestion = f"; did you mean {close[0]!r}?" if close else ""
            raise MissingReferenceError(
                f"{function}({node_id!r})",
                f"{function}({node_id!r}): no node has the id {node_id!r}{suggestion}",
            )
        return found

    def status(node_id: object = None) -> str:
        found = lookup(node_id, "status")
        return "PENDING" if found is None else found.status.upper()

    def duration_of(node_id: object = None) -> float | None:
        found = lookup(node_id, "duration_of")
        if found is None or found.duration_seconds is None:
            return None
        return float(found.duration_seconds)

    def error_of(node_id: object = None) -> dict[str, Any]:
        found = lookup(node_id, "error_of")
        error = dict(found.error) if found is not None and found.error else {}
        return {
            "code": str(error.get("code") or ""),
            "message": str(error.get("message") or ""),
            "details": str(error.get("details") or ""),
        }

    def attempt() -> int:
        if current is None:
            raise MissingReferenceError(
                "attempt()", "attempt() is only available in an expression that belongs to a node"
            )
        found = facts(current)
        return 1 if found is None else found.attempt

    def now() -> datetime:
        return clock()

    return {
        "status": status,
        "duration_of": duration_of,
        "error_of": error_of,
        "attempt": attempt,
        "now": now,
    }
