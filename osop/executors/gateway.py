"""The ``gateway`` executor: no action of its own; routing is done by its edges.

When ``runtime.expression`` is set it is evaluated (CEL, in the node's scope:
:mod:`osop.expr.scope`) and output as ``value``, so a ``switch`` edge can
route on ``value``; otherwise the gateway outputs nothing.
"""

from __future__ import annotations

from osop.executors.base import NodeContext, NodeResult

__all__ = ["GatewayExecutor"]


class GatewayExecutor:
    node_type = "gateway"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        expression = ctx.runtime.get("expression")
        if expression is None:
            return NodeResult()
        return NodeResult(outputs={"value": ctx.evaluate(expression)})
