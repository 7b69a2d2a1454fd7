"""Building a NodeContext for one node without an engine."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from osop.executors.base import NodeContext, RunMode
from osop.expr.scope import NodeOutputs, make_scope
from osop.format.workflow import workflow_from_dict

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_ctx(
    node: Mapping[str, Any],
    workdir: Path,
    *,
    mode: RunMode = "live",
    attempt: int = 1,
    **overrides: Any,
) -> NodeContext:
    data = {"osop_version": "1.1", "id": "test-flow", "name": "Test", "nodes": [dict(node)]}
    workflow = workflow_from_dict(data)
    model = workflow.nodes[0]
    fields: dict[str, Any] = {
        "run_id": "00000000-0000-4000-8000-000000000000",
        "workflow": workflow,
        "node": model,
        "attempt": attempt,
        "mode": mode,
        "runtime": dict(model.runtime),
        "inputs": {},
        "workdir": workdir,
        "env": {},
    }
    # ``outputs={node: {...}}``: upstream outputs, seen through a scope as the engine builds it.
    upstream = overrides.pop("outputs", None)
    fields.update(overrides)
    if upstream is not None:
        fields["scope"] = make_scope(
            own=fields["inputs"],
            inputs=fields["inputs"],
            outputs=NodeOutputs.of(upstream),
            variables=workflow.variables,
        )
    return NodeContext(**fields)
