"""A workflow reduced to what a drawing needs: nodes by position, edges by index pairs.

Rendering is lenient — a workflow with warnings still draws — but a graph whose
edges point at nodes that do not exist, or that has no nodes, cannot be drawn
honestly, so it raises :class:`~osop.errors.ValidationError` instead.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from osop.diagnostics import Issue, join_pointer
from osop.errors import ValidationError
from osop.format.workflow import Edge, Node, Workflow

__all__ = ["DrawEdge", "DrawGraph", "graph_of", "reading_order"]


@dataclass(frozen=True, slots=True)
class DrawEdge:
    """One arrow: a switch edge becomes one arrow per case."""

    source: int
    target: int
    edge: Edge
    #: Text for the arrow (the switch case value, the `when`, the edge label ...).
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class DrawGraph:
    workflow: Workflow
    nodes: tuple[Node, ...]
    edges: tuple[DrawEdge, ...]

    def index_of(self, node_id: str) -> int:
        for i, node in enumerate(self.nodes):
            if node.id == node_id:
                return i
        raise KeyError(node_id)


def _caption(edge: Edge) -> str | None:
    if edge.label:
        return edge.label
    if edge.mode == "loop" and edge.for_each:
        return f"for each {edge.for_each}"
    if edge.when:
        return edge.when
    if edge.mode == "weighted" and edge.weight is not None:
        return f"weight {edge.weight:g}"
    return None


def graph_of(workflow: Workflow, file: str | None = None) -> DrawGraph:
    """The drawable graph; raises ``ValidationError`` when there is nothing honest to draw."""
    issues: list[Issue] = []
    if not workflow.nodes:
        issues.append(Issue("error", "graph/empty-nodes", "the workflow has no nodes to draw"))
    index: dict[str, int] = {}
    for i, node in enumerate(workflow.nodes):
        index.setdefault(node.id, i)
    edges: list[DrawEdge] = []
    for edge in workflow.edges:
        if edge.source not in index:
            issues.append(
                Issue(
                    "error",
                    "graph/dangling-edge-ref",
                    f"edge from unknown node {edge.source!r}",
                    pointer=join_pointer(edge.pointer, "from"),
                )
            )
            continue
        cases = {c.to: c.value for c in edge.cases}
        for target in edge.targets:
            if target not in index:
                issues.append(
                    Issue(
                        "error",
                        "graph/dangling-edge-ref",
                        f"edge to unknown node {target!r}",
                        pointer=join_pointer(edge.pointer, "to"),
                    )
                )
                continue
            caption = _caption(edge)
            if edge.mode == "switch" and (edge.cases or edge.default_to):
                caption = f"= {cases[target]!s}" if target in cases else "default"
            edges.append(DrawEdge(index[edge.source], index[target], edge, caption))
    if issues:
        raise ValidationError(issues, file=file)
    return DrawGraph(workflow=workflow, nodes=workflow.nodes, edges=tuple(edges))


def reading_order(graph: DrawGraph) -> list[int]:
    """Node positions in the order a person would read the process.

    A topological order of the forward edges (a join comes after all its branches;
    document order breaks ties), then whatever a cycle kept out, in document order.
    Loop edges do not pull a node earlier.
    """
    count = len(graph.nodes)
    succ: list[list[int]] = [[] for _ in range(count)]
    indeg = [0] * count
    for e in graph.edges:
        if e.source != e.target and e.edge.mode != "loop":
            succ[e.source].append(e.target)
            indeg[e.target] += 1
    order: list[int] = []
    seen = [False] * count
    # Kahn's algorithm keeps joins after all their branches; leftovers (cycles) follow.
    ready = [i for i in range(count) if indeg[i] == 0]
    heapq.heapify(ready)
    while ready:
        i = heapq.heappop(ready)
        seen[i] = True
        order.append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(ready, j)
    order.extend(i for i in range(count) if not seen[i])
    return order
