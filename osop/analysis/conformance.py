"""*Should vs did*: replay a record on its workflow graph (token replay).

The graph is read as a Petri net: every (edge, target) pair is a place, every
node a transition; each entry node has a start place holding one token, and a
node that completes without taking any outgoing edge (an exit of the process)
puts a token on its end place, which the final marking consumes.

Firing a node consumes a token from each *required* input place — places of
unconditional edges (sequential, parallel, event, signal, message, spawn,
dataflow, fallback, timeout) that should be taken in this run: their source
ended in a status that takes them, or did not run but should have (dead-path
elimination: a branch no condition chose is not waited for) — and from any
other marked input place; a node consumes when it starts
and produces when it ends (events in time order, an end before a start at the
same instant), so a join that starts before a branch has ended is caught; a required place with no
token is a *missing* token (created to let the replay go on).  A node that finds
no token at all also counts one missing token.  Finishing a node produces a
token on every edge it takes: unconditional edges by the node's final status;
conditional, switch, weighted, error, loop and compensation edges when their
target starts after the source ended (the record tells which branch was
chosen; the condition is not re-evaluated).  An iteration that loops back
takes only its loop edge; the last iteration takes the exit edges.  Tokens left at the end are
*remaining* — except, in a run that did not end COMPLETED, tokens waiting
for a step that never started: the run ended first (the engine skips pending
steps of a failed or cancelled run), so they are withdrawn and listed as a
warning, not counted.  With p produced, c consumed (both counting the initial and final
markings and the missing tokens), m missing and r remaining tokens::

    fitness = ½·(1 − m/c) + ½·(1 − r/p)

which is PM4Py's token-based replay fitness; 1.0 means the run is a possible
run of the graph.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import itemgetter
from typing import Any, Literal, cast, overload
from weakref import WeakKeyDictionary

from osop.analysis.packed import PackedRows
from osop.analysis.records import (
    PlainRecord,
    record_rank_key,
    record_ranks,
    timestamp,
)
from osop.format.vocabulary import NODE_STATUSES
from osop.format.workflow import Edge, Workflow
from osop.record.model import RunRecord

__all__ = [
    "ConformanceResult",
    "ConformanceResults",
    "ConformanceSummary",
    "ConformanceTotals",
    "Deviation",
    "Replayer",
    "fitness",
    "replay",
    "summarise",
]

DeviationKind = Literal[
    "not_in_workflow",
    "unexpected",
    "order_violation",
    "early_join",
    "not_run",
    "unexplained_retry",
]

#: Edges whose firing depends only on the source's final status.
_UNCONDITIONAL = {
    "sequential",
    "parallel",
    "event",
    "signal",
    "message",
    "spawn",
    "dataflow",
    "fallback",
    "timeout",
}
_FAILED = {"FAILED", "TIMED_OUT"}

Place = tuple[str, int, str]  # ("edge", edge index, target) | ("start"|"end", -1, node)


def fitness(missing: int, consumed: int, remaining: int, produced: int) -> float:
    """PM4Py token-replay fitness: ½(1 − m/c) + ½(1 − r/p) (a zero denominator → 1)."""
    first = 1.0 - missing / consumed if consumed else 1.0
    second = 1.0 - remaining / produced if produced else 1.0
    return 0.5 * first + 0.5 * second


@dataclass(frozen=True, slots=True)
class Deviation:
    kind: DeviationKind
    node_id: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "node_id": self.node_id, "message": self.message}


@dataclass(slots=True)
class ConformanceResult:
    """One record replayed on one workflow."""

    name: str
    run_id: str
    workflow_id: str
    status: str
    produced: int = 0
    consumed: int = 0
    missing: int = 0
    remaining: int = 0
    deviations: list[Deviation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def fitness(self) -> float:
        return fitness(self.missing, self.consumed, self.remaining, self.produced)

    @property
    def conformant(self) -> bool:
        return not self.deviations and self.missing == 0 and self.remaining == 0

    def of_record(self, name: str, run_id: str) -> ConformanceResult:
        """This outcome as another record's result (the same outcome, its name and run id).

        The deviation and warning lists are shared, not copied: a result is not
        changed once replayed, and 100,000 records would otherwise hold 200,000
        lists, nearly all empty.
        """
        return ConformanceResult(
            name,
            run_id,
            self.workflow_id,
            self.status,
            self.produced,
            self.consumed,
            self.missing,
            self.remaining,
            self.deviations,
            self.warnings,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.name,
            "run_id": self.run_id,
            "workflow_id": self.workflow_id,
            "status": self.status,
            "conformant": self.conformant,
            "fitness": round(self.fitness, 6),
            "tokens": {
                "produced": self.produced,
                "consumed": self.consumed,
                "missing": self.missing,
                "remaining": self.remaining,
            },
            "deviations": [d.to_dict() for d in self.deviations],
            "warnings": self.warnings,
        }


#: Distinct (deviation list, warning list) pairs :class:`ConformanceResults` looks up
#: by identity (a bound: beyond it, by value).
_LISTS_KEPT = 4096


@dataclass(slots=True)
class ConformanceTotals:
    """Totals over many results: conformant ones, tokens, deviations by kind."""

    conformant: int = 0
    missing: int = 0
    consumed: int = 0
    remaining: int = 0
    produced: int = 0
    deviations: Counter[str] = field(default_factory=Counter)


class ConformanceResults(Sequence[ConformanceResult]):
    """The results of many records, in order, kept compactly (a diff of 100,000 records).

    Records of one process end in a few outcomes: the result less its record's name
    and run id (workflow, status, token counts, deviations, warnings). Each distinct
    outcome is kept once; per record only its outcome's number (4 bytes) and its name
    and run id, compressed (:class:`~osop.analysis.packed.PackedRows`, ~10–30 bytes)
    — as one object per result, ~400 bytes a record. The totals the summary reports
    are folded in as results are added. Reading a result gives an equal
    :class:`ConformanceResult` (its deviation and warning lists shared with the other
    records of its outcome: results are read, never changed).
    """

    __slots__ = ("_by_lists", "_by_outcome", "_names", "_numbers", "_outcomes", "_seen", "_totals")

    def __init__(self, results: Iterable[ConformanceResult] = ()) -> None:
        self._seen: dict[tuple[Any, ...], int] = {}  # outcome → its number
        self._outcomes: list[ConformanceResult] = []  # by number: its first result
        #: (ids of the deviation and warning lists, the scalars) → (number, the lists):
        #: a replayed variant's records share its lists, so most records are found
        #: without hashing their deviations (held here, the lists keep their ids)
        self._by_lists: dict[tuple[Any, ...], tuple[int, object, object]] = {}
        #: id of an outcome given to :meth:`add` → (its number, the outcome, held)
        self._by_outcome: dict[int, tuple[int, ConformanceResult]] = {}
        self._numbers = array("I")  # by record: its outcome's number
        self._names = PackedRows()  # by record: (name, run id)
        self._totals: ConformanceTotals | None = None
        for result in results:
            self.append(result)

    def append(self, result: ConformanceResult) -> None:
        self._numbers.append(self._number(result))
        self._names.append((result.name, result.run_id))
        self._totals = None

    def add(self, outcome: ConformanceResult, name: str, run_id: str) -> None:
        """Append ``outcome.of_record(name, run_id)`` without building it: what
        :meth:`Replayer.outcome` gives, the same object for every record of a variant,
        is found by its identity (~1 µs a record less than :meth:`append` of a result
        built per record: 10,000 records of a diff)."""
        known = self._by_outcome.get(id(outcome))
        if known is not None:
            number = known[0]
        else:
            number = self._number(outcome)
            if len(self._by_outcome) < _LISTS_KEPT:
                self._by_outcome[id(outcome)] = (number, outcome)  # held: its id stays its
        self._numbers.append(number)
        self._names.append((name, run_id))
        self._totals = None

    def _number(self, result: ConformanceResult) -> int:
        """The number of ``result``'s outcome (a new one if it is the first of it)."""
        deviations, warnings = result.deviations, result.warnings
        scalars = (
            result.workflow_id,
            result.status,
            result.produced,
            result.consumed,
            result.missing,
            result.remaining,
        )
        lists = (id(deviations), id(warnings), *scalars)
        known = self._by_lists.get(lists)
        if known is not None:
            return known[0]
        outcome = (*scalars, tuple(deviations), tuple(warnings))
        number = self._seen.setdefault(outcome, len(self._outcomes))
        if number == len(self._outcomes):
            self._outcomes.append(result)
        if len(self._by_lists) < _LISTS_KEPT:
            self._by_lists[lists] = (number, deviations, warnings)
        return number

    def totals(self) -> ConformanceTotals:
        """Counted over the records from each outcome's count (exact: integers; the
        deviation kinds in the order records first show them, as outcomes are
        numbered in that order)."""
        if self._totals is not None:
            return self._totals
        per = [0] * len(self._outcomes)
        for number in self._numbers:
            per[number] += 1
        totals = ConformanceTotals()
        for count, outcome in zip(per, self._outcomes, strict=True):
            totals.conformant += count if outcome.conformant else 0
            totals.missing += count * outcome.missing
            totals.consumed += count * outcome.consumed
            totals.remaining += count * outcome.remaining
            totals.produced += count * outcome.produced
            for deviation in outcome.deviations:
                totals.deviations[deviation.kind] += count
        self._totals = totals
        return totals

    def fitness_total(self) -> float:
        """``sum(r.fitness for r in self)``: the same floats added in the same order."""
        fitness = [outcome.fitness for outcome in self._outcomes]
        return sum(map(fitness.__getitem__, self._numbers))

    def __len__(self) -> int:
        return len(self._numbers)

    def _result(self, number: int, row: tuple[Any, ...]) -> ConformanceResult:
        return self._outcomes[number].of_record(row[0], row[1])

    @overload
    def __getitem__(self, index: int) -> ConformanceResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[ConformanceResult]: ...

    def __getitem__(self, index: int | slice) -> ConformanceResult | list[ConformanceResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("result index out of range")
        return self._result(self._numbers[index], self._names[index])

    def __iter__(self) -> Iterator[ConformanceResult]:
        return map(self._result, self._numbers, self._names)


@dataclass
class ConformanceSummary:
    """Several records against one workflow."""

    workflow: str
    #: one per record (:func:`summarise` keeps them as :class:`ConformanceResults`)
    results: Sequence[ConformanceResult]
    #: files found in a folder that could not be read as records, and why
    skipped: list[str] = field(default_factory=list)
    #: which records were used and what was left out (modes, other workflows, versions)
    notes: list[str] = field(default_factory=list)
    selection: dict[str, Any] = field(default_factory=dict)

    def _packed(self) -> ConformanceResults:
        """The results as :class:`ConformanceResults` (packed now if given as a list)."""
        results = self.results
        return results if isinstance(results, ConformanceResults) else ConformanceResults(results)

    def _totals(self) -> ConformanceTotals:
        return self._packed().totals()

    @property
    def conformant_records(self) -> int:
        return self._totals().conformant

    @property
    def conformant(self) -> bool:
        return self.conformant_records == len(self.results)

    @property
    def log_fitness(self) -> float:
        """Fitness of the totals (PM4Py's ``log_fitness``)."""
        totals = self._totals()
        return fitness(totals.missing, totals.consumed, totals.remaining, totals.produced)

    @property
    def average_fitness(self) -> float:
        if not self.results:
            return 1.0
        return self._packed().fitness_total() / len(self.results)

    def deviation_counts(self) -> dict[str, int]:
        return dict(self._totals().deviations)

    def to_dict(self, *, with_records: bool = True) -> dict[str, Any]:
        """The summary; ``with_records=False`` leaves ``records`` empty (for streaming)."""
        packed = self._packed()
        totals = packed.totals()
        return {
            "kind": "conformance",
            "workflow": self.workflow,
            "conformant": totals.conformant == len(packed),
            "summary": {
                "records": len(packed),
                "conformant_records": totals.conformant,
                "log_fitness": round(
                    fitness(totals.missing, totals.consumed, totals.remaining, totals.produced), 6
                ),
                "average_fitness": round(
                    packed.fitness_total() / len(packed) if len(packed) else 1.0, 6
                ),
                "deviations": dict(totals.deviations),
            },
            "records": [r.to_dict() for r in packed] if with_records else [],
            "skipped": list(self.skipped),
            "notes": list(self.notes),
            **({"selection": self.selection} if self.selection else {}),
        }


def summarise(
    workflow: str, results: Iterable[ConformanceResult], skipped: Iterable[str] = ()
) -> ConformanceSummary:
    kept = results if isinstance(results, ConformanceResults) else ConformanceResults(results)
    return ConformanceSummary(workflow, kept, list(skipped))


def _takes(mode: str, status: str) -> bool:
    """Whether an unconditional edge of ``mode`` is taken given its source's final status."""
    if mode == "fallback":
        return status in _FAILED
    if mode == "timeout":
        return status == "TIMED_OUT"
    return status == "COMPLETED"


#: ``(place number, edge)`` — the edge ``None`` for an entry node's start place.
_Input = tuple[int, Edge | None]
#: (edge indexes, their targets)
_Edges = tuple[tuple[int, ...], tuple[str, ...]]


class _NodeNet:
    """The places and edges around one node of a :class:`_Net`."""

    __slots__ = ("conditional", "end", "inputs", "join", "join_count", "loops", "sources", "taken")

    def __init__(self, workflow: Workflow, node_id: str, entry: bool, number: dict[Place, int]):
        incoming = workflow.incoming(node_id)
        inputs: list[_Input] = [(number[("start", -1, node_id)], None)] if entry else []
        inputs += [(number[("edge", edge.index, node_id)], edge) for edge in incoming]
        #: its input places: its start place first, then its incoming edges' in order
        self.inputs = tuple(inputs)
        #: the join mode of the first incoming edge that sets one, and the count likewise
        self.join = next((e.join_mode for e in incoming if e.join_mode), None)
        self.join_count: int = next((e.join_count for e in incoming if e.join_count), 1)
        #: the nodes its incoming edges come from, sorted (for the "unexpected" message)
        self.sources = sorted({e.source for e in incoming})
        self.end = number[("end", -1, node_id)]
        outgoing = workflow.outgoing(node_id)
        #: (place, target, is an error edge) of each outgoing edge the record decides
        self.conditional = tuple(
            (number[("edge", e.index, t)], t, e.mode == "error")
            for e in outgoing
            if e.mode not in _UNCONDITIONAL
            for t in e.targets
        )
        #: (place, target) of its loop edges: all an iteration that loops back takes
        self.loops = tuple(
            (number[("edge", e.index, t)], t)
            for e in outgoing
            if e.mode == "loop"
            for t in e.targets
        )
        #: final status → the places of the unconditional edges it takes
        self.taken = {
            status: tuple(
                number[("edge", e.index, t)]
                for e in outgoing
                if e.mode in _UNCONDITIONAL and _takes(e.mode, status)
                for t in e.targets
            )
            for status in NODE_STATUSES
        }


class _Net:
    """A workflow as the replay reads it: built once per workflow, shared by its replays.

    A :class:`Replayer` replays hundreds of records of one workflow; each replay
    looked up every node's edges, their modes and join settings again, and found the
    expected edges by a fixpoint over all edges (with the per-execution objects, ~60 %
    of the 818 replays of the 10,000-record diff bench). Places are numbered in
    their sorted order: a marking is a list of counts, and reading it in order is
    reading ``sorted(marking.items())``.
    """

    __slots__ = ("entries", "node_ids", "nodes", "places", "spread", "starts", "takes")

    def __init__(self, workflow: Workflow) -> None:
        entries = sorted({n.id for n in workflow.entry_nodes()})
        self.entries = entries
        node_ids = list(dict.fromkeys(n.id for n in workflow.nodes))
        places: set[Place] = {("start", -1, n) for n in entries}
        places.update(("end", -1, n) for n in node_ids)
        places.update(("edge", e.index, t) for e in workflow.edges for t in e.targets)
        #: every place, sorted; a place's number is its position here
        self.places = sorted(places)
        number = {place: i for i, place in enumerate(self.places)}
        #: the entry nodes' start places (each holds a token at the start)
        self.starts = [number[("start", -1, n)] for n in entries]
        entry = set(entries)
        self.nodes = {n: _NodeNet(workflow, n, n in entry, number) for n in node_ids}
        unconditional: dict[str, list[Edge]] = {}
        for edge in workflow.edges:
            if edge.mode in _UNCONDITIONAL:
                unconditional.setdefault(edge.source, []).append(edge)
        #: source → its final status → the unconditional edges it takes (expected when
        #: the source ran), with their targets
        self.takes: dict[str, dict[str, _Edges]] = {
            source: {
                status: _edges(e for e in edges if _takes(e.mode, status))
                for status in NODE_STATUSES
            }
            for source, edges in unconditional.items()
        }
        #: source → its unconditional edges but fallback and timeout (expected when the
        #: source did not run but should have), with their targets
        self.spread: dict[str, _Edges] = {
            source: _edges(e for e in edges if e.mode not in ("fallback", "timeout"))
            for source, edges in unconditional.items()
        }


_NO_EDGES: _Edges = ((), ())


def _edges(edges: Iterable[Edge]) -> _Edges:
    listed = list(edges)
    return tuple(e.index for e in listed), tuple(t for e in listed for t in e.targets)


#: Each workflow's :class:`_Net`, while the workflow lives.
_NETS: WeakKeyDictionary[Workflow, _Net] = WeakKeyDictionary()


def _net(workflow: Workflow) -> _Net:
    net = _NETS.get(workflow)
    if net is None:
        net = _NETS[workflow] = _Net(workflow)
    return net


_INF = float("inf")


def _replay(
    workflow: Workflow,
    result: ConformanceResult,
    ids: Sequence[str],
    statuses: Sequence[str],
    attempts: Sequence[int],
    iterations: Sequence[int | None],
    starts: Sequence[float],
    ends: Sequence[float | None],
    code_of: Callable[[int], str | None],
) -> ConformanceResult:
    """Replay node records given column by column (see the module docstring).

    ``starts`` and ``ends`` are the node records' moments, or anything in the same
    order (ranks: only their order and equality matter), a missing start as +inf and
    a missing end as ``None``; ``code_of(i)`` is node record ``i``'s error code.
    """
    net = _net(workflow)
    # -- executions, as executions_of groups them: node records in order of start
    # (file order on ties); a higher attempt of the same iteration continues the
    # node's open execution, anything else starts a new one
    groups: list[list[int]] = []
    open_execution: dict[str, list[int]] = {}
    for i in sorted(range(len(ids)), key=starts.__getitem__):
        current = open_execution.get(ids[i])
        if current is not None:
            last = current[-1]
            if attempts[i] > attempts[last] and iterations[i] == iterations[last]:
                current.append(i)
                continue
        open_execution[ids[i]] = current = [i]
        groups.append(current)
    # the executions not SKIPPED, in that order (number k): node, occurrence, status,
    # start, end (a missing one: the start), attempts
    occurrences: dict[str, int] = {}
    ex_node: list[str] = []
    ex_first: list[bool] = []
    ex_status: list[str] = []
    ex_start: list[float] = []
    ex_end: list[float] = []
    ex_group: list[list[int]] = []
    skipped: set[str] = set()
    for group in groups:
        first, final = group[0], group[-1]
        node_id = ids[first]
        occurrence = occurrences[node_id] = occurrences.get(node_id, 0) + 1
        status = statuses[final]
        if status == "SKIPPED":
            skipped.add(node_id)
            continue
        start = starts[first]
        end = ends[final]
        ex_node.append(node_id)
        ex_first.append(occurrence == 1)
        ex_status.append(status)
        ex_start.append(start)
        ex_end.append(start if end is None else end)
        ex_group.append(group)
    ran = set(ex_node)
    #: the latest end of each node's executions (``ends_after``)
    last_end: dict[str, float] = {}
    for node_id, end in zip(ex_node, ex_end, strict=True):
        known = last_end.get(node_id)
        if known is None or end > known:
            last_end[node_id] = end

    # -- the unconditional edges that should be taken in this run: those a node that ran
    # takes by its final status, and from a node that did not run but should have (an
    # entry node, or the target of an expected edge) all but fallback and timeout edges
    expected: set[int] = set()
    should_run: set[str] = set()
    pending: list[str] = []
    takes = net.takes
    for node_id, status in set(zip(ex_node, ex_status, strict=True)):
        by_status = takes.get(node_id)
        if by_status is None:
            continue
        indexes, targets = by_status.get(status, _NO_EDGES)  # other statuses take none
        expected.update(indexes)
        for target in targets:
            if target not in ran and target not in should_run:
                should_run.add(target)
                pending.append(target)
    for node_id in net.entries:
        if node_id not in ran and node_id not in should_run:
            should_run.add(node_id)
            pending.append(node_id)
    spread = net.spread
    while pending:
        known_edges = spread.get(pending.pop())
        if known_edges is None:
            continue
        indexes, targets = known_edges
        expected.update(indexes)
        for target in targets:
            if target not in ran and target not in should_run:
                should_run.add(target)
                pending.append(target)

    # -- events: starts and ends in the order they happened; at equal times an end
    # comes first, and an execution that took no time starts and ends together, in
    # record order (a chain of instant steps replays as the chain it was)
    events: list[tuple[float, int, int, int, bool]] = []
    for k, start in enumerate(ex_start):
        end = ex_end[k]
        if end < start:
            end = start
        events.append((start, 1, k, 0, True))
        events.append((end, 1, k, 1, False) if end == start else (end, 0, k, 0, False))
    events.sort()
    #: the position of each node's last start among the events (``runs_after``)
    last_start: dict[str, int] = {}
    for rank, event in enumerate(events):
        if event[4]:
            last_start[ex_node[event[2]]] = rank

    # -- firing
    marking = [0] * len(net.places)
    for place in net.starts:
        marking[place] += 1
    produced = len(net.starts)
    consumed = missing = remaining = 0
    deviations = result.deviations
    nodes = net.nodes
    for rank, (_, _, k, _, is_start) in enumerate(events):
        node_id = ex_node[k]
        node = nodes.get(node_id)
        if node is None:
            if is_start:
                missing += 1
                consumed += 1
                deviations.append(
                    Deviation(
                        "not_in_workflow",
                        node_id,
                        f"{node_id} ran but is not a node of the workflow",
                    )
                )
            continue
        status = ex_status[k]
        if is_start:
            # consume: a token from each required place (a missing one counted and
            # created), then from any other marked place
            inputs = node.inputs
            took = 0
            required: list[_Input] = []
            absent: list[Edge] = []
            rest: Sequence[_Input] = inputs
            if ex_first[k]:
                required = [i for i in inputs if i[1] is None or i[1].index in expected]
                join = node.join
                if required and (join == "wait_any" or join == "wait_n"):
                    need = 1 if join == "wait_any" else max(1, min(len(required), node.join_count))
                    marked = [r for r in required if marking[r[0]] > 0]
                    required = (marked + [r for r in required if r not in marked])[:need]
                for place, edge in required:
                    if marking[place] > 0:
                        marking[place] -= 1
                        took += 1
                    else:
                        missing += 1
                        if edge is not None:
                            absent.append(edge)
                consumed += len(required)
                if len(required) == len(inputs):
                    rest = ()
                elif required:
                    rest = [i for i in inputs if i not in required]
            for place, edge in rest:
                if marking[place] > 0 and (edge is None or edge.mode != "loop" or not took):
                    marking[place] -= 1
                    consumed += 1
                    took += 1
            if not required and not took:
                missing += 1
                consumed += 1
                sources = node.sources
                ran_sources = [s for s in sources if s in ran]
                if not sources:
                    why = "it is not an entry node and nothing leads to it"
                elif ran_sources:
                    why = f"no incoming edge was taken (from {', '.join(ran_sources)})"
                else:
                    why = f"none of its predecessors ran ({', '.join(sources)})"
                deviations.append(
                    Deviation("unexpected", node_id, f"{node_id} ran but should not have: {why}")
                )
            for edge in absent:
                source = edge.source
                source_end = last_end.get(source)
                if source_end is not None and source_end > ex_start[k]:  # it ended after
                    if took:
                        message = f"{node_id} started before its branch {source} finished"
                        deviations.append(Deviation("early_join", node_id, message))
                        continue
                    message = (
                        f"{node_id} ran before {source} ({edge.mode} edge {source} -> {node_id})"
                    )
                else:
                    message = f"{node_id} ran although {source}, which must come first, never did"
                deviations.append(Deviation("order_violation", node_id, message))
            group = ex_group[k]
            if len(group) > 1:
                _check_retries(workflow, node_id, group, statuses, code_of, deviations)
            continue
        # produce: a token on every edge the execution takes (or on its end place)
        if status == "COMPLETED" and any(last_start.get(t, -1) > rank for _, t in node.loops):
            # an iteration that loops back does not also leave the loop: its exit
            # edges are taken by the last iteration only
            for place, target in node.loops:
                if last_start.get(target, -1) > rank:
                    marking[place] += 1
                    produced += 1
            continue
        taken = node.taken.get(status, ())  # other statuses take none (see _takes)
        for place in taken:
            marking[place] += 1
        produced += len(taken)
        took_any = bool(taken)
        for place, target, error in node.conditional:
            if (status in _FAILED if error else status == "COMPLETED") and last_start.get(
                target, -1
            ) > rank:
                marking[place] += 1
                produced += 1
                took_any = True
        if not took_any and status == "COMPLETED":
            marking[node.end] += 1
            produced += 1

    # -- the final marking
    stopped = result.status != "COMPLETED"
    withdrawn: list[str] = []
    places = net.places
    for number in compress(range(len(marking)), marking):  # its marked places, in order
        count = marking[number]
        kind, index, node_id = places[number]
        if kind == "end":
            consumed += count
            continue
        if stopped and node_id not in ran:
            withdrawn.append(node_id)  # the run ended first; the engine skips these
            continue
        remaining += count
        if node_id in ran:
            continue  # it ran, too early: already reported as an order violation
        how = " (recorded as SKIPPED)" if node_id in skipped else ""
        source = "the start" if kind == "start" else workflow.edges[index].source
        deviations.append(
            Deviation(
                "not_run", node_id, f"{node_id} should have run after {source} but did not{how}"
            )
        )
    if withdrawn:
        names = ", ".join(sorted(set(withdrawn)))
        result.warnings.append(f"the run is {result.status}; not started when it ended: {names}")
    result.produced = produced
    result.consumed = consumed
    result.missing = missing
    result.remaining = remaining
    return result


def _check_retries(
    workflow: Workflow,
    node_id: str,
    group: list[int],
    statuses: Sequence[str],
    code_of: Callable[[int], str | None],
    deviations: list[Deviation],
) -> None:
    """Deviations of an execution of several attempts (node records ``group``) that its
    retry policy does not explain."""
    policy = workflow.node(node_id).retry or workflow.retry
    n = len(group)
    if policy is None:
        message = f"{node_id} made {n} attempts but has no retry policy"
        deviations.append(Deviation("unexplained_retry", node_id, message))
        return
    if n > policy.max_attempts:
        message = f"{node_id} made {n} attempts; its policy allows {policy.max_attempts}"
        deviations.append(Deviation("unexplained_retry", node_id, message))
    for i in group[:-1]:
        code = code_of(i)
        if statuses[i] in _FAILED and not policy.retries(code):
            message = f"{node_id} retried error {code!r}, which is not in retryable_errors"
            deviations.append(Deviation("unexplained_retry", node_id, message))
            break


def _plain_code(error: dict[str, Any] | None) -> str | None:
    """The code of a written node record's ``error`` as ``ErrorInfo.code`` holds it."""
    if error is None:
        return None
    code = error.get("code")
    return None if code is None else str(code)


def replay(
    workflow: Workflow, record: RunRecord | PlainRecord, name: str = "record"
) -> ConformanceResult:
    """Replay one record on a workflow and report fitness and deviations.

    A :class:`PlainRecord` is replayed from its node records as written (no
    ``NodeRecord`` built; timestamps ranked, not parsed), with the same result as
    its :meth:`~PlainRecord.record`.
    """
    if isinstance(record, PlainRecord):
        head = record.head
        nodes = record.nodes
        if nodes is not None:
            result = ConformanceResult(name, head.run_id, head.workflow_id, head.status)
            # only the moments' order matters: ranks (no timestamp parsed when all are
            # written alike), a start that is no moment (None) sorting last, as +inf
            rank = record_ranks(nodes).__getitem__
            ranks = list(map(rank, map(_STARTED_AT, nodes)))
            starts: list[float] = (
                [_INF if s is None else s for s in ranks]
                if None in ranks
                else cast("list[float]", ranks)
            )
            ends = list(map(rank, map(dict.get, nodes, repeat("ended_at"))))
            _replay(
                workflow,
                result,
                list(map(_NODE_ID, nodes)),
                list(map(_STATUS, nodes)),
                list(map(_ATTEMPT, nodes)),
                list(map(dict.get, nodes, repeat("iteration"))),
                starts,
                ends,
                lambda i: _plain_code(nodes[i].get("error")),
            )
            return _other_workflow(workflow, head, result)
        record = head
    result = ConformanceResult(name, record.run_id, record.workflow_id, record.status)
    node_records = record.node_records
    starts_at = [timestamp(r.started_at) for r in node_records]
    codes = [None if r.error is None else r.error.code for r in node_records]
    _replay(
        workflow,
        result,
        [r.node_id for r in node_records],
        [r.status for r in node_records],
        [r.attempt for r in node_records],
        [r.iteration for r in node_records],
        [_INF if s is None else s for s in starts_at],
        [timestamp(r.ended_at) for r in node_records],
        codes.__getitem__,
    )
    return _other_workflow(workflow, record, result)


def _other_workflow(
    workflow: Workflow, record: RunRecord, result: ConformanceResult
) -> ConformanceResult:
    if record.workflow_id and workflow.id and record.workflow_id != workflow.id:
        result.warnings.insert(
            0, f"the record is of workflow {record.workflow_id!r}, not {workflow.id!r}"
        )
    return result


#: Distinct runs a :class:`Replayer` remembers (a bound: memory stays flat).
VARIANTS_KEPT = 4096


class Replayer:
    """:func:`replay` over many records of one workflow, each *variant* replayed once.

    A replay looks at each node record's id, status, attempt, iteration and error
    code, at the run's status and workflow id — and at its timestamps only to put
    them in order and to compare them.  Two records alike in all of that, with
    timestamps in the same order (ties included), replay the same way: the second
    gets the first one's result under its own name and run id (its deviation and
    warning lists shared with the first one's: results are read, never changed).  Runs of one process
    repeat a few paths (PM4Py replays each variant once for the same reason), so
    10,000 records cost a few hundred replays.
    """

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._results: dict[object, ConformanceResult] = {}

    def replay(self, plain: PlainRecord, name: str) -> ConformanceResult:
        key = _variant(plain)
        known = self._results.get(key) if key is not None else None
        if known is None:
            return self._replay(plain, name, key)
        # The workflow id and status are equal to the record's (both are in the
        # variant): the known texts are kept, not one copy of each per record.
        return known.of_record(name, plain.head.run_id)

    def outcome(self, plain: PlainRecord, name: str) -> ConformanceResult:
        """:meth:`replay`, but a known variant's result as it is — with the name and run
        id of the first record of the variant: :meth:`ConformanceResults.add` takes it
        with the record's own name and run id, no result built per record."""
        key = _variant(plain)
        known = self._results.get(key) if key is not None else None
        return self._replay(plain, name, key) if known is None else known

    def _replay(self, plain: PlainRecord, name: str, key: object | None) -> ConformanceResult:
        result = replay(self.workflow, plain, name)
        if key is not None and len(self._results) < VARIANTS_KEPT:
            self._results[key] = result
        return result


def _variant(plain: PlainRecord) -> object | None:
    """What :func:`replay` depends on, timestamps as their rank (None: not plain data).

    Column by column (each a C loop over the node records): the same facts as one
    tuple per node record, and as many of them, so two keys are equal exactly when
    those tuples would be.  Every column has one entry a node record (the ranks two:
    all starts, then all ends), so none can slide into another.  Texts read from the
    record are hashed once a record — the key is looked up in a dict: the node ids and
    statuses as one text (``"\\0"`` between them; when an id holds a ``"\\0"``, as a
    tuple, never equal to a text), the ranks as one text
    (:func:`~osop.analysis.records.record_rank_key`).  Hashing the ids and statuses one
    by one, within a tuple per node record, cost ~2.6 µs of ~19 µs a record.
    """
    nodes = plain.nodes
    if nodes is None:
        return None
    texts = [*map(_NODE_ID, nodes), *map(_STATUS, nodes)]
    names: str | tuple[str, ...] = "\0".join(texts)
    if names.count("\0") != len(texts) - 1:  # an id holds a "\0"
        names = tuple(texts)
    errors = list(map(dict.get, nodes, _ERRORS))
    head = plain.head
    return (
        head.status,
        head.workflow_id,
        names,
        tuple(map(_ATTEMPT, nodes)),
        tuple(map(dict.get, nodes, _ITERATIONS)),
        record_rank_key(nodes),
        None if errors.count(None) == len(errors) else tuple(map(_code, errors)),
    )


_NODE_ID = itemgetter("node_id")
_STARTED_AT = itemgetter("started_at")
_STATUS = itemgetter("status")
_ATTEMPT = itemgetter("attempt")
_ITERATIONS = repeat("iteration")  # endless: map() stops with the node records
_ERRORS = repeat("error")


def _code(error: dict[str, Any] | None) -> object:
    """The error code as :class:`~osop.record.model.ErrorInfo` holds it (present or not)."""
    if error is None:
        return False
    code = error.get("code")
    return None if code is None else str(code)
