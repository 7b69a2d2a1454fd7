"""The shape of a workflow as the scheduler needs it, computed once in O(nodes + edges).

A *slot* is one (edge, target) pair: a switch edge has one slot per case target,
every other edge exactly one.  Each slot ends up taken or not taken.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from osop.format.vocabulary import IMPLICIT_LOOP_MODES
from osop.format.workflow import Edge, Workflow

__all__ = ["CONTROL_EXCLUDED_MODES", "IMPLICIT_LOOP_MODES", "Slot", "Topology"]

Slot = tuple[int, str]
_NO_SLOTS: list[Slot] = []  # never appended to: data_slots() of a node without any

#: Modes that never activate their target in the forward flow.
CONTROL_EXCLUDED_MODES = frozenset({"compensation", "dataflow"})
#: Modes taken only when their source did not complete.
FAILURE_MODES = frozenset({"fallback", "error", "timeout"})
#: The join of a node whose incoming edges name none.
_WAIT_ALL = ("wait_all", 1)


@dataclass
class Topology:
    workflow: Workflow
    #: node → the control slots that decide whether it runs (its join).
    control_in: dict[str, list[Slot]] = field(default_factory=dict)
    #: node → dataflow slots it waits on (data, not control); only nodes that have any
    #: (read it with :meth:`data_slots`).
    data_in: dict[str, list[Slot]] = field(default_factory=dict)
    #: node → its outgoing slots (every mode).
    out_slots: dict[str, list[Slot]] = field(default_factory=dict)
    #: loop edges whose target reaches their source: they re-run a body of nodes.
    back_edges: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: slot → the back edge whose body it leaves (decided when that loop ends).
    exit_of: dict[Slot, int] = field(default_factory=dict)
    #: node → the back edges whose body contains it (innermost first).
    loops_of: dict[str, list[int]] = field(default_factory=dict)
    #: nodes reachable only through compensation edges (run only when undoing).
    compensation_only: frozenset[str] = frozenset()
    #: source → its compensation targets.
    compensations: dict[str, list[str]] = field(default_factory=dict)
    #: node → its join rule, only where an incoming edge names one other than the
    #: default (read it with :meth:`join_of`): one entry per node was ~40 bytes a node.
    join: dict[str, tuple[str, int]] = field(default_factory=dict)
    entry: tuple[str, ...] = ()

    def data_slots(self, node_id: str) -> list[Slot]:
        return self.data_in.get(node_id, _NO_SLOTS)

    def join_of(self, node_id: str) -> tuple[str, int]:
        """``(rule, count)`` of a node's join: ``wait_all`` unless an edge names another."""
        return self.join.get(node_id, _WAIT_ALL)

    @classmethod
    def build(cls, workflow: Workflow) -> Topology:
        topo = cls(workflow)
        ids = [n.id for n in workflow.nodes]
        known = set(ids)
        edges = workflow.edges
        # Each node's slots are gathered first and stored once, as lists of their exact
        # length (a list grown by append keeps room for four slots, and there are two
        # per node: a third of this index's memory on a chain).  One tuple per slot,
        # shared by its source's out_slots and its target's join.
        out_of: dict[str, list[Slot]] = {}
        into: dict[str, list[Slot]] = {}
        loops: list[tuple[int, Edge]] = []
        skipped: set[int] = set()  # loop and compensation edges: no control slots
        for pos, edge in enumerate(edges):
            source = edge.source
            if source not in known:
                continue
            mode = edge.mode
            targets = edge.targets
            if len(targets) == 1:  # the usual edge: one target, no list to filter
                target = targets[0]
                if target not in known:
                    continue
                made: list[Slot] = [(pos, target)]
            else:
                made = [(pos, t) for t in targets if t in known]
            held = out_of.get(source)
            if held is None:
                out_of[source] = made
            else:
                held.extend(made)
            if mode == "loop" or (
                mode in IMPLICIT_LOOP_MODES and edge.index in workflow.back_edges
            ):
                # A guarded edge that closes a cycle ("fix and retry" written as a
                # fallback or conditional back edge) runs as a loop edge: see
                # docs/semantics.md and the validator's graph/implicit-loop warning.
                loops.append((pos, edge))
                skipped.add(pos)
                continue
            if mode == "compensation":
                for slot in made:
                    topo.compensations.setdefault(source, []).append(slot[1])
                skipped.add(pos)
                continue
            for slot in made:
                if mode == "dataflow":
                    topo.data_in.setdefault(slot[1], []).append(slot)
                else:
                    held = into.get(slot[1])
                    if held is None:
                        into[slot[1]] = [slot]
                    else:
                        held.append(slot)
        if loops:
            # Only loop edges need the graph's reachability (which of them close a cycle).
            slots_of: dict[int, list[Slot]] = {}
            for slots in out_of.values():
                for slot in slots:
                    slots_of.setdefault(slot[0], []).append(slot)
            forward: dict[str, list[str]] = {nid: [] for nid in ids}
            backward: dict[str, list[str]] = {nid: [] for nid in ids}
            for pos, edge in enumerate(edges):
                if pos in skipped:
                    continue
                for _, target in slots_of.get(pos, ()):
                    forward[edge.source].append(target)
                    backward[target].append(edge.source)
            for pos, edge in loops:
                if edge.target not in forward:
                    continue
                down = _reach(edge.target, forward)
                if edge.source in down:
                    members = down & _reach(edge.source, backward)
                    topo.back_edges[pos] = tuple(n for n in ids if n in members)
            # A loop edge that closes no cycle joins its target like any control edge:
            # the joins again in edge order.
            into = {}
            for pos, edge in enumerate(edges):
                mode = edge.mode
                if mode in ("dataflow", "compensation") or pos in topo.back_edges:
                    continue
                for slot in slots_of.get(pos, ()):
                    into.setdefault(slot[1], []).append(slot)
        control_in, out_slots = topo.control_in, topo.out_slots
        for nid in ids:
            # A one-slot list made as a literal is already exact; a grown one is trimmed
            # (the joins rebuilt for loops above were grown).
            leaving = out_of.get(nid)
            out_slots[nid] = (
                [] if leaving is None else leaving if len(leaving) == 1 else leaving.copy()
            )
            joining = into.get(nid)
            exact = joining is not None and len(joining) == 1 and not loops
            control_in[nid] = [] if joining is None else joining if exact else joining.copy()
        del out_of, into
        # Innermost loop first, so an exit is released by the loop it leaves first.
        for index, body in sorted(topo.back_edges.items(), key=lambda item: len(item[1])):
            members = set(body)
            for nid in body:
                topo.loops_of.setdefault(nid, []).append(index)
                for slot in out_slots[nid]:
                    if slot[1] not in members and slot[0] != index and slot not in topo.exit_of:
                        topo.exit_of[slot] = index
        compensation_targets = {t for ts in topo.compensations.values() for t in ts}
        topo.compensation_only = frozenset(
            t
            for t in compensation_targets
            if not control_in[t] and t not in topo.data_in and not _loop_target(t, workflow)
        )
        if any(edge.join_mode for edge in edges):  # else every join is the default
            for nid in ids:
                rule = _join_rule(workflow, control_in[nid])
                if rule != _WAIT_ALL:
                    topo.join[nid] = rule
        data_in = topo.data_in
        topo.entry = tuple(
            nid
            for nid in ids
            if not control_in[nid] and nid not in data_in and nid not in topo.compensation_only
        )
        return topo


def _loop_target(node_id: str, workflow: Workflow) -> bool:
    return any(e.mode == "loop" and e.target == node_id for e in workflow.edges)


def _reach(start: str, adjacency: dict[str, list[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _join_rule(workflow: Workflow, slots: Iterable[Slot]) -> tuple[str, int]:
    """The join of a node: declared on any incoming edge (``join_mode``), else ``wait_all``."""
    slots = list(slots)
    for edge_index, _ in slots:
        edge = workflow.edges[edge_index]
        if edge.join_mode in ("wait_any", "wait_n", "wait_all"):
            if edge.join_mode == "wait_n":
                count = edge.join_count if edge.join_count and edge.join_count > 0 else 1
                return "wait_n", min(count, len(slots))
            return edge.join_mode, 1
    return _WAIT_ALL
