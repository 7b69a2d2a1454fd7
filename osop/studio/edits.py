"""Edits the graph view makes, applied to a document's text in place.

Each edit is a small operation (add a node, set an edge's fields, move nodes)
applied through the comment- and order-preserving round trip of
:func:`osop.format.migrate.edit_text`: the lines an edit does not touch come
back exactly as they were, so a studio edit and a hand edit of the same file
coexist and ``git diff`` shows only what changed.

Manual positions live under the node's ``x-studio`` extension
(``x-studio: {x: 120, y: 40}``): extensions never change what a workflow means.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, MutableSequence
from typing import Any

from osop.errors import OsopError
from osop.format.migrate import edit_text

__all__ = ["EditError", "apply_edits"]

#: The extension key holding a node's position on the canvas.
POSITION_KEY = "x-studio"
#: Fields the side panel may set on a node or an edge (scalars only; the rest is
#: edited in the YAML view).
_MAX_OPS = 500


class EditError(OsopError):
    """An edit that cannot apply, and why."""


def _flow_map(data: Mapping[str, Any]) -> Any:
    """A mapping written on one line (``{from: a, to: b}``), as edges usually are."""
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap(data)
    out.fa.set_flow_style()
    return out


def _block_map(data: Mapping[str, Any]) -> Any:
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap(data)


def _list(data: MutableMapping[str, Any], key: str) -> MutableSequence[Any]:
    value = data.get(key)
    if value is None:
        from ruamel.yaml.comments import CommentedSeq

        value = CommentedSeq()
        data[key] = value
    if not isinstance(value, MutableSequence):
        raise EditError(f"/{key} is not a list; fix it in the YAML view")
    return value


def _node(data: MutableMapping[str, Any], node_id: str) -> MutableMapping[str, Any]:
    for node in _list(data, "nodes"):
        if isinstance(node, MutableMapping) and node.get("id") == node_id:
            return node
    raise EditError(f"the workflow has no node {node_id!r}")


def _edge(data: MutableMapping[str, Any], index: Any) -> MutableMapping[str, Any]:
    edges = _list(data, "edges")
    if not isinstance(index, int) or not 0 <= index < len(edges):
        raise EditError(f"no edge at /edges/{index}")
    edge = edges[index]
    if not isinstance(edge, MutableMapping):
        raise EditError(f"/edges/{index} is not a mapping; fix it in the YAML view")
    return edge


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise EditError(
        f"{where}: only text, numbers and true/false are set from the form; edit the rest in the YAML view"
    )


def _set_fields(target: MutableMapping[str, Any], fields: Any, where: str) -> None:
    if not isinstance(fields, Mapping):
        raise EditError(f"{where}: fields must be a mapping")
    for key, value in fields.items():
        if not isinstance(key, str) or not key:
            raise EditError(f"{where}: a field name must be text")
        value = _scalar(value, f"{where}/{key}")
        if value is None or value == "":
            target.pop(key, None)
        else:
            target[key] = value


def _position(x: Any, y: Any) -> Any:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
        raise EditError("a position is two numbers")
    return _flow_map({"x": round(float(x)), "y": round(float(y))})


def _apply(data: Any, op: Mapping[str, Any]) -> None:
    if not isinstance(data, MutableMapping):
        raise EditError("the document is not a mapping; fix it in the YAML view")
    kind = op.get("op")
    if kind == "add_node":
        node = op.get("node")
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
            raise EditError("add_node needs a node with an id")
        nodes = _list(data, "nodes")
        if any(isinstance(n, Mapping) and n.get("id") == node["id"] for n in nodes):
            raise EditError(f"the workflow already has a node {node['id']!r}")
        fields = {k: _scalar(v, f"node/{k}") for k, v in node.items() if k != POSITION_KEY}
        new = _block_map(fields)
        position = node.get(POSITION_KEY)
        if isinstance(position, Mapping):
            new[POSITION_KEY] = _position(position.get("x"), position.get("y"))
        nodes.append(new)
    elif kind == "set_node":
        _set_fields(_node(data, str(op.get("id"))), op.get("fields"), f"node {op.get('id')}")
    elif kind == "remove_node":
        node_id = str(op.get("id"))
        nodes = _list(data, "nodes")
        nodes.remove(_node(data, node_id))
        edges = _list(data, "edges")
        for index in reversed(range(len(edges))):
            edge = edges[index]
            if isinstance(edge, Mapping) and node_id in (edge.get("from"), edge.get("to")):
                del edges[index]
    elif kind == "add_edge":
        edge = op.get("edge")
        if not isinstance(edge, Mapping) or not edge.get("from") or not edge.get("to"):
            raise EditError("add_edge needs from and to")
        fields = {k: _scalar(v, f"edge/{k}") for k, v in edge.items() if v not in (None, "")}
        _list(data, "edges").append(_flow_map(fields))
    elif kind == "set_edge":
        _set_fields(_edge(data, op.get("index")), op.get("fields"), f"/edges/{op.get('index')}")
    elif kind == "remove_edge":
        position = op.get("index")
        _edge(data, position)  # checks that it is there
        assert isinstance(position, int)
        del _list(data, "edges")[position]  # by position: two edges may be equal
    elif kind == "move_nodes":
        positions = op.get("positions")
        if not isinstance(positions, Mapping):
            raise EditError("move_nodes needs positions")
        for node_id, where in positions.items():
            if not isinstance(where, Mapping):
                raise EditError(f"position of {node_id!r} must be {{x, y}}")
            _node(data, str(node_id))[POSITION_KEY] = _position(where.get("x"), where.get("y"))
    else:
        raise EditError(f"unknown edit {kind!r}")


def apply_edits(text: str, name: str, ops: list[Any]) -> str:
    """``text`` with every operation applied, in order; nothing applies if one fails."""
    if not isinstance(ops, list) or len(ops) > _MAX_OPS:
        raise EditError(f"edits must be a list of at most {_MAX_OPS} operations")
    for op in ops:
        if not isinstance(op, Mapping):
            raise EditError("an edit must be a mapping with an 'op'")

    def edit(data: Any) -> None:
        for op in ops:
            _apply(data, op)

    return edit_text(text, name, edit)
