"""Edits on a workflow's plain data (the dict that becomes the new ``.osop``).

Each edit changes only what it must and leaves every other key — comments
aside, extensions and unknown keys included — as it was, so a synthesized
file diffs cleanly against its base.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = [
    "WorkflowData",
    "add_bypass",
    "add_precheck",
    "cel_literal",
    "edges_from",
    "edges_to",
    "mentions",
    "node_data",
    "parallelize",
    "strings_in",
]

WorkflowData = dict[str, Any]

#: Fields of a node whose text can refer to another node's outputs.
_REFERENCE_FIELDS = (
    "runtime",
    "inputs",
    "success_criteria",
    "preconditions",
    "workflow_inputs",
    "handoff",
    "config",
)


def node_data(data: WorkflowData, node_id: str) -> dict[str, Any]:
    for node in data.get("nodes", []):
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    raise KeyError(node_id)


def _edges(data: WorkflowData) -> list[dict[str, Any]]:
    edges = data.setdefault("edges", [])
    assert isinstance(edges, list)
    return [e for e in edges if isinstance(e, dict)]


def edges_from(data: WorkflowData, node_id: str) -> list[dict[str, Any]]:
    return [e for e in _edges(data) if e.get("from") == node_id]


def edges_to(data: WorkflowData, node_id: str) -> list[dict[str, Any]]:
    return [e for e in _edges(data) if e.get("to") == node_id]


def mode_of(edge: dict[str, Any]) -> str:
    return str(edge.get("mode") or "sequential")


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def mentions(node: dict[str, Any], other_id: str) -> bool:
    """Whether ``node`` refers to ``other_id`` in a field that can carry data.

    ``${outputs.X.y}``, ``outputs.X``, ``status('X')``, ``duration_of("X")`` and a
    bare ``X.field`` all count; prose fields (name, purpose, description) do not.
    """
    word = re.compile(rf"(?<![\w-]){re.escape(other_id)}(?![\w-])")
    for key in _REFERENCE_FIELDS:
        for text in strings_in(node.get(key)):
            if word.search(text):
                return True
    return False


def parallelize(data: WorkflowData, first: str, second: str) -> None:
    """Turn ``P → first → second → S`` into ``P → {first, second} → S``.

    Preconditions (checked by the caller): the edge ``first → second`` is the only
    edge out of ``first`` and the only edge into ``second``, is sequential, and
    the edges into ``first`` and out of ``second`` are sequential or parallel.
    """
    edges = data["edges"]
    link = next(e for e in edges_from(data, first) if e.get("to") == second)
    edges.remove(link)
    for incoming in edges_to(data, first):
        if incoming.get("mode") in (None, "sequential"):
            incoming["mode"] = "parallel"
        edges.append({"from": incoming["from"], "to": second, "mode": "parallel"})
    for outgoing in edges_from(data, second):
        edges.append({"from": first, "to": outgoing["to"], "mode": "sequential"})


def add_bypass(
    data: WorkflowData, before: str, human: str, targets: list[str], key: str, value: Any
) -> str:
    """Route around ``human`` when ``key == value`` on ``before``'s outputs; returns the CEL."""
    literal = cel_literal(value)
    when = f"{key} == {literal}"
    for edge in edges_from(data, before):
        if edge.get("to") == human:
            edge["mode"] = "conditional"
            edge["when"] = f"{key} != {literal}"
    for target in targets:
        data["edges"].append(
            {
                "from": before,
                "to": target,
                "mode": "conditional",
                "when": when,
                "label": f"bypass {human} when {when}",
            }
        )
    return when


def add_precheck(
    data: WorkflowData, target: str, node: dict[str, Any], when: str | None = None
) -> None:
    """Insert ``node`` right before ``target`` (every non-loop edge into it moves).

    With ``when``, ``target`` runs only if the check's outputs satisfy it (a person's
    checklist answered ``approved``); a failing command check fails the run anyway.
    """
    data["nodes"].insert(data["nodes"].index(node_data(data, target)), node)
    for edge in edges_to(data, target):
        if mode_of(edge) != "loop":
            edge["to"] = node["id"]
    link: dict[str, Any] = {"from": node["id"], "to": target, "mode": "sequential"}
    if when is not None:
        link = {"from": node["id"], "to": target, "mode": "conditional", "when": when}
    data["edges"].append(link)


def cel_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"
