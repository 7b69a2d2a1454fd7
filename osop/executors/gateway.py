"""The ``gateway`` executor: no action of its own; routing is done by its edges.

When ``runtime.expression`` is set it is evaluated (CEL, see
:mod:`osop.executors.scope`) and output as ``value``, so a ``switch`` edge can
route on ``value``; otherwise the gateway outputs nothing.
"""

from __future__ import annotations

from osop.executors.base import NodeContext, NodeResult
from osop.executors.scope import ExpressionScope

__all__ = ["GatewayExecutor"]


class GatewayExecutor:
    node_type = "gateway"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        expression = ctx.runtime.get("expression")
        if expression is None:
            return NodeResult()
        return NodeResult(outputs={"value": ExpressionScope(ctx).eval(expression)})
