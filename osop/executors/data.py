"""The ``data`` executor: small, declarative transforms in CEL.

Expressions are CEL in the node's scope (:mod:`osop.expr.scope`): ``inputs``
(this node's inputs, also as bare names), ``outputs`` (completed nodes' outputs
as recorded: ``outputs.fetch.items[0]``), ``variables``, ``loop``, ``metadata``,
``env``, and, inside list operations, ``item``.

``runtime.operation`` (optional) works on the list ``runtime.source`` (a CEL
expression, or literal data):

* ``filter`` — keep items where ``where`` (CEL over ``item``) is true;
* ``map`` — replace each item by ``expression`` (CEL over ``item``);
* ``aggregate`` — ``function`` count/sum/avg/min/max over the items, or over
  ``field`` of each item / ``expression`` per item;
* ``pick`` — keep ``fields`` of a mapping (or of each mapping in a list);
* ``merge`` — ``sources`` (list of expressions): mappings merged left to
  right, lists concatenated.

Its value is output as ``result`` (or the name in ``runtime.output``).
``runtime.mapping: {name: "<CEL>"}`` then adds one output per entry (it also
sees ``result``).  A node with neither fails with ``NO_TRANSFORM``: engine
based data steps (``engine: spark``) need a plug-in.  Expression errors fail
with ``EXPRESSION_ERROR`` and are not retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from osop.executors.base import NodeContext, NodeFailure, NodeResult

__all__ = ["OPERATIONS", "DataExecutor"]

OPERATIONS: Final = ("filter", "map", "aggregate", "pick", "merge")
AGGREGATES: Final = ("count", "sum", "avg", "min", "max")


def _items(ctx: NodeContext, rt: Mapping[str, Any], operation: str) -> list[Any]:
    value = ctx.evaluate(rt.get("source", rt.get("items")))
    if not isinstance(value, list):
        raise NodeFailure(
            "BAD_RUNTIME",
            f"operation {operation!r} needs runtime.source to be a list, got {type(value).__name__}",
            retryable=False,
        )
    return value


def _numbers(values: list[Any], function: str) -> list[float]:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        raise NodeFailure("BAD_DATA", f"{function} needs numbers", retryable=False)
    return numbers


def _aggregate(ctx: NodeContext, rt: Mapping[str, Any], items: list[Any]) -> Any:
    function = str(rt.get("function", "count")).lower()
    if function not in AGGREGATES:
        raise NodeFailure(
            "BAD_RUNTIME",
            f"aggregate function {function!r} is not one of {', '.join(AGGREGATES)}",
            retryable=False,
        )
    if function == "count":
        return len(items)
    field, expression = rt.get("field"), rt.get("expression")
    values: list[Any]
    if isinstance(field, str):
        values = [i.get(field) if isinstance(i, Mapping) else None for i in items]
    elif isinstance(expression, str):
        values = [ctx.evaluate(expression, item=i) for i in items]
    else:
        values = list(items)
    if function in ("min", "max"):
        if not values:
            return None
        try:
            return min(values) if function == "min" else max(values)
        except TypeError as exc:
            raise NodeFailure("BAD_DATA", f"{function}: {exc}", retryable=False) from exc
    numbers = _numbers(values, function)
    if function == "sum":
        return sum(numbers)
    return sum(numbers) / len(numbers) if numbers else None


def _pick(value: Any, fields: list[str]) -> Any:
    if isinstance(value, Mapping):
        return {f: value[f] for f in fields if f in value}
    if isinstance(value, list):
        return [_pick(v, fields) for v in value]
    raise NodeFailure("BAD_DATA", "pick needs a mapping or a list of mappings", retryable=False)


def _merge(parts: list[Any]) -> Any:
    if all(isinstance(p, Mapping) for p in parts):
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part)
        return merged
    if all(isinstance(p, list) for p in parts):
        return [x for p in parts for x in p]
    raise NodeFailure("BAD_DATA", "merge needs all mappings or all lists", retryable=False)


def _operation(ctx: NodeContext, rt: Mapping[str, Any], operation: str) -> Any:
    if operation == "filter":
        where = rt.get("where", rt.get("condition"))
        if not isinstance(where, str):
            raise NodeFailure("BAD_RUNTIME", "filter needs runtime.where", retryable=False)
        return [i for i in _items(ctx, rt, operation) if ctx.evaluate(where, item=i) is True]
    if operation == "map":
        expression = rt.get("expression", rt.get("select"))
        if not isinstance(expression, str):
            raise NodeFailure("BAD_RUNTIME", "map needs runtime.expression", retryable=False)
        return [ctx.evaluate(expression, item=i) for i in _items(ctx, rt, operation)]
    if operation == "aggregate":
        return _aggregate(ctx, rt, _items(ctx, rt, operation))
    if operation == "pick":
        fields = rt.get("fields")
        if not isinstance(fields, list):
            raise NodeFailure("BAD_RUNTIME", "pick needs runtime.fields", retryable=False)
        return _pick(ctx.evaluate(rt.get("source")), [str(f) for f in fields])
    sources = rt.get("sources")
    if not isinstance(sources, list) or not sources:
        raise NodeFailure("BAD_RUNTIME", "merge needs runtime.sources", retryable=False)
    return _merge([ctx.evaluate(s) for s in sources])


class DataExecutor:
    node_type = "data"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        operation = rt.get("operation")
        mapping = rt.get("mapping")
        if operation is None and not isinstance(mapping, Mapping):
            engine = rt.get("engine")
            hint = f" (engine {engine!r} needs a plug-in)" if engine else ""
            raise NodeFailure(
                "NO_TRANSFORM",
                f"data node {ctx.node.id!r} has no runtime.mapping or runtime.operation{hint}",
                retryable=False,
            )
        outputs: dict[str, Any] = {}
        bound: dict[str, Any] = {}
        if operation is not None:
            name = str(operation).lower()
            if name not in OPERATIONS:
                raise NodeFailure(
                    "BAD_RUNTIME",
                    f"operation {operation!r} is not one of {', '.join(OPERATIONS)}",
                    retryable=False,
                )
            result = _operation(ctx, rt, name)
            outputs[str(rt.get("output") or "result")] = result
            bound["result"] = result
        if isinstance(mapping, Mapping):
            for out_name, expression in mapping.items():
                outputs[str(out_name)] = ctx.evaluate(expression, **bound)
        return NodeResult(outputs=outputs)
