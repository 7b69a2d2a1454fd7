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

__all__ = ["CONTROL_EXCLUDED_MODES", "IMPLICIT_LOOP_MODES", "Slot", "Slots", "Topology"]

Slot = tuple[int, str]
Slots = tuple[Slot, ...]
_NO_SLOTS: Slots = ()  # the slots of a node without any: one shared empty tuple

#: Modes that never activate their target in the forward flow.
CONTROL_EXCLUDED_MODES = frozenset({"compensation", "dataflow"})
#: Modes taken only when their source did not complete.
FAILURE_MODES = frozenset({"fallback", "error", "timeout"})
#: The join of a node whose incoming edges name none.
_WAIT_ALL = ("wait_all", 1)


@dataclass
class Topology:
    """The workflow's slots per node, as exact-size tuples.

    Memory (tracemalloc, ``Topology.build`` of a 100,000-node chain): 289 → 181
    bytes per node.  Each node's slots are a tuple of their exact length (a list
    was 64 bytes with its item array, a one-slot tuple is 48), a node without any
    shares one empty tuple, a chain node's one outgoing slot and its successor's
    one incoming slot are the same tuple, and a slot's edge position is the
    edge's own ``index`` integer when they are equal (an ``int`` past 256 is an
    object of 28 bytes).  The remaining ~180 bytes: the slot itself (56 + its
    target string, shared), its one-slot tuple (48) and an entry in each of the
    two tables (~37 each).
    """

    workflow: Workflow
    #: node → the control slots that decide whether it runs (its join).
    control_in: dict[str, Slots] = field(default_factory=dict)
    #: node → dataflow slots it waits on (data, not control); only nodes that have any
    #: (read it with :meth:`data_slots`).
    data_in: dict[str, Slots] = field(default_factory=dict)
    #: node → its outgoing slots (every mode).
    out_slots: dict[str, Slots] = field(default_factory=dict)
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

    def data_slots(self, node_id: str) -> Slots:
        return self.data_in.get(node_id, _NO_SLOTS)

    def join_of(self, node_id: str) -> tuple[str, int]:
        """``(rule, count)`` of a node's join: ``wait_all`` unless an edge names another."""
        return self.join.get(node_id, _WAIT_ALL)

    @classmethod
    def build(cls, workflow: Workflow) -> Topology:
        topo = cls(workflow)
        ids = [n.id for n in workflow.nodes]
        edges = workflow.edges
        # The two tables are made in node order at once, every node sharing one empty
        # tuple, and filled in place: a node's first edge gives its slots as a tuple
        # (the usual node has one edge each way), a list only when more come, made an
        # exact tuple at the end.  One tuple per slot, shared by its source's
        # out_slots and its target's join.
        out_slots: dict[str, Slots | list[Slot]] = dict.fromkeys(ids, _NO_SLOTS)
        into: dict[str, Slots | list[Slot]] = dict.fromkeys(ids, _NO_SLOTS)
        data_into: dict[str, list[Slot]] = {}
        loops: list[tuple[int, Edge]] = []
        skipped: set[int] = set()  # loop and compensation edges: no control slots
        for pos, edge in enumerate(edges):
            source = edge.source
            if source not in out_slots:
                continue
            if edge.index == pos:
                pos = edge.index  # the model's own int object, not a second one
            mode = edge.mode
            made: Slots
            if mode != "switch":  # one target: what ``Edge.targets`` is, without its tuple
                target = edge.target
                if target not in out_slots:
                    continue
                made = ((pos, target),)
            else:
                made = tuple([(pos, t) for t in edge.targets if t in out_slots])
            held = out_slots[source]
            if not held:
                out_slots[source] = made
            elif type(held) is tuple:
                out_slots[source] = [*held, *made]
            else:
                held.extend(made)  # type: ignore[union-attr]
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
            if mode == "dataflow":
                for slot in made:
                    data_into.setdefault(slot[1], []).append(slot)
                continue
            for slot in made:
                held = into[slot[1]]
                if not held:
                    # A one-slot edge's tuple is its target's whole join as often as
                    # not (a chain): the same tuple serves both tables.
                    into[slot[1]] = made if len(made) == 1 else (slot,)
                elif type(held) is tuple:
                    into[slot[1]] = [*held, slot]
                else:
                    held.append(slot)  # type: ignore[union-attr]
        if loops:
            # Only loop edges need the graph's reachability (which of them close a cycle).
            slots_of: dict[int, list[Slot]] = {}
            for slots in out_slots.values():
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
            into = dict.fromkeys(ids, _NO_SLOTS)
            for pos, edge in enumerate(edges):
                mode = edge.mode
                if mode in ("dataflow", "compensation") or pos in topo.back_edges:
                    continue
                for slot in slots_of.get(pos, ()):
                    held = into[slot[1]]
                    if type(held) is list:
                        held.append(slot)
                    else:
                        into[slot[1]] = [*held, slot]
        for table in (out_slots, into):
            for nid, slots in table.items():
                if type(slots) is list:
                    table[nid] = tuple(slots)
        topo.out_slots = out_slots  # type: ignore[assignment]  # only tuples now
        topo.control_in = control_in = into  # type: ignore[assignment]
        for nid, slots in data_into.items():
            topo.data_in[nid] = tuple(slots)
        del data_into
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
