"""The OSOP functions an expression may call: ``status``, ``duration_of``, ``error_of``,
``attempt``, ``now``.

The engine owns the facts (which node ran, how, when); this module turns a
lookup over those facts into the callables :meth:`CompiledExpression.evaluate`
takes, so every engine component gives the functions the same meaning.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from osop.errors import MissingReferenceError

__all__ = ["OSOP_FUNCTION_NAMES", "NodeFacts", "OsopFunctions", "osop_functions"]

OSOP_FUNCTION_NAMES = ("status", "duration_of", "error_of", "attempt", "now")


class NodeFacts(NamedTuple):
    """What an expression may learn about one node's latest attempt.

    A named tuple, not a frozen dataclass: the engine builds one per ``status()``
    call, and a tuple is built several times faster.
    """

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
) -> Mapping[str, Callable[..., Any]]:
    """The five OSOP functions over ``facts(node_id)``, by name.

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

    The engine asks for these once per edge decision, so building them is cheap:
    one small object whose functions are its bound methods.
    """
    return OsopFunctions(facts, current, known_ids, clock)


class OsopFunctions(Mapping[str, Callable[..., Any]]):
    """The OSOP functions as a read-only mapping (see :func:`osop_functions`)."""

    __slots__ = ("_clock", "_current", "_facts", "_known_ids")

    def __init__(
        self,
        facts: Callable[[str], NodeFacts | None],
        current: str | None,
        known_ids: Collection[str] | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._facts = facts
        self._current = current
        self._known_ids = known_ids
        self._clock = clock

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in OSOP_FUNCTION_NAMES:
            raise KeyError(name)
        function: Callable[..., Any] = getattr(self, name)
        return function

    def get(self, name: str, default: Any = None) -> Any:  # per edge decision: no KeyError
        return getattr(self, name) if name in OSOP_FUNCTION_NAMES else default

    def __iter__(self) -> Iterator[str]:
        return iter(OSOP_FUNCTION_NAMES)

    def __len__(self) -> int:
        return len(OSOP_FUNCTION_NAMES)

    def _lookup(self, node_id: object, function: str) -> NodeFacts | None:
        if node_id is None:
            if self._current is None:
                raise MissingReferenceError(
                    f"{function}()",
                    f"{function}() needs a node id here, e.g. {function}('build')",
                )
            node_id = self._current
        if not isinstance(node_id, str):
            raise MissingReferenceError(
                f"{function}({node_id!r})",
                f"{function}() takes a node id string, e.g. {function}('build'), not {node_id!r}",
            )
        found = self._facts(node_id)
        known = self._known_ids
        if found is None and known is not None and node_id not in known:
            close = difflib.get_close_matches(node_id, list(known), n=1)
            suggestion = f"; did you mean {close[0]!r}?" if close else ""
            raise MissingReferenceError(
                f"{function}({node_id!r})",
                f"{function}({node_id!r}): no node has the id {node_id!r}{suggestion}",
            )
        return found

    def status(self, node_id: object = None) -> str:
        if type(node_id) is str:  # the usual call, status('build'): one call less
            found = self._facts(node_id)
            if found is not None:
                return found.status.upper()
        found = self._lookup(node_id, "status")
        return "PENDING" if found is None else found.status.upper()

    def duration_of(self, node_id: object = None) -> float | None:
        found = self._lookup(node_id, "duration_of")
        if found is None or found.duration_seconds is None:
            return None
        return float(found.duration_seconds)

    def error_of(self, node_id: object = None) -> dict[str, Any]:
        found = self._lookup(node_id, "error_of")
        error = dict(found.error) if found is not None and found.error else {}
        return {
            "code": str(error.get("code") or ""),
            "message": str(error.get("message") or ""),
            "details": str(error.get("details") or ""),
        }

    def attempt(self) -> int:
        if self._current is None:
            raise MissingReferenceError(
                "attempt()", "attempt() is only available in an expression that belongs to a node"
            )
        found = self._facts(self._current)
        return 1 if found is None else found.attempt

    def now(self) -> datetime:
        return self._clock()
