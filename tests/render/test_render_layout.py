"""The layered layout: no overlaps, every edge routed between its own boxes, deterministic."""

from __future__ import annotations

from itertools import combinations, pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osop.render.layout import Box, Layout, _count_inversions, layered_layout
from tests.render.graphs import chain, fan_out, random_graph, shapes, sizes_for

SHAPES = shapes()


def overlapping(boxes: tuple[Box, ...]) -> list[tuple[int, int]]:
    return [(i, j) for (i, a), (j, b) in combinations(enumerate(boxes), 2) if a.overlaps(b)]


def on_border(point: tuple[float, float], box: Box) -> bool:
    x, y = point
    inside_x = box.x - 0.01 <= x <= box.x + box.width + 0.01
    inside_y = box.y - 0.01 <= y <= box.y + box.height + 0.01
    on_x = abs(x - box.x) < 0.01 or abs(x - box.x - box.width) < 0.01
    on_y = abs(y - box.y) < 0.01 or abs(y - box.y - box.height) < 0.01
    return inside_x and inside_y and (on_x or on_y)


def check(layout: Layout, n: int, edges: list[tuple[int, int]]) -> None:
    assert len(layout.boxes) == n
    assert overlapping(layout.boxes) == []
    assert len(layout.routes) == len(edges)
    for route in layout.routes:
        s, t = edges[route.edge]
        assert on_border(route.points[0], layout.boxes[s]), (route, layout.boxes[s])
        assert on_border(route.points[-1], layout.boxes[t]), (route, layout.boxes[t])
        assert route.self_loop == (s == t)
    for box in layout.boxes:  # everything inside the drawing
        assert box.x >= 0 and box.y >= 0
        assert box.x + box.width <= layout.width and box.y + box.height <= layout.height
    for route in layout.routes:
        for x, y in route.points:
            assert 0 <= x <= layout.width and 0 <= y <= layout.height


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_generated_graphs_lay_out_without_overlap(name: str, direction: str) -> None:
    n, edges = SHAPES[name]
    layout = layered_layout(sizes_for(n), edges, direction=direction)  # type: ignore[arg-type]
    check(layout, n, edges)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=50),
    extra=st.integers(min_value=0, max_value=60),
    seed=st.integers(min_value=0, max_value=10_000),
    direction=st.sampled_from(["LR", "TB"]),
)
def test_random_graphs_never_overlap(n: int, extra: int, seed: int, direction: str) -> None:
    n, edges = random_graph(n, extra, seed)
    layout = layered_layout(sizes_for(n, seed), edges, direction=direction)  # type: ignore[arg-type]
    check(layout, n, edges)


def test_forward_edges_go_left_to_right_and_back_edges_are_marked() -> None:
    n, edges = 4, [(0, 1), (1, 2), (2, 3), (3, 1)]
    layout = layered_layout(sizes_for(n), edges)
    xs = [b.x for b in layout.boxes]
    assert xs[0] < xs[1] < xs[2] < xs[3]
    assert [r.backward for r in layout.routes] == [False, False, False, True]
    assert [b.layer for b in layout.boxes] == [0, 1, 2, 3]


def test_top_down_puts_layers_in_rows() -> None:
    n, edges = chain(4)
    layout = layered_layout(sizes_for(n), edges, direction="TB")
    ys = [b.y for b in layout.boxes]
    assert ys == sorted(ys) and len(set(ys)) == 4


def test_fan_out_uses_one_layer_for_the_branches() -> None:
    n, edges = fan_out(10)
    layout = layered_layout(sizes_for(n), edges)
    assert layout.layer_count == 3
    assert {b.layer for b in layout.boxes[1:-1]} == {1}


def test_long_edges_are_routed_through_intermediate_layers() -> None:
    n, edges = 4, [(0, 1), (1, 2), (2, 3), (0, 3)]
    layout = layered_layout(sizes_for(n), edges)
    skip = layout.routes[3]
    assert len(skip.points) == 4  # exit, two dummy positions, entry


def test_barycentre_sweeps_remove_avoidable_crossings() -> None:
    # Two parallel chains written in crossing order: a1->b2, a2->b1, then b1->c1, b2->c2.
    edges = [(0, 3), (1, 2), (2, 4), (3, 5)]
    layout = layered_layout([(100.0, 40.0)] * 6, edges)
    b = layout.boxes
    # The order of the b-layer follows the a-layer (a1 above a2 => b2 above b1).
    assert (b[0].y < b[1].y) == (b[3].y < b[2].y)


def test_same_input_same_output() -> None:
    n, edges = random_graph(40, 30, 7)
    first = layered_layout(sizes_for(n), edges)
    second = layered_layout(sizes_for(n), edges)
    assert first == second


def test_edge_to_unknown_node_is_refused() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        layered_layout([(10.0, 10.0)], [(0, 1)])


def test_empty_graph() -> None:
    layout = layered_layout([], [])
    assert layout.boxes == () and layout.routes == ()


def test_500_nodes_lay_out() -> None:
    n, edges = random_graph(500, 150, 3, cycles=False)
    check(layered_layout(sizes_for(n), edges), n, edges)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), max_size=40))
def test_inversion_count_matches_brute_force(values: list[int]) -> None:
    brute = sum(1 for i, j in combinations(range(len(values)), 2) if values[i] > values[j])
    assert _count_inversions(values, 21) == brute


def test_dummy_budget_routes_the_longest_edges_straight() -> None:
    n, edges = chain(30)
    edges = [*edges, (0, 29), (1, 20), (2, 5)]  # spans of 28, 18 and 2 dummies
    layout = layered_layout(sizes_for(n), edges, max_dummies=5)
    check(layout, n, edges)
    assert len(layout.routes[-3].points) == 2  # longest: straight
    assert len(layout.routes[-2].points) == 2
    assert len(layout.routes[-1].points) == 4  # short enough: through its 2 dummies
    unlimited = layered_layout(sizes_for(n), edges)
    assert len(unlimited.routes[-3].points) == 30


def test_dense_hostile_graph_still_lays_out() -> None:
    n, edges = random_graph(1000, 5000, 11)
    layout = layered_layout([(100.0, 40.0)] * n, edges)
    assert len(layout.boxes) == n and len(layout.routes) == len(edges)
    by_layer: dict[int, list[Box]] = {}
    for box in layout.boxes:
        by_layer.setdefault(box.layer, []).append(box)
    for boxes in by_layer.values():  # within a layer, boxes are apart
        ys = sorted((b.y, b.y + b.height) for b in boxes)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(ys))
