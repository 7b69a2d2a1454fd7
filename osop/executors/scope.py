"""The names a node's own CEL expressions see (data mappings, gateway expressions).

``inputs`` (also as bare names), ``outputs`` (completed nodes' outputs by
id), ``variables`` (the workflow's), plus whatever a caller binds (``item``).
Expression errors become ``EXPRESSION_ERROR`` failures, never retried.
"""

from __future__ import annotations

from typing import Any

from osop.errors import OsopError
from osop.executors.base import NodeContext, NodeFailure
from osop.expr import compile_expression

__all__ = ["ExpressionScope"]


class ExpressionScope:
    def __init__(self, ctx: NodeContext) -> None:
        self.variables: dict[str, Any] = {
            **ctx.inputs,
            "inputs": dict(ctx.inputs),
            "outputs": {k: dict(v) for k, v in ctx.outputs.items()},
            "variables": dict(ctx.workflow.variables),
        }

    def eval(self, source: Any, **extra: Any) -> Any:
        """Evaluate ``source`` if it is a string; other values are data and pass through."""
        if not isinstance(source, str):
            return source
        try:
            return compile_expression(source).evaluate({**self.variables, **extra})
        except OsopError as exc:
            raise NodeFailure("EXPRESSION_ERROR", str(exc), retryable=False) from exc
