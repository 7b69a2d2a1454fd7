"""The ``event`` executor: emit an event, or wait (durably) for one.

Waiting nodes — ``runtime.wait_for: <name>``, or ``subtype`` ``wait``/
``listen``/``trigger``/``signal`` — return a ``WaitRequest`` (kind ``event``,
or ``signal`` for ``runtime.signal``/subtype ``signal``) named after the
event (default: the node id) until something is delivered; then the delivered
payload is the outputs.  Other event nodes emit: the outputs are
``runtime.payload`` (a mapping, else ``{payload: ...}``) and, when the engine
provides ``services["event_bus"]`` (an async callable ``(name, payload)``),
the event is published to it; otherwise it is only recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from osop.executors.base import NodeContext, NodeResult, WaitRequest

__all__ = ["EventExecutor", "is_waiting_node"]

_WAIT_SUBTYPES: Final = frozenset({"wait", "listen", "listener", "trigger", "signal", "receive"})


def is_waiting_node(ctx: NodeContext) -> bool:
    rt = ctx.runtime
    return (
        bool(rt.get("wait_for") or rt.get("signal"))
        or (ctx.node.subtype or "").lower() in _WAIT_SUBTYPES
        or str(rt.get("mode", "")).lower() == "wait"
    )


class EventExecutor:
    node_type = "event"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        if is_waiting_node(ctx):
            if ctx.delivered is not None:
                return NodeResult(
                    outputs=dict(ctx.delivered), log=[f"event delivered to {ctx.node.id!r}"]
                )
            kind: Literal["event", "signal"] = (
                "signal" if rt.get("signal") or ctx.node.subtype == "signal" else "event"
            )
            name = str(rt.get("wait_for") or rt.get("signal") or rt.get("event") or ctx.node.id)
            return NodeResult(
                wait=WaitRequest(
                    kind, name, prompt=ctx.node.purpose, details={"filter": rt.get("filter")}
                )
            )
        name = str(rt.get("event") or rt.get("name") or ctx.node.id)
        payload: Any = rt.get("payload", {})
        outputs = dict(payload) if isinstance(payload, Mapping) else {"payload": payload}
        bus = ctx.services.get("event_bus")
        if bus is not None:
            await bus(name, outputs)
            return NodeResult(outputs=outputs, log=[f"published event {name!r}"])
        return NodeResult(
            outputs=outputs, log=[f"recorded event {name!r} (no event bus configured)"]
        )
