"""Layered (Sugiyama-style) graph layout, deterministic and dependency-free.

Steps: break cycles by reversing DFS back-edges (loops), assign layers by longest
path, split long edges with dummy nodes, reduce crossings with barycentre sweeps,
then place nodes along each layer so that they never overlap.  Nodes are given by
their sizes only, so the layout knows nothing about workflows; :mod:`osop.render.svg`
turns a workflow into sizes and edges and draws the result.

The same input always yields the same output (no hashing of ids, no randomness).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

__all__ = ["MAX_DUMMIES", "Box", "Direction", "Layout", "Route", "layered_layout"]

Direction = Literal["LR", "TB"]
Point = tuple[float, float]

#: Across-size of a dummy node: edges passing through a layer take a little room.
_DUMMY_SIZE = 8.0
#: Beyond this many dummy nodes the longest edges are drawn straight instead: a
#: hostile or pathological graph (thousands of edges spanning hundreds of layers)
#: must not take minutes to draw.
MAX_DUMMIES = 20_000


@dataclass(frozen=True, slots=True)
class Box:
    """Where one node sits: top-left corner and size."""

    x: float
    y: float
    width: float
    height: float
    layer: int

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


@dataclass(frozen=True, slots=True)
class Route:
    """The polyline one edge follows, from its source to its target."""

    edge: int
    points: tuple[Point, ...]
    #: The edge points backwards (a loop or cycle) and was routed around the nodes.
    backward: bool = False
    self_loop: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]
    width: float
    height: float
    direction: Direction
    layer_count: int


def _break_cycles(n: int, edges: Sequence[tuple[int, int]]) -> list[bool]:
    """Which edges to reverse so that the graph is acyclic (DFS back-edges)."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    has_incoming = [False] * n
    for index, (s, t) in enumerate(edges):
        if s != t:
            out[s].append((t, index))
            has_incoming[t] = True
    reverse = [False] * len(edges)
    state = [0] * n  # 0 new, 1 on the DFS stack, 2 finished
    roots = [v for v in range(n) if not has_incoming[v]] + list(range(n))
    for root in roots:
        if state[root]:
            continue
        state[root] = 1
        stack: list[tuple[int, int]] = [(root, 0)]
        while stack:
            v, i = stack[-1]
            if i < len(out[v]):
                stack[-1] = (v, i + 1)
                t, index = out[v][i]
                if state[t] == 1:
                    reverse[index] = True
                elif state[t] == 0:
                    state[t] = 1
                    stack.append((t, 0))
            else:
                state[v] = 2
                stack.pop()
    return reverse


def _longest_path_layers(n: int, dag: Sequence[tuple[int, int]]) -> list[int]:
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for u, v in dag:
        succ[u].append(v)
        indeg[v] += 1
    layer = [0] * n
    queue = deque(v for v in range(n) if indeg[v] == 0)
    order: list[int] = []
    while queue:
        u = queue.popleft()
        order.append(u)
        for v in succ[u]:
            layer[v] = max(layer[v], layer[u] + 1)
            indeg[v] -= 1
            if indeg[v] == 0:
                queue.append(v)
    # Pull sources next to their first successor: a side input is drawn where it is used.
    has_pred = [False] * n
    for _, v in dag:
        has_pred[v] = True
    for u in reversed(order):
        if not has_pred[u] and succ[u]:
            layer[u] = min(layer[v] for v in succ[u]) - 1
    return layer


def _direct_edges(
    edges: Sequence[tuple[int, int]], reverse: list[bool], layer_of: list[int], budget: int
) -> set[int]:
    """Edges to draw without dummies (longest first) so that at most ``budget`` are made."""
    spans: list[tuple[int, int]] = []
    for index, (s, t) in enumerate(edges):
        if s != t:
            u, v = (t, s) if reverse[index] else (s, t)
            spans.append((layer_of[v] - layer_of[u] - 1, index))
    needed = sum(span for span, _ in spans)
    direct: set[int] = set()
    for span, index in sorted(spans, key=lambda item: (-item[0], item[1])):
        if needed <= budget or span <= 0:
            break
        direct.add(index)
        needed -= span
    return direct


def _count_inversions(values: Sequence[int], bound: int) -> int:
    """Pairs i < j with values[i] > values[j], for ints in ``range(bound)`` (Fenwick tree)."""
    if len(values) < 2:
        return 0
    tree = [0] * (bound + 1)
    count = 0
    for seen, value in enumerate(values):
        # How many earlier values are <= value; the rest of ``seen`` are greater.
        i, not_greater = value + 1, 0
        while i > 0:
            not_greater += tree[i]
            i -= i & -i
        count += seen - not_greater
        i = value + 1
        while i <= bound:
            tree[i] += 1
            i += i & -i
    return count


