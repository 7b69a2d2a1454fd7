"""The W3C trace context of the node attempt running in this task.

Set by the tracing observer when an attempt starts (each node runs in its own
asyncio task, so the value follows the attempt and nothing else); read by the
``api`` executor (a ``traceparent`` header) and by child runs (their run span
is a child of this node's span).  No OpenTelemetry import here: executors pay
nothing when tracing is off.
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["current_traceparent", "set_traceparent"]

_TRACEPARENT: ContextVar[str | None] = ContextVar("osop_traceparent", default=None)


def current_traceparent() -> str | None:
    return _TRACEPARENT.get()


def set_traceparent(value: str | None) -> None:
    _TRACEPARENT.set(value)
