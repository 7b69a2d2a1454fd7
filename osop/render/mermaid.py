"""Mermaid ``flowchart`` text for Markdown (GitHub renders it in a ```mermaid block).

Every label is quoted and every character that Mermaid could read as syntax is
written as a numeric entity (``#60;`` for ``<``), so any workflow text is safe.
Node ids are generated (``n_<id>``), never taken raw: Mermaid has reserved words
(``end``, ``graph``...) and ids starting with ``o``/``x`` after a link glue to it.
"""

from __future__ import annotations

import re

from osop.format.workflow import Workflow
from osop.render.graph import DrawGraph, graph_of
from osop.render.layout import Direction

__all__ = ["MERMAID_LINKS", "mermaid_text", "render_mermaid"]

_SAFE = re.compile(r"[A-Za-z0-9 _.,:/+=-]")

#: Edge mode → Mermaid link; each mode has its own stroke/head combination.
MERMAID_LINKS: dict[str, str] = {
    "sequential": "-->",
    "conditional": "-.->",
    "parallel": "==>",
    "loop": "-..->",
    "event": "-.-o",
    "signal": "o-.-o",
    "fallback": "-.-x",
    "error": "--x",
    "timeout": "==x",
    "spawn": "==o",
    "switch": "--->",
    "compensation": "x-.-x",
    "message": "--o",
    "dataflow": "-.-",
    "weighted": "===>",
}

#: Node type → (opening, closing) shape brackets.
_SHAPES: dict[str, tuple[str, str]] = {
    "human": ("([", "])"),
    "agent": ("[[", "]]"),
    "gateway": ("{{", "}}"),
    "event": (">", "]"),
    "db": ("[(", ")]"),
    "company": ("[/", "/]"),
    "department": ("[/", "/]"),
}

_CLASSES = {
    "human": "stroke-width:3px",
    "agent": "stroke-dasharray:6 3,stroke-width:2px",
    "company": "stroke-width:4px",
    "department": "stroke-width:4px",
}


def mermaid_text(text: str, limit: int = 80) -> str:
    """Text safe inside a quoted Mermaid label: syntax characters become ``#NN;``."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(ch if _SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def _ids(graph: DrawGraph) -> list[str]:
    ids: list[str] = []
    used: set[str] = set()
    for node in graph.nodes:
        base = "n_" + (re.sub(r"[^A-Za-z0-9_]", "_", node.id) or "node")
        candidate, k = base, 2
        while candidate in used:
            candidate, k = f"{base}_{k}", k + 1
        used.add(candidate)
        ids.append(candidate)
    return ids


def render_mermaid(workflow: Workflow | DrawGraph, *, direction: Direction = "LR") -> str:
    """A ``flowchart`` definition (without the Markdown fence)."""
    graph = workflow if isinstance(workflow, DrawGraph) else graph_of(workflow)
    ids = _ids(graph)
    lines = [f"flowchart {direction}"]
    if graph.workflow.label:
        lines.append(f"    %% {mermaid_text(graph.workflow.label)}")
    for node, mid in zip(graph.nodes, ids, strict=True):
        opening, closing = _SHAPES.get(node.type, ("[", "]"))
        tag = mermaid_text(node.type.upper() or "NODE")
        label = f"{tag}: {mermaid_text(node.label)}"
        lines.append(f'    {mid}{opening}"{label}"{closing}')
    for draw in graph.edges:
        mode = draw.edge.mode
        link = MERMAID_LINKS.get(mode, "-->")
        words = [] if mode in ("sequential", "conditional", "switch") else [mode]
        if draw.caption:
            words.append(draw.caption)
        text = mermaid_text(": ".join(words), limit=40) if words else ""
        label = f'|"{text}"|' if text else ""
        lines.append(f"    {ids[draw.source]} {link}{label} {ids[draw.target]}")
    used_types = sorted({n.type for n in graph.nodes if n.type in _CLASSES})
    for node_type in used_types:
        lines.append(f"    classDef t_{node_type} {_CLASSES[node_type]}")
        members = ",".join(i for n, i in zip(graph.nodes, ids, strict=True) if n.type == node_type)
        lines.append(f"    class {members} t_{node_type}")
    return "\n".join(lines) + "\n"
