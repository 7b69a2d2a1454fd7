"""What keeps a big workflow's model small must not change what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.errors import LoadError
from osop.format import loader
from osop.format.loader import load_document
from osop.format.workflow import EMPTY_MAPPING, workflow_from_dict

TEXT = """\
osop_version: "1.1"
id: small
name: Small
metadata: {owner: ops}
nodes:
  - id: a
    type: cli
    runtime: {command: "true"}
    x-note: kept
  - id: b
    type: human
    name: Check
  - [not, a, node]
edges:
  - {from: a, to: b, mode: conditional, when: "true"}
  - {from: b, to: a, mode: loop, max_iterations: 2}
"""


def test_workflow_raw_lists_each_node_and_edge_once() -> None:
    data = load_document(TEXT, "small.osop").data
    wf = workflow_from_dict(data)
    assert wf.raw == data
    assert wf.raw["nodes"][0] is wf.nodes[0].raw
    assert wf.raw["nodes"][1] is wf.nodes[1].raw
    assert wf.raw["nodes"][2] == ["not", "a", "node"]
    assert wf.raw["edges"][1] is wf.edges[1].raw
    assert wf.nodes[0].raw == data["nodes"][0] and wf.nodes[0].raw is not data["nodes"][0]


def test_edge_ends_are_the_node_id_strings() -> None:
    data: dict[str, Any] = {
        "id": "w",
        "nodes": [{"id": "".join(["a", "b"]), "type": "cli"}, {"id": "c", "type": "cli"}],
        "edges": [{"from": "".join(["a", "b"]), "to": "c"}, {"from": "c", "to": "gone"}],
    }
    wf = workflow_from_dict(data)
    assert wf.edges[0].source is wf.nodes[0].id
    assert wf.edges[0].raw["from"] is wf.nodes[0].id
    assert wf.edges[1].target == "gone"
    assert data["edges"][0]["from"] is not wf.nodes[0].id  # the input is not changed


def test_absent_mappings_share_one_empty_dict_and_present_ones_are_copies() -> None:
    data = load_document(TEXT, "small.osop").data
    wf = workflow_from_dict(data)
    a, b = wf.nodes[0], wf.nodes[1]
    assert b.runtime is EMPTY_MAPPING and b.security is EMPTY_MAPPING
    assert b.extensions is EMPTY_MAPPING and wf.edges[0].metadata is EMPTY_MAPPING
    assert a.runtime == {"command": "true"} and a.runtime is not data["nodes"][0]["runtime"]
    assert a.extensions == {"x-note": "kept"}
    assert wf.metadata == {"owner": "ops"}
    assert EMPTY_MAPPING == {}


def test_message_contracts_do_not_fill_the_shared_empty_dict() -> None:
    wf = workflow_from_dict(
        {"id": "w", "nodes": [], "message_contracts": [{"id": "c1", "producer": "p"}]}
    )
    assert wf.contracts == {"c1": {"id": "c1", "producer": "p"}}
    assert EMPTY_MAPPING == {}


def test_yaml_built_once_and_let_go_gives_the_same_data_and_positions() -> None:
    node = loader._compose(TEXT, "small.osop")
    full = loader._Builder("small.osop")  # the path documents with anchors take
    expected = full.build(node, "", 0)
    single = loader._Builder("small.osop", TEXT)
    assert single.single_use
    assert single.build(loader._compose(TEXT, "small.osop"), "", 0) == expected
    assert single.positions == full.positions
    assert single.key_positions == full.key_positions
    doc = load_document(TEXT, "small.osop")
    assert doc.positions == full.positions and doc.data == expected


def test_documents_with_anchors_still_expand_aliases() -> None:
    text = "id: w\nnodes:\n  - &n {id: a, type: cli}\nedges: []\nx-copy: *n\n"
    doc = load_document(text, "w.osop")
    assert doc.data["x-copy"] == {"id": "a", "type": "cli"}
    assert doc.positions["/x-copy/id"] == doc.positions["/nodes/0/id"]


def _yaml_files() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    found = [*root.glob("examples/**/*.osop*"), *root.glob("tests/conformance/**/*.yaml")]
    return sorted(p for p in found if p.is_file())


def test_documents_without_anchors_parse_from_events_exactly_as_composed() -> None:
    compared = 0
    for path in _yaml_files():
        text = path.read_text(encoding="utf-8")
        if "&" in text:
            continue
        try:
            node = loader._compose(text, path.name)
            builder = loader._Builder(path.name)
            data = builder.build(node, "", 0) if node is not None else None
        except LoadError:
            # the event path must hand anything the composing path refuses back to it
            with pytest.raises((loader._Unusual, LoadError, yaml.YAMLError)):
                loader._parse_plain(text, path.name)
            continue
        expected = (data, builder.positions, builder.key_positions)
        plain, marks = loader._parse_plain(text, path.name)
        assert repr((plain, *marks.dicts())) == repr(expected), path
        compared += 1
    assert compared > 50


def _probes(positions: dict[str, Any]) -> list[str]:
    """Every located pointer, and pointers that are not there (each answered by an ancestor)."""
    probes = ["", "/", "/nope", "/nodes/00", "/nodes/-1", "/nodes/999999/id", "/a~1b", "/a~2b"]
    for pointer in positions:
        probes += [pointer, f"{pointer}/missing", f"{pointer}/0", f"{pointer}/01"]
    return probes


def test_compact_marks_locate_exactly_as_the_pointer_tables() -> None:
    texts = [
        "a/b: {x~y: 1, '': [1, {q: 2}]}\nnodes: []\n'0': zero\n",
        "- 1\n- [2, 3]\n- {k: v}\n",
        '{"id": "w", "nodes": [{"id": "a", "type": "cli"}], "edges": []}',
    ]
    texts += [p.read_text(encoding="utf-8") for p in _yaml_files()]
    compared = 0
    for text in texts:
        if "&" in text:
            continue
        try:
            _, marks = loader._parse_plain(text, "t.osop")
        except (loader._Unusual, LoadError, yaml.YAMLError):
            continue
        table = loader._Table(*marks.dicts())
        for pointer in _probes(table.positions):
            assert marks.locate(pointer) == table.locate(pointer), (text[:40], pointer)
            assert marks.locate_key(pointer) == table.locate_key(pointer), (text[:40], pointer)
        compared += 1
    assert compared > 50


def test_yaml_documents_keep_compact_marks_and_json_ones_locate_on_demand() -> None:
    doc = load_document(TEXT, "small.osop")
    assert isinstance(doc.where, loader.Marks)
    assert doc.locate("/nodes/1/name") == (12, 11)
    assert doc.locate_key("/nodes/1/name") == (12, 5)
    assert doc.locate("/nodes/2/5") == (13, 5)  # nearest ancestor: the list
    as_json = load_document('{"id": "w",\n "nodes": [{"id": "a"}]}', "w.osop.json")
    assert as_json.positions_pending
    assert as_json.locate("/nodes/0/id") == (2, 19)
    assert as_json.locate_key("/nodes/0/id") == (2, 13)


def test_an_adopting_model_keeps_the_parsed_mappings_and_says_the_same() -> None:
    doc = load_document(TEXT, "small.osop")
    copied = workflow_from_dict(load_document(TEXT, "small.osop").data)
    adopted = workflow_from_dict(doc.data, adopt=True)
    assert adopted.nodes[0].raw is doc.data["nodes"][0]
    assert adopted.edges[1].raw is doc.data["edges"][1]
    assert adopted.edges[0].source is adopted.nodes[0].id  # shared strings, as copies have
    assert adopted.raw == copied.raw
    for mine, theirs in zip(
        adopted.nodes + adopted.edges, copied.nodes + copied.edges, strict=True
    ):
        assert repr(mine) == repr(theirs)


def test_load_workflow_adopts_and_pointers_are_made_from_the_index(tmp_path: Path) -> None:
    from osop.format.api import load_workflow
    from osop.format.validate import validate_path

    path = tmp_path / "small.osop"
    text = TEXT.replace("  - [not, a, node]\n", "").replace(
        "max_iterations", "when: 'false', max_iterations"
    )
    path.write_text(text, encoding="utf-8")
    wf = load_workflow(path)
    assert [n.pointer for n in wf.nodes] == ["/nodes/0", "/nodes/1"]
    assert [e.pointer for e in wf.edges] == ["/edges/0", "/edges/1"]
    report = validate_path(path, adopt=True)
    assert report.document is not None and report.model is not None
    assert report.model.raw["nodes"][1] is report.document.data["nodes"][1]  # type: ignore[union-attr]
    kept = validate_path(path)
    assert kept.document is not None and kept.model is not None
    assert kept.model.raw["nodes"][1] is not kept.document.data["nodes"][1]  # type: ignore[union-attr]


def test_nodes_and_edges_that_set_no_rare_field_share_one_object_for_them() -> None:
    wf = workflow_from_dict(
        {
            "id": "w",
            "nodes": [
                {"id": "a", "type": "cli", "name": "A"},
                {"id": "b", "type": "cli"},
                {"id": "c", "type": "cli", "runtime": {"command": "true"}, "timeout_sec": 5},
            ],
            "edges": [
                {"from": "a", "to": "b"},
                {"from": "b", "to": "c", "mode": "conditional", "when": "true"},
                {"from": "c", "to": "a", "mode": "loop", "condition": "false", "weight": 2},
            ],
        }
    )
    a, b, c = wf.nodes
    assert a._more is b._more and c._more is not a._more
    assert (a.runtime, a.retry, a.timeout_sec, a.success_criteria) == (
        EMPTY_MAPPING,
        None,
        None,
        (),
    )
    assert (c.runtime, c.timeout_sec, c.purpose) == ({"command": "true"}, 5.0, None)
    ab, bc, ca = wf.edges
    assert ab._more is bc._more and ca._more is not ab._more  # `when` is kept on the edge
    assert (bc.when, bc.when_key, ca.when, ca.when_key, ca.weight) == (
        "true",
        "when",
        "false",
        "condition",
        2.0,
    )
    assert (ab.label, ab.cases, ab.metadata, ab.when_key) == (None, (), EMPTY_MAPPING, "when")
    # node i and edge i share their index's int (one object fewer per chain node)
    big = workflow_from_dict(
        {
            "id": "w",
            "nodes": [{"id": f"n{i}", "type": "cli"} for i in range(300)],
            "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(299)],
        }
    )
    assert big.nodes[299].index == 299 and big.edges[298].index is big.nodes[298].index


def test_a_node_made_directly_takes_every_field_it_took_before() -> None:
    from dataclasses import FrozenInstanceError

    from osop.format.workflow import Edge, Node

    node = Node(id="a", type="cli", index=0, runtime={"command": "true"}, purpose="p", raw={"x": 1})
    assert (node.runtime, node.purpose, node.raw, node.label) == (
        {"command": "true"},
        "p",
        {"x": 1},
        "p",
    )
    assert Node(id="", type="cli", index=0).raw == {}
    edge = Edge(source="a", target="b", index=0, mode="switch", default_to="c")
    assert edge.targets == ("c",) and edge.key == ("a", "b", "switch")
    assert repr(node).startswith(
        "Node(id='a', type='cli', index=0, name=None, subtype=None, purpose='p'"
    )
    assert repr(edge).endswith("metadata={}, extensions={}, raw={}, when_key='when')")
    with pytest.raises(FrozenInstanceError):
        node.runtime = {}  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        node.id = "b"


def test_entry_nodes_do_not_keep_the_incoming_table() -> None:
    wf = workflow_from_dict(
        {
            "id": "w",
            "nodes": [{"id": i, "type": "cli"} for i in ("a", "b", "c", "d", "e", "f")],
            "edges": [
                {"from": "a", "to": "b"},
                {"from": "b", "to": "a", "mode": "loop"},
                {"from": "c", "to": "x", "mode": "switch", "cases": [{"value": 1, "to": "d"}]},
                {"from": "e", "to": "e", "mode": "conditional", "when": "false"},
                {"from": "gone", "to": "f"},
            ],
        }
    )
    assert [n.id for n in wf.entry_nodes()] == ["a", "c", "e"]
    assert "_incoming" not in wf.__dict__
    assert [n.id for n in wf.nodes if all(e.index in wf.back_edges for e in wf.incoming(n.id))] == [
        "a",
        "c",
        "e",
    ]