class _Layering:
    """Layers (real nodes plus dummies) and the one-layer segments between them."""

    def __init__(self, layer_of: list[int], down: list[list[int]], up: list[list[int]]) -> None:
        self.layer_of = layer_of
        self.down = down
        self.up = up
        count = max(layer_of) + 1 if layer_of else 0
        self.layers: list[list[int]] = [[] for _ in range(count)]

    def positions(self) -> list[int]:
        pos = [0] * len(self.layer_of)
        for layer in self.layers:
            for i, v in enumerate(layer):
                pos[v] = i
        return pos

    def crossings(self) -> int:
        pos = self.positions()
        total = 0
        for li in range(len(self.layers) - 1):
            pairs = sorted((pos[u], pos[v]) for u in self.layers[li] for v in self.down[u])
            total += _count_inversions([b for _, b in pairs], len(self.layers[li + 1]))
        return total

    def sweep(self, downwards: bool) -> None:
        pos = self.positions()
        indices = range(1, len(self.layers)) if downwards else range(len(self.layers) - 2, -1, -1)
        for li in indices:
            layer = self.layers[li]
            keyed: list[tuple[float, int, int]] = []
            for i, v in enumerate(layer):
                neighbours = self.up[v] if downwards else self.down[v]
                bary = sum(pos[w] for w in neighbours) / len(neighbours) if neighbours else float(i)
                keyed.append((bary, i, v))
            keyed.sort()
            self.layers[li] = [v for _, _, v in keyed]
            for i, v in enumerate(self.layers[li]):
                pos[v] = i


def _place_across(
    ordered: list[int], desired: list[float], sizes: list[float], gap: float
) -> list[float]:
    """Centres as close to ``desired`` as the order and the separation allow.

    The forward pass pushes nodes down, the backward pass pushes them up; both keep
    every pair apart by at least ``gap`` and so does their average (the constraints
    are linear), which spreads the correction evenly to both sides.
    """
    count = len(ordered)
    fwd = [0.0] * count
    bwd = [0.0] * count
    for i in range(count):
        want = desired[i]
        if i:
            least = fwd[i - 1] + (sizes[ordered[i - 1]] + sizes[ordered[i]]) / 2 + gap
            want = max(want, least)
        fwd[i] = want
    for i in range(count - 1, -1, -1):
        want = desired[i]
        if i < count - 1:
            most = bwd[i + 1] - (sizes[ordered[i + 1]] + sizes[ordered[i]]) / 2 - gap
            want = min(want, most)
        bwd[i] = want
    return [(a + b) / 2 for a, b in zip(fwd, bwd, strict=True)]


