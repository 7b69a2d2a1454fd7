"""Structural diff of two ``.osop`` workflows: metadata, nodes, edges, field by field.

Nodes are matched by id, edges by (from, to, mode) — never by list position, so
reordering the file is not a change.  Fields are compared on the documents as
written, with the legacy spellings folded first (``condition`` → ``when``, a
missing edge ``mode`` → ``sequential``) so a migrated file diffs clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from osop.format.workflow import Edge, Workflow

__all__ = ["FieldChange", "ItemChange", "WorkflowDiff", "diff_workflows"]

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs; ``path`` is dotted (``runtime.command``)."""

    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind != "added":
            out["old"] = self.old
        if self.kind != "removed":
            out["new"] = self.new
        return out


@dataclass(frozen=True, slots=True)
class ItemChange:
    """A node or an edge added, removed or changed (with its field changes)."""

    key: str
    kind: ChangeKind
    fields: tuple[FieldChange, ...] = ()
    value: Any = None  # the whole item when added or removed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "kind": self.kind}
        if self.fields:
            out["fields"] = [f.to_dict() for f in self.fields]
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass
class WorkflowDiff:
    """Everything that differs between workflow A and workflow B."""

    name_a: str
    name_b: str
    metadata: list[FieldChange] = field(default_factory=list)
    nodes: list[ItemChange] = field(default_factory=list)
    edges: list[ItemChange] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.metadata or self.nodes or self.edges)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for group, items in (("nodes", self.nodes), ("edges", self.edges)):
            for kind in ("added", "removed", "changed"):
                out[f"{group}_{kind}"] = sum(1 for i in items if i.kind == kind)
        out["metadata_changed"] = len(self.metadata)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "workflow",
            "a": self.name_a,
            "b": self.name_b,
            "identical": self.identical,
            "summary": self.counts(),
            "metadata": [c.to_dict() for c in self.metadata],
            "nodes": [c.to_dict() for c in self.nodes],
            "edges": [c.to_dict() for c in self.edges],
        }


def _fields(a: Any, b: Any, prefix: str = "") -> list[FieldChange]:
    """Field changes between two values, descending into mappings (not lists)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[FieldChange] = []
        for key in list(a) + [k for k in b if k not in a]:
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in b:
                out.append(FieldChange(path, "removed", old=a[key]))
            elif key not in a:
                out.append(FieldChange(path, "added", new=b[key]))
            else:
                out.extend(_fields(a[key], b[key], path))
        return out
    if a == b and type(a) is type(b):
        return []
    return [FieldChange(prefix or "(value)", "changed", old=a, new=b)]


def _edge_data(edge: Edge) -> dict[str, Any]:
    data = dict(edge.raw)
    if "when" not in data and "condition" in data:
        data["when"] = data.pop("condition")
    data.setdefault("mode", "sequential")
    return data


def _edge_key(key: tuple[str, str, str], seen: dict[tuple[str, str, str], int]) -> str:
    seen[key] = seen.get(key, 0) + 1
    text = f"{key[0]} -> {key[1]} ({key[2]})"
    return text if seen[key] == 1 else f"{text} #{seen[key]}"


def _keyed_edges(workflow: Workflow) -> dict[str, dict[str, Any]]:
    seen: dict[tuple[str, str, str], int] = {}
    return {_edge_key(e.key, seen): _edge_data(e) for e in workflow.edges}


def _items(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[ItemChange]:
    out: list[ItemChange] = []
    for key in list(a) + [k for k in b if k not in a]:
        if key not in b:
            out.append(ItemChange(key, "removed", value=a[key]))
        elif key not in a:
            out.append(ItemChange(key, "added", value=b[key]))
        else:
            changes = _fields(a[key], b[key])
            if changes:
                out.append(ItemChange(key, "changed", tuple(changes)))
    return out


def diff_workflows(a: Workflow, b: Workflow, name_a: str = "A", name_b: str = "B") -> WorkflowDiff:
    """Compare two workflows: metadata, nodes (by id) and edges (by from/to/mode)."""
    meta_a = {k: v for k, v in a.raw.items() if k not in ("nodes", "edges")}
    meta_b = {k: v for k, v in b.raw.items() if k not in ("nodes", "edges")}
    nodes_a = {n.id: n.raw for n in a.nodes}
    nodes_b = {n.id: n.raw for n in b.nodes}
    return WorkflowDiff(
        name_a=name_a,
        name_b=name_b,
        metadata=_fields(meta_a, meta_b),
        nodes=_items(nodes_a, nodes_b),
        edges=_items(_keyed_edges(a), _keyed_edges(b)),
    )
