"""One workflow rendered as SVG, Mermaid and a story: shapes, styles, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from osop.errors import OsopError, ValidationError
from osop.format.vocabulary import EDGE_MODES, NODE_TYPES
from osop.format.workflow import workflow_from_dict
from osop.render.graph import graph_of
from osop.render.mermaid import MERMAID_LINKS, mermaid_text, render_mermaid
from osop.render.roles import role_groups
from osop.render.story import render_story, story_steps
from osop.render.svg import EDGE_STYLES, render_legend, render_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<img src=x onerror=alert(1)>"


def wf(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **top: Any) -> Any:
    data = {"osop_version": "1.1", "id": "t", "name": "T", "nodes": nodes, "edges": edges}
    data.update(top)
    return workflow_from_dict(data)


def every_type_and_mode() -> Any:
    nodes = [{"id": f"n_{t}", "type": t, "name": f"Step {t}"} for t in NODE_TYPES]
    edges = []
    for i, mode in enumerate(EDGE_MODES):
        a, b = NODE_TYPES[i % len(NODE_TYPES)], NODE_TYPES[(i + 1) % len(NODE_TYPES)]
        edge: dict[str, Any] = {"from": f"n_{a}", "to": f"n_{b}", "mode": mode}
        if mode in ("conditional", "loop"):
            edge["when"] = "x > 1"
        edges.append(edge)
    return wf(nodes, edges)


def test_svg_is_well_formed_with_one_group_per_node() -> None:
    workflow = every_type_and_mode()
    root = ET.fromstring(render_svg(workflow))
    assert root.tag == f"{SVG}svg"
    groups = [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    assert [g.get("data-node-id") for g in groups] == [n.id for n in workflow.nodes]
    paths = [p for p in root.iter(f"{SVG}path") if "edge" in p.get("class", "").split()]
    assert len(paths) == len(workflow.edges)


def test_node_types_differ_by_shape_or_border() -> None:
    root = ET.fromstring(render_svg(every_type_and_mode()))
    looks = {}
    for g in root.iter(f"{SVG}g"):
        if "node" not in g.get("class", "").split():
            continue
        shape = next(el for el in g if el.tag != f"{SVG}title")
        looks[g.get("data-node-id")] = (
            shape.tag,
            shape.get("rx"),
            shape.get("stroke-width"),
            shape.get("stroke-dasharray"),
        )
    for kind in ("human", "agent", "gateway", "event", "company"):
        # company and department are both organisations and share one look
        same = {f"n_{kind}"} | ({"n_company", "n_department"} if kind == "company" else set())
        others = {v for k, v in looks.items() if k not in same}
        assert looks[f"n_{kind}"] not in others, kind
    # ... and every node also carries its type as a text tag.
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "HUMAN" in texts and "AGENT" in texts and "GATEWAY" in texts


def test_edge_modes_have_distinct_styles() -> None:
    looks = {(s.dash, s.width, s.head) for s in EDGE_STYLES.values()}
    assert len(looks) == len(EDGE_STYLES) == len(EDGE_MODES)
    assert len(set(MERMAID_LINKS.values())) == len(MERMAID_LINKS) == len(EDGE_MODES)


def test_svg_colours_are_neutral_unless_a_status_is_shown() -> None:
    workflow = every_type_and_mode()
    status_colours = {"#22c55e", "#ef4444", "#eab308", "#3b82f6"}
    plain = render_svg(workflow)
    assert not any(c in plain for c in status_colours)
    coloured = render_svg(workflow, statuses={"n_api": "FAILED", "n_cli": "COMPLETED"})
    assert "#ef4444" in coloured and "#22c55e" in coloured


def test_hostile_names_are_escaped_in_svg_mermaid_and_story() -> None:
    workflow = wf(
        [
            {"id": "a", "type": "human", "name": HOSTILE},
            {"id": "b", "type": "agent", "name": 'say "hi" & | ]] --> end'},
        ],
        [{"from": "a", "to": "b", "mode": "conditional", "when": HOSTILE}],
        name=HOSTILE,
    )
    svg = render_svg(workflow)
    root = ET.fromstring(svg)  # still well-formed XML
    assert not list(root.iter(f"{SVG}img")) and not list(root.iter("img"))
    assert "<img" not in svg and "&lt;img" in svg
    mermaid = render_mermaid(workflow)
    for line in mermaid.splitlines()[1:]:
        labels = re.findall(r'"([^"]*)"', line)
        for label in labels:
            assert not set(label) & set('<>"|[](){}'), label
    assert "#60;img" in mermaid
    assert HOSTILE in render_story(workflow)  # plain text: the caller escapes for its medium


def test_mermaid_ids_are_valid_and_unique() -> None:
    workflow = wf(
        [
            {"id": "end", "type": "cli", "name": "End"},
            {"id": "o-1", "type": "cli", "name": "x"},
            {"id": "o_1", "type": "cli", "name": "y"},
        ],
        [{"from": "end", "to": "o-1"}, {"from": "o-1", "to": "o_1", "mode": "fallback"}],
    )
    text = render_mermaid(workflow)
    assert text.startswith("flowchart LR\n")
    ids = re.findall(r"^    (n_\w+)\[", text, flags=re.M)
    assert ids == ["n_end", "n_o_1", "n_o_1_2"]
    assert "    n_end --> n_o_1\n" in text
    assert '    n_o_1 -.-x|"fallback"| n_o_1_2\n' in text


def test_mermaid_escapes_everything_but_plain_text() -> None:
    assert mermaid_text("a-b c") == "a-b c"
    assert mermaid_text('"#;') == "#34;#35;#59;"
    assert mermaid_text("x" * 200, limit=10) == "x" * 9 + "#8230;"


def test_switch_edges_fan_out_with_case_captions() -> None:
    workflow = wf(
        [{"id": i, "type": "cli"} for i in ("route", "a", "b", "c")],
        [
            {
                "from": "route",
                "to": "a",
                "mode": "switch",
                "when": "kind",
                "cases": [{"value": "x", "to": "a"}, {"value": "y", "to": "b"}],
                "default_to": "c",
            }
        ],
    )
    graph = graph_of(workflow)
    assert [(e.target, e.caption) for e in graph.edges] == [(1, "= x"), (2, "= y"), (3, "default")]
    steps = story_steps(graph)
    assert steps[0].next[0].startswith("when the value is x: step 2")
    assert steps[0].next[-1].startswith("otherwise: step 4")


def test_story_reads_in_order_and_explains() -> None:
    workflow = wf(
        [
            {"id": "join", "type": "cli", "name": "Join"},
            {"id": "start", "type": "human", "name": "Start", "role": "clerk"},
            {"id": "left", "type": "agent", "name": "Left", "explain": {"what": "W", "why": "Y"}},
            {"id": "right", "type": "api", "name": "Right", "purpose": "Calls the API"},
        ],
        [
            {"from": "start", "to": "left", "mode": "parallel"},
            {"from": "start", "to": "right", "mode": "parallel"},
            {"from": "left", "to": "join"},
            {"from": "right", "to": "join"},
            {"from": "join", "to": "start", "mode": "loop", "when": "again"},
        ],
    )
    steps = story_steps(workflow)
    assert [s.node.id for s in steps] == ["start", "left", "right", "join"]
    assert steps[0].who == "A person (clerk)"
    assert steps[1].what == "W." and steps[1].why == "Y"
    assert steps[2].what == "Calls the API."
    assert steps[3].next == ("repeat from step 1 (Start) while again",)
    text = render_story(workflow)
    assert "1. Start — A person (clerk)." in text
    assert "Who takes part: People: 1 (25%), AI agents: 1 (25%), Automated: 2 (50%)." in text


def test_roles_share_adds_up() -> None:
    groups = role_groups(every_type_and_mode())
    assert sum(len(g.nodes) for g in groups) == len(NODE_TYPES)
    assert abs(sum(g.share for g in groups) - 1.0) < 1e-9
    human = next(g for g in groups if g.actor == "human")
    assert {n.type for n in human.nodes} == {"human", "company", "department"}


def test_dangling_edges_and_empty_graphs_are_clean_errors() -> None:
    with pytest.raises(ValidationError, match="graph/dangling-edge-ref"):
        render_svg(wf([{"id": "a", "type": "cli"}], [{"from": "a", "to": "ghost"}]))
    with pytest.raises(ValidationError, match="graph/empty-nodes"):
        render_mermaid(wf([], []))
    assert issubclass(ValidationError, OsopError)


def test_fifty_node_workflow_svg_has_no_overlapping_nodes() -> None:
    nodes = [
        {"id": f"s{i}", "type": NODE_TYPES[i % 16], "name": f"Step {i} " * (i % 5)}
        for i in range(50)
    ]
    edges = [{"from": f"s{i}", "to": f"s{i + 1}"} for i in range(49)]
    edges += [{"from": "s0", "to": f"s{i}", "mode": "parallel"} for i in range(5, 45, 3)]
    edges += [{"from": "s40", "to": "s10", "mode": "loop", "when": "retry"}]
    root = ET.fromstring(render_svg(wf(nodes, edges), direction="TB"))
    rects = []
    for g in root.iter(f"{SVG}g"):
        if "node" in g.get("class", "").split():
            shape = next(el for el in g if el.tag != f"{SVG}title")
            if shape.tag == f"{SVG}rect":
                rects.append(tuple(float(shape.get(k, "0")) for k in ("x", "y", "width", "height")))
    assert len(rects) > 30
    for (x1, y1, w1, h1), (x2, y2, w2, h2) in (
        (a, b) for i, a in enumerate(rects) for b in rects[i + 1 :]
    ):
        assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_legend_names_the_types_and_modes_in_use() -> None:
    workflow = wf(
        [{"id": "a", "type": "human"}, {"id": "b", "type": "gateway"}],
        [{"from": "a", "to": "b", "mode": "fallback"}, {"from": "b", "to": "a", "mode": "loop"}],
    )
    root = ET.fromstring(render_legend(graph_of(workflow), id_prefix="k"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["human", "gateway", "fallback", "loop"]
    heads = [p.get("marker-end") for p in root.iter(f"{SVG}path") if p.get("marker-end")]
    assert heads == ["url(#k-cross)", "url(#k-arrow)"]


def test_identical_fan_out_captions_are_written_once() -> None:
    nodes = [{"id": "root", "type": "agent"}] + [{"id": f"b{i}", "type": "cli"} for i in range(5)]
    edges = [{"from": "root", "to": f"b{i}", "mode": "parallel"} for i in range(5)]
    root = ET.fromstring(render_svg(wf(nodes, edges)))
    texts = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "edge-label" for t in g]
    assert [t for t in texts if t] == ["parallel ×5"]


def test_story_keeps_multi_line_texts_on_their_indented_line() -> None:
    workflow = workflow_from_dict(
        {
            "osop_version": "1.1",
            "id": "w",
            "name": "W",
            "nodes": [
                {"id": "a", "type": "cli", "name": "Scan\nhosts", "description": "One.\nTwo.\n"},
                {"id": "b", "type": "human", "name": "Review"},
            ],
            "edges": [{"from": "a", "to": "b"}],
        }
    )
    lines = render_story(workflow).splitlines()
    assert "1. Scan hosts — Automated, cli." in lines
    assert "   One. Two." in lines
    # Every line of a step is its numbered line or indented under it.
    body = [line for line in lines[2:] if line]
    assert all(re.match(r"(\d+\. |   |Who takes part)", line) for line in body), body