def layered_layout(
    sizes: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    direction: Direction = "LR",
    layer_gap: float = 64.0,
    node_gap: float = 28.0,
    margin: float = 24.0,
    sweeps: int = 6,
    max_dummies: int = MAX_DUMMIES,
) -> Layout:
    """Lay out nodes (``sizes[i] = (width, height)``) and edges (index pairs).

    ``direction="LR"`` puts layers left to right, ``"TB"`` top to bottom.  Boxes
    never overlap; every edge gets a route from its source box to its target box.
    Past ``max_dummies`` dummy nodes, the longest edges are routed straight.
    """
    n = len(sizes)
    for s, t in edges:
        if not (0 <= s < n and 0 <= t < n):
            raise ValueError(f"edge ({s}, {t}) refers to a node that does not exist")
    reverse = _break_cycles(n, edges)
    dag: list[tuple[int, int]] = []
    for index, (s, t) in enumerate(edges):
        if s != t:
            dag.append((t, s) if reverse[index] else (s, t))
    layer_of = _longest_path_layers(n, dag)

    # Split edges spanning several layers into one-layer segments through dummies.
    down: list[list[int]] = [[] for _ in range(n)]
    up: list[list[int]] = [[] for _ in range(n)]
    chains: dict[int, list[int]] = {}
    direct = _direct_edges(edges, reverse, layer_of, max_dummies)
    for index, (s, t) in enumerate(edges):
        if s == t:
            continue
        u, v = (t, s) if reverse[index] else (s, t)
        if index in direct:
            chains[index] = [u, v]
            continue
        chain = [u]
        for between in range(layer_of[u] + 1, layer_of[v]):
            dummy = len(layer_of)
            layer_of.append(between)
            down.append([])
            up.append([])
            chain.append(dummy)
        chain.append(v)
        for a, b in pairwise(chain):
            down[a].append(b)
            up[b].append(a)
        chains[index] = chain
    total = len(layer_of)

    lay = _Layering(layer_of, down, up)
    for v in range(total):  # real nodes in document order, dummies in edge order
        lay.layers[layer_of[v]].append(v)
    best = [list(layer) for layer in lay.layers]
    best_crossings = lay.crossings()
    for sweep in range(sweeps):
        lay.sweep(downwards=sweep % 2 == 0)
        crossings = lay.crossings()
        if crossings < best_crossings:
            best_crossings = crossings
            best = [list(layer) for layer in lay.layers]
        if best_crossings == 0:
            break
    lay.layers = best

    horizontal = direction == "LR"
    along_size = [(w if horizontal else h) for w, h in sizes] + [0.0] * (total - n)
    across_size = [(h if horizontal else w) for w, h in sizes] + [_DUMMY_SIZE] * (total - n)

    # Along the layer axis: each layer as wide as its widest node.
    layer_start: list[float] = []
    cursor = margin
    for layer in lay.layers:
        layer_start.append(cursor)
        cursor += max((along_size[v] for v in layer), default=0.0) + layer_gap
    layer_extent = [max((along_size[v] for v in layer), default=0.0) for layer in lay.layers]

    # Across: pack, then pull each node towards its neighbours for a few rounds.
    centre = [0.0] * total
    for layer in lay.layers:
        cursor = 0.0
        for v in layer:
            centre[v] = cursor + across_size[v] / 2
            cursor += across_size[v] + node_gap
    for round_ in range(4):
        downwards = round_ % 2 == 0
        order = lay.layers if downwards else list(reversed(lay.layers))
        for layer in order:
            desired = []
            for v in layer:
                neighbours = up[v] if downwards else down[v]
                desired.append(
                    sum(centre[w] for w in neighbours) / len(neighbours)
                    if neighbours
                    else centre[v]
                )
            for v, c in zip(
                layer, _place_across(layer, desired, across_size, node_gap), strict=True
            ):
                centre[v] = c
    lowest = min((centre[v] - across_size[v] / 2 for v in range(total)), default=0.0)
    shift = margin - lowest
    centre = [c + shift for c in centre]

    def point(along: float, across: float) -> Point:
        return (along, across) if horizontal else (across, along)

    boxes: list[Box] = []
    for v in range(n):
        li = layer_of[v]
        a0 = layer_start[li] + (layer_extent[li] - along_size[v]) / 2
        c0 = centre[v] - across_size[v] / 2
        x, y = point(a0, c0)
        boxes.append(Box(x=x, y=y, width=sizes[v][0], height=sizes[v][1], layer=li))

    far_across = max((centre[v] + across_size[v] / 2 for v in range(total)), default=margin)
    routes: list[Route] = []
    detour = far_across
    for index, (s, t) in enumerate(edges):
        if s == t:
            routes.append(_self_loop(index, boxes[s], horizontal))
            continue
        chain = chains[index]
        pts: list[Point] = []
        first, last = chain[0], chain[-1]
        if reverse[index]:
            # Drawn below (LR) or right of (TB) the nodes it joins, so it is not
            # mistaken for a forward edge.
            end_a, end_b = boxes[first], boxes[last]
            lift = max(_far_side(end_a, horizontal), _far_side(end_b, horizontal)) + 18
            pts.append(_far_mid(end_a, horizontal))
            for v in chain[1:-1]:
                pts.append(
                    point(layer_start[layer_of[v]] + layer_extent[layer_of[v]] / 2, centre[v])
                )
            if len(chain) == 2:
                mid_along = (
                    _along_of(_far_mid(end_a, horizontal), horizontal)
                    + _along_of(_far_mid(end_b, horizontal), horizontal)
                ) / 2
                pts.append(point(mid_along, lift))
            pts.append(_far_mid(end_b, horizontal))
            pts.reverse()
            detour = max(detour, lift)
            routes.append(Route(edge=index, points=tuple(pts), backward=True))
            continue
        pts.append(_exit_mid(boxes[first], horizontal))
        for v in chain[1:-1]:
            pts.append(point(layer_start[layer_of[v]] + layer_extent[layer_of[v]] / 2, centre[v]))
        pts.append(_entry_mid(boxes[last], horizontal))
        routes.append(Route(edge=index, points=tuple(pts)))

    along_total = (layer_start[-1] + layer_extent[-1] + margin) if lay.layers else 2 * margin
    across_total = max(far_across, detour + 12) + margin
    width, height = (along_total, across_total) if horizontal else (across_total, along_total)
    for route in routes:
        for px, py in route.points:
            width = max(width, px + margin)
            height = max(height, py + margin)
    return Layout(
        boxes=tuple(boxes),
        routes=tuple(routes),
        width=width,
        height=height,
        direction=direction,
        layer_count=len(lay.layers),
    )


def _along_of(p: Point, horizontal: bool) -> float:
    return p[0] if horizontal else p[1]


def _exit_mid(box: Box, horizontal: bool) -> Point:
    return (box.x + box.width, box.cy) if horizontal else (box.cx, box.y + box.height)


def _entry_mid(box: Box, horizontal: bool) -> Point:
    return (box.x, box.cy) if horizontal else (box.cx, box.y)


def _far_side(box: Box, horizontal: bool) -> float:
    return box.y + box.height if horizontal else box.x + box.width


def _far_mid(box: Box, horizontal: bool) -> Point:
    return (box.cx, box.y + box.height) if horizontal else (box.x + box.width, box.cy)


def _self_loop(index: int, box: Box, horizontal: bool) -> Route:
    if horizontal:
        top = box.y
        pts = (
            (box.cx + 12, top),
            (box.cx + 24, top - 22),
            (box.cx - 24, top - 22),
            (box.cx - 12, top),
        )
    else:
        right = box.x + box.width
        pts = (
            (right, box.cy - 10),
            (right + 22, box.cy - 20),
            (right + 22, box.cy + 20),
            (right, box.cy + 10),
        )
    return Route(edge=index, points=pts, backward=True, self_loop=True)
