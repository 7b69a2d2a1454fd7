"""Draw a workflow as a standalone SVG: laid-out nodes, styled edges, escaped text.

Node types are told apart by shape, border and a small type tag above the label
(no icons); edge modes by dash pattern, arrow head and a mode tag on the arrow.
Colour is kept neutral: the five status colours are reserved for where a status
is shown (``statuses=``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from unicodedata import east_asian_width

from osop.format.workflow import Node, Workflow
from osop.render.graph import DrawGraph, graph_of
from osop.render.layout import Direction, Layout, Route, layered_layout

__all__ = [
    "EDGE_STYLES",
    "STATUS_COLOURS",
    "EdgeStyle",
    "auto_layout",
    "node_lines",
    "node_size",
    "render_legend",
    "render_svg",
    "text_width",
    "workflow_layout",
]

INK = "#111827"
GREY = "#6b7280"
PAPER = "#ffffff"

#: The five colours, used only where a status is shown.
STATUS_COLOURS: dict[str, str] = {
    "COMPLETED": "#22c55e",
    "FAILED": "#ef4444",
    "TIMED_OUT": "#eab308",
    "RUNNING": "#eab308",
    "WAITING": "#eab308",
    "PENDING": "#3b82f6",
    "CANCELLED": "#6b7280",
    "SKIPPED": "#6b7280",
}

_CHAR_W = 7.0  # average advance of a 12px sans-serif character, rounded up
_LINE_H = 15.0
_WRAP = 28
_MAX_LINES = 3
_MIN_W = 110.0
_PAD_X = 14.0


@dataclass(frozen=True, slots=True)
class EdgeStyle:
    dash: str | None
    width: float
    head: str  # marker name: arrow, open, cross, circle, diamond
    tag: str | None  # word shown on the arrow; None for plain sequence


EDGE_STYLES: dict[str, EdgeStyle] = {
    "sequential": EdgeStyle(None, 1.5, "arrow", None),
    "conditional": EdgeStyle("6 4", 1.5, "arrow", "if"),
    "parallel": EdgeStyle(None, 3.0, "arrow", "parallel"),
    "loop": EdgeStyle("2 4", 1.8, "arrow", "loop"),
    "event": EdgeStyle("10 4 2 4", 1.5, "open", "event"),
    "signal": EdgeStyle("10 4 2 4 2 4", 1.5, "open", "signal"),
    "fallback": EdgeStyle("6 3", 1.5, "cross", "fallback"),
    "error": EdgeStyle("3 3", 1.5, "cross", "error"),
    "timeout": EdgeStyle("8 3 2 3", 1.5, "circle", "timeout"),
    "spawn": EdgeStyle(None, 1.5, "open", "spawn"),
    "switch": EdgeStyle(None, 1.5, "diamond", "switch"),
    "compensation": EdgeStyle("1 3", 1.8, "open", "compensate"),
    "message": EdgeStyle("12 4", 1.5, "diamond", "message"),
    "dataflow": EdgeStyle("1 2", 1.2, "circle", "data"),
    "weighted": EdgeStyle(None, 2.2, "arrow", "weighted"),
}
_UNKNOWN_EDGE = EdgeStyle("4 2", 1.5, "arrow", "?")


def _wrap(text: str, width: int = _WRAP, max_lines: int = _MAX_LINES) -> list[str]:
    words = " ".join(text.split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > width:  # a very long word is cut, not allowed to widen the box
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last[: width - 1] if len(last) >= width else last) + "…"
    return lines


def node_lines(node: Node) -> list[str]:
    """The label of a node, wrapped to at most three lines."""
    return _wrap(node.label)


def _tag(node: Node) -> str:
    tag = node.type.upper() or "NODE"
    if node.subtype:
        tag += f" · {node.subtype}"
    return tag[:_WRAP]


def text_width(text: str, char_width: float = _CHAR_W) -> float:
    """Estimated advance of ``text``: wide (CJK, full-width) characters count almost double."""
    return sum(char_width * 1.75 if east_asian_width(ch) in "WF" else char_width for ch in text)


def node_size(node: Node) -> tuple[float, float]:
    lines = node_lines(node)
    longest = max(max(text_width(line) for line in lines), text_width(_tag(node)) * 0.8)
    width = max(_MIN_W, longest + 2 * _PAD_X)
    height = 18.0 + len(lines) * _LINE_H + 12.0
    return (round(width), round(height))


def workflow_layout(graph: DrawGraph, direction: Direction = "LR") -> Layout:
    """Lay the graph out; layers are spread wider when arrows carry captions."""
    captioned = any(e.caption or e.edge.mode != "sequential" for e in graph.edges)
    return layered_layout(
        [node_size(n) for n in graph.nodes],
        [(e.source, e.target) for e in graph.edges],
        direction=direction,
        layer_gap=(120.0 if direction == "LR" else 64.0) if captioned else 56.0,
    )


def auto_layout(graph: DrawGraph) -> Layout:
    """Left-to-right, unless that makes a long thin strip: then top-to-bottom."""
    lay = workflow_layout(graph, "LR")
    if lay.width > 1800 and lay.width > 2.5 * lay.height:
        return workflow_layout(graph, "TB")
    return lay


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _markers(prefix: str) -> str:
    p = escape(prefix, quote=True)
    return (
        "<defs>"
        f'<marker id="{p}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{INK}"/></marker>'
        f'<marker id="{p}-open" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" '
        f'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10" '
        f'fill="none" stroke="{INK}" stroke-width="1.5"/></marker>'
        f'<marker id="{p}-cross" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="11" '
        f'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto"><path d="M1,1 L9,9 M1,9 L9,1" stroke="{INK}" '
        f'stroke-width="2"/></marker>'
        f'<marker id="{p}-circle" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto"><circle cx="5" cy="5" r="4" fill="{PAPER}" '
        f'stroke="{INK}" stroke-width="1.5"/></marker>'
        f'<marker id="{p}-diamond" viewBox="0 0 12 10" refX="11" refY="5" markerWidth="12" '
        f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto"><path d="M1,5 L6,1 L11,5 L6,9 z" fill="{INK}"/>'
        "</marker>"
        "</defs>"
    )


def _path(route: Route, horizontal: bool) -> str:
    pts = route.points
    out = [f"M{_f(pts[0][0])},{_f(pts[0][1])}"]
    if route.self_loop and len(pts) == 4:
        (_, _), (x1, y1), (x2, y2), (x3, y3) = pts
        out.append(f"C{_f(x1)},{_f(y1)} {_f(x2)},{_f(y2)} {_f(x3)},{_f(y3)}")
        return " ".join(out)
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if route.backward:
            out.append(f"L{_f(x1)},{_f(y1)}")
        elif horizontal:
            mx = (x0 + x1) / 2
            out.append(f"C{_f(mx)},{_f(y0)} {_f(mx)},{_f(y1)} {_f(x1)},{_f(y1)}")
        else:
            my = (y0 + y1) / 2
            out.append(f"C{_f(x0)},{_f(my)} {_f(x1)},{_f(my)} {_f(x1)},{_f(y1)}")
    return " ".join(out)


def _label_point(route: Route) -> tuple[float, float]:
    pts = route.points
    if route.self_loop:
        return ((pts[1][0] + pts[2][0]) / 2, pts[1][1] - 4)
    if not route.backward:
        # In the gap right after the source: no node ever sits there.
        return ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
    if len(pts) % 2 == 1:
        return pts[len(pts) // 2]
    a, b = pts[len(pts) // 2 - 1], pts[len(pts) // 2]
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def _shorten(text: str, limit: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shape(node: Node, x: float, y: float, w: float, h: float, stroke: str) -> str:
    kind = node.type
    common = f'fill="{PAPER}" stroke="{stroke}"'
    if kind == "gateway":
        d = min(16.0, h / 2)
        pts = [
            (x, y + h / 2),
            (x + d, y),
            (x + w - d, y),
            (x + w, y + h / 2),
            (x + w - d, y + h),
            (x + d, y + h),
        ]
        joined = " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
        return f'<polygon class="shape" points="{joined}" {common} stroke-width="2"/>'
    rect = f'<rect class="shape" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}"'
    if kind == "human":
        return f'{rect} rx="{_f(min(h / 2, 22))}" {common} stroke-width="2.2"/>'
    if kind == "agent":
        return f'{rect} rx="10" {common} stroke-width="2" stroke-dasharray="6 3"/>'
    if kind == "event":
        inner = (
            f'<rect x="{_f(x + 3)}" y="{_f(y + 3)}" width="{_f(w - 6)}" height="{_f(h - 6)}" '
            f'rx="8" fill="none" stroke="{stroke}" stroke-width="1"/>'
        )
        return f'{rect} rx="11" {common} stroke-width="1.5"/>' + inner
    if kind in ("company", "department"):
        return f'{rect} rx="0" {common} stroke-width="3.5"/>'
    if kind == "db":
        band = (
            f'<path d="M{_f(x)},{_f(y + 7)} L{_f(x + w)},{_f(y + 7)}" stroke="{stroke}" '
            'stroke-width="1"/>'
        )
        return f'{rect} rx="3" {common} stroke-width="1.5"/>' + band
    return f'{rect} rx="3" {common} stroke-width="1.5"/>'


def _caption_text(graph: DrawGraph, index: int) -> str | None:
    """The words on an arrow: mode tag and caption (a condition speaks for itself)."""
    draw = graph.edges[index]
    style = EDGE_STYLES.get(draw.edge.mode, _UNKNOWN_EDGE)
    parts = [p for p in (style.tag, draw.caption) if p]
    if draw.edge.mode == "conditional" and draw.caption:
        parts = [draw.caption]
    return _shorten(": ".join(parts)) if parts else None


def _edge_label(text: str, lx: float, ly: float) -> str:
    tw = text_width(text, 6.0) + 8
    return (
        f'<g class="edge-label"><rect x="{_f(lx - tw / 2)}" y="{_f(ly - 8)}" '
        f'width="{_f(tw)}" height="14" rx="3" fill="{PAPER}" fill-opacity="0.9"/>'
        f'<text x="{_f(lx)}" y="{_f(ly + 3)}" text-anchor="middle" font-size="10" '
        f'fill="{GREY}">{escape(text)}</text></g>'
    )


def render_svg(
    workflow: Workflow | DrawGraph,
    *,
    direction: Direction = "LR",
    id_prefix: str = "osop",
    statuses: Mapping[str, str] | None = None,
    layout: Layout | None = None,
) -> str:
    """The workflow as one ``<svg>`` element (no external references, text escaped).

    ``id_prefix`` keeps marker ids unique when several drawings share a page;
    ``statuses`` (node id → status) colours node borders with the status colours.
    """
    graph = workflow if isinstance(workflow, DrawGraph) else graph_of(workflow)
    lay = layout or workflow_layout(graph, direction)
    horizontal = lay.direction == "LR"
    wf = graph.workflow
    title = escape(wf.label, quote=True)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="osop-graph" '
        f'viewBox="0 0 {_f(lay.width)} {_f(lay.height)}" width="{_f(lay.width)}" '
        f'height="{_f(lay.height)}" role="img" aria-label="{title}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">',
        f"<title>{title}</title>",
        _markers(id_prefix),
        '<g class="edges">',
    ]
    prefix = escape(id_prefix, quote=True)
    labels: list[str] = []
    captions = {route.edge: _caption_text(graph, route.edge) for route in lay.routes}
    # A fan-out whose arrows all say the same thing gets the words once, at the source.
    fan: dict[tuple[int, str], list[Route]] = {}
    for route in lay.routes:
        text = captions[route.edge]
        if text and not route.backward:
            fan.setdefault((graph.edges[route.edge].source, text), []).append(route)
    bundled = {r.edge for group in fan.values() if len(group) >= 3 for r in group}
    for (_, text), group in fan.items():
        if len(group) >= 3:
            x0, y0 = group[0].points[0]
            tw = text_width(text, 6.0) + 8
            lx, ly = (x0 + tw / 2 + 4, y0 - 12) if horizontal else (x0 + tw / 2 + 8, y0 + 12)
            labels.append(_edge_label(f"{text} ×{len(group)}", lx, ly))
    for route in lay.routes:
        draw = graph.edges[route.edge]
        mode = draw.edge.mode
        style = EDGE_STYLES.get(mode, _UNKNOWN_EDGE)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        parts.append(
            f'<path class="edge edge-{escape(mode, quote=True)}" d="{_path(route, horizontal)}" '
            f'fill="none" stroke="{INK}" stroke-width="{_f(style.width)}"{dash} '
            f'marker-end="url(#{prefix}-{style.head})">'
            f"<title>{escape(graph.nodes[draw.source].id)} → "
            f"{escape(graph.nodes[draw.target].id)} ({escape(mode)})</title></path>"
        )
        text = captions[route.edge]
        if text and route.edge not in bundled:
            labels.append(_edge_label(text, *_label_point(route)))
    parts.append("</g>")
    parts.append('<g class="edge-labels">')
    parts.extend(labels)
    parts.append("</g>")
    parts.append('<g class="nodes">')
    for node, box in zip(graph.nodes, lay.boxes, strict=True):
        status = (statuses or {}).get(node.id)
        stroke = STATUS_COLOURS.get(status, INK) if status else INK
        x, y, w, h = box.x, box.y, box.width, box.height
        tip = node.id + (f": {node.purpose}" if node.purpose and node.purpose != node.label else "")
        if status:
            tip += f" ({status})"
        status_attr = f' data-status="{escape(status, quote=True)}"' if status else ""
        parts.append(
            f'<g class="node node-{escape(node.type, quote=True)}" '
            f'data-node-id="{escape(node.id, quote=True)}"{status_attr}>'
            f"<title>{escape(tip)}</title>"
        )
        shape = _shape(node, x, y, w, h, stroke)
        if status:  # the outcome's colour as a tint too, so it reads at a glance
            shape = shape.replace(
                f'fill="{PAPER}"', f'fill="{stroke}" fill-opacity="0.12"', 1
            ).replace('stroke-width="1.5"', 'stroke-width="2.5"', 1)
        parts.append(shape)
        parts.append(
            f'<text x="{_f(x + w / 2)}" y="{_f(y + 15)}" text-anchor="middle" font-size="9" '
            f'letter-spacing="0.06em" fill="{GREY}">{escape(_tag(node))}</text>'
        )
        for i, line in enumerate(node_lines(node)):
            parts.append(
                f'<text x="{_f(x + w / 2)}" y="{_f(y + 31 + i * _LINE_H)}" text-anchor="middle" '
                f'font-size="12" fill="{INK}">{escape(line)}</text>'
            )
        parts.append("</g>")
    parts.append("</g></svg>")
    return "".join(parts)


def render_legend(graph: DrawGraph, *, id_prefix: str = "osop-legend") -> str:
    """A one-row SVG key to the node shapes and edge styles this graph uses."""
    types = list(dict.fromkeys(n.type for n in graph.nodes))
    modes = list(dict.fromkeys(e.edge.mode for e in graph.edges))
    prefix = escape(id_prefix, quote=True)
    parts: list[str] = []
    x = 4.0
    for node_type in types:
        probe = Node(id="", type=node_type, index=0)
        parts.append(_shape(probe, x, 6, 34, 20, INK))
        label = node_type or "node"
        parts.append(
            f'<text x="{_f(x + 40)}" y="{_f(20)}" font-size="11" fill="{INK}">{escape(label)}</text>'
        )
        x += 48 + text_width(label, 6.5)
    for mode in modes:
        style = EDGE_STYLES.get(mode, _UNKNOWN_EDGE)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        parts.append(
            f'<path d="M{_f(x)},16 L{_f(x + 40)},16" stroke="{INK}" '
            f'stroke-width="{_f(style.width)}"{dash} marker-end="url(#{prefix}-{style.head})"/>'
        )
        parts.append(
            f'<text x="{_f(x + 48)}" y="20" font-size="11" fill="{INK}">{escape(mode)}</text>'
        )
        x += 56 + text_width(mode, 6.5)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="osop-legend" width="{_f(x)}" '
        f'height="32" viewBox="0 0 {_f(x)} 32" role="img" aria-label="Legend" '
        f'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">'
        f"{_markers(id_prefix)}{''.join(parts)}</svg>"
    )
