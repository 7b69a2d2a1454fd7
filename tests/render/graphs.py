"""Generated graph shapes for layout and rendering tests (index pairs, deterministic)."""

from __future__ import annotations

import random

Graph = tuple[int, list[tuple[int, int]]]


def chain(n: int) -> Graph:
    return n, [(i, i + 1) for i in range(n - 1)]


def diamonds(k: int) -> Graph:
    """k diamonds in a row: a -> (b, c) -> d -> (e, f) -> g ..."""
    edges: list[tuple[int, int]] = []
    top = 0
    n = 1
    for _ in range(k):
        left, right, bottom = n, n + 1, n + 2
        edges += [(top, left), (top, right), (left, bottom), (right, bottom)]
        top, n = bottom, n + 3
    return n, edges


def fan_out(width: int) -> Graph:
    """One source, ``width`` branches, one join."""
    n = width + 2
    edges = [(0, i) for i in range(1, width + 1)] + [(i, n - 1) for i in range(1, width + 1)]
    return n, edges


def loops(n: int) -> Graph:
    """A chain with loop back-edges, a self-loop and a long forward skip."""
    _, edges = chain(n)
    edges += [(i, max(0, i - 3)) for i in range(3, n, 4)]
    edges += [(n // 2, n // 2), (0, n - 1)]
    return n, edges


def random_graph(n: int, extra: int, seed: int, cycles: bool = True) -> Graph:
    rng = random.Random(seed)
    edges = [(rng.randrange(i), i) for i in range(1, n)]  # a spanning tree keeps it connected
    for _ in range(extra):
        a, b = rng.randrange(n), rng.randrange(n)
        if not cycles and a >= b:
            a, b = min(a, b), max(a, b)
            if a == b:
                continue
        edges.append((a, b))
    return n, edges


def sizes_for(n: int, seed: int = 0) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(float(rng.randint(80, 240)), float(rng.choice([44, 59, 74]))) for _ in range(n)]


def shapes() -> dict[str, Graph]:
    out: dict[str, Graph] = {
        "single": (1, []),
        "chain-50": chain(50),
        "diamonds-12": diamonds(12),
        "fan-out-48": fan_out(48),
        "loops-40": loops(40),
        "two-node-cycle": (2, [(0, 1), (1, 0)]),
        "duplicate-edges": (3, [(0, 1), (0, 1), (1, 2), (0, 2)]),
        "disconnected": (6, [(0, 1), (2, 3), (4, 5)]),
    }
    for seed in range(12):
        out[f"random-{seed}"] = random_graph(10 + seed * 3, seed * 4, seed)
    return out
