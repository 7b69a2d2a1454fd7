"""What the studio shows for one document's text: issues, graph, story, roles, agent plan.

Every change in the browser is sent here and validated by the project's own
validator (:func:`osop.format.validate.validate_text`), so the studio never
disagrees with ``osop validate``.  Each issue carries its rule id, its line and
column (for the YAML gutter) and, when its JSON pointer lies inside a node or an
edge, that node's id or that edge's index (for the graph).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from osop.errors import OsopError
from osop.format.validate import validate_text
from osop.format.workflow import Workflow

__all__ = ["check_text"]

_NODE_POINTER = re.compile(r"^/nodes/(\d+)(?:/|$)")
_EDGE_POINTER = re.compile(r"^/edges/(\d+)(?:/|$)")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None if value is None else str(value)


def _graph(data: Any) -> dict[str, Any] | None:
    """Nodes and edges as written (lenient: a graph with errors still draws)."""
    if not isinstance(data, Mapping):
        return None
    nodes = data.get("nodes")
    edges = data.get("edges")
    out_nodes: list[dict[str, Any]] = []
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, Mapping) or node.get("id") is None:
            continue
        position = node.get("x-studio")
        where = None
        if isinstance(position, Mapping):
            x, y = position.get("x"), position.get("y")
            if isinstance(x, int | float) and isinstance(y, int | float):
                where = {"x": float(x), "y": float(y)}
        out_nodes.append(
            {
                "index": index,
                "id": str(node.get("id")),
                "type": _text(node.get("type")),
                "name": _text(node.get("name")) or _text(node.get("purpose")),
                "role": _text(node.get("role")),
                "fields": {
                    k: v
                    for k, v in node.items()
                    if isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool))
                },
                "position": where,
            }
        )
    out_edges: list[dict[str, Any]] = []
    for index, edge in enumerate(edges if isinstance(edges, list) else []):
        if not isinstance(edge, Mapping):
            continue
        out_edges.append(
            {
                "index": index,
                "from": _text(edge.get("from")),
                "to": _text(edge.get("to")),
                "mode": _text(edge.get("mode")) or "sequential",
                "when": _text(edge.get("when") if "when" in edge else edge.get("condition")),
                "label": _text(edge.get("label")),
                "fields": {
                    k: v
                    for k, v in edge.items()
                    if isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool))
                },
            }
        )
    return {
        "id": _text(data.get("id")),
        "name": _text(data.get("name")),
        "nodes": out_nodes,
        "edges": out_edges,
    }


def _story(workflow: Workflow) -> list[dict[str, Any]]:
    from osop.render.story import story_steps

    try:
        steps = story_steps(workflow)
    except OsopError:  # edges to nodes that do not exist: nothing honest to tell yet
        return []
    return [
        {
            "number": s.number,
            "id": s.node.id,
            "label": s.node.label,
            "who": s.who,
            "what": s.what,
            "why": s.why,
            "next": list(s.next),
        }
        for s in steps
    ]


def _roles(workflow: Workflow) -> list[dict[str, Any]]:
    from osop.render.roles import role_groups

    return [
        {
            "actor": g.actor,
            "title": g.title,
            "share": g.share,
            "roles": list(g.named_roles),
            "nodes": [
                {"id": n.id, "label": n.label, "type": n.type, "role": n.role} for n in g.nodes
            ],
        }
        for g in role_groups(workflow)
    ]


def _agent(workflow: Workflow) -> str | None:
    from osop.render.agent import render_agent

    try:
        return render_agent(workflow)
    except OsopError:  # edges to nodes that do not exist: no honest plan yet
        return None


def check_text(text: str, name: str, base_dir: Path | None = None) -> dict[str, Any]:
    """Issues, graph, story and roles of one document as JSON-ready data."""
    report = validate_text(text, name, base_dir=base_dir)
    data = report.document.data if report.document is not None else None
    nodes = data.get("nodes") if isinstance(data, Mapping) else None
    node_ids: dict[int, str] = {}
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, Mapping) and node.get("id") is not None:
            node_ids[index] = str(node["id"])
    issues = []
    for issue in report.issues:
        item = issue.to_dict(name)
        if match := _NODE_POINTER.match(issue.pointer or ""):
            item["node"] = node_ids.get(int(match.group(1)))
        elif match := _EDGE_POINTER.match(issue.pointer or ""):
            item["edge"] = int(match.group(1))
        issues.append(item)
    model = report.model
    workflow = model if isinstance(model, Workflow) else None
    return {
        "kind": report.kind,
        "valid": report.valid,
        "issues": issues,
        "graph": _graph(data) if report.kind == "workflow" else None,
        "story": _story(workflow) if workflow is not None else [],
        "roles": _roles(workflow) if workflow is not None else [],
        # The SOP written for an agent (`osop render --format agent`), as Markdown.
        "agent": _agent(workflow) if workflow is not None else None,
    }
