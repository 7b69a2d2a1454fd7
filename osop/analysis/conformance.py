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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, Literal, overload

from osop.analysis.packed import PackedRows
from osop.analysis.records import (
    NodeExecution,
    PlainRecord,
    executions_of,
    record_rank_key,
    timestamp,
)
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


def _start(execution: NodeExecution) -> float:
    moment = timestamp(execution.started_at)
    return moment if moment is not None else float("inf")


def _end(execution: NodeExecution) -> float:
    moment = timestamp(execution.ended_at)
    return moment if moment is not None else _start(execution)


def _takes(edge: Edge, status: str) -> bool:
    """Whether an unconditional edge is taken given its source's final status."""
    if edge.mode == "fallback":
        return status in _FAILED
    if edge.mode == "timeout":
        return status == "TIMED_OUT"
    return status == "COMPLETED"


class _Replay:
    def __init__(self, workflow: Workflow, record: RunRecord, name: str) -> None:
        self.wf = workflow
        self.result = ConformanceResult(name, record.run_id, record.workflow_id, record.status)
        self.marking: Counter[Place] = Counter()
        every = executions_of(record)
        executions = [e for e in every if e.status != "SKIPPED"]
        self.executions = sorted(enumerate(executions), key=lambda pair: (_start(pair[1]), pair[0]))
        self.by_node: dict[str, list[NodeExecution]] = {}
        for _, e in self.executions:
            self.by_node.setdefault(e.node_id, []).append(e)
        self.skipped = {e.node_id for e in every if e.status == "SKIPPED"} - set(self.by_node)
        self.entry = {n.id for n in workflow.entry_nodes()}
        self.expected = self._expected_edges()
        self.events = self._events()
        #: position of each execution's start event in :attr:`events` (by ``id``)
        self.start_rank = {id(e): rank for rank, (start, e) in enumerate(self.events) if start}

    # -- helpers -------------------------------------------------------------------------

    def _events(self) -> list[tuple[bool, NodeExecution]]:
        """Starts and ends in the order they happened: ``(is_start, execution)``.

        A node consumes when it starts and produces when it ends; at equal times an
        end comes first, so a step may start the instant its predecessor ends.  An
        execution that took no time (timestamps have millisecond resolution; simulated
        steps are instant) starts and ends together, in record order, so a chain of
        instant steps replays as the chain it was.
        """
        keyed: list[tuple[tuple[float, int, int, int], bool, NodeExecution]] = []
        for order, execution in self.executions:
            start = _start(execution)
            end = max(_end(execution), start)
            keyed.append(((start, 1, order, 0), True, execution))
            keyed.append(
                ((end, 1, order, 1) if end == start else (end, 0, order, 0), False, execution)
            )
        keyed.sort(key=lambda event: event[0])
        return [(is_start, execution) for _, is_start, execution in keyed]

    def deviate(self, kind: DeviationKind, node_id: str, message: str) -> None:
        self.result.deviations.append(Deviation(kind, node_id, message))

    def runs_after(self, node_id: str, rank: int) -> bool:
        """Whether ``node_id`` starts after the event at ``rank`` (an end)."""
        return any(self.start_rank[id(e)] > rank for e in self.by_node.get(node_id, ()))

    def ends_after(self, node_id: str, moment: float) -> bool:
        return any(_end(e) > moment for e in self.by_node.get(node_id, ()))

    def source_takes(self, edge: Edge) -> bool:
        return any(_takes(edge, e.status) for e in self.by_node.get(edge.source, ()))

    def _expected_edges(self) -> set[int]:
        """Unconditional edges that should be taken in this run (a fixpoint).

        An edge is expected when its source ran and ended in a status that takes
        it, or when its source did not run but should have (an entry node, or the
        target of an expected edge).  A join waits for exactly these edges, so a
        branch of a parallel split that never ran is a missing token at the join,
        while a branch a condition did not choose is not.
        """
        should_run = {n for n in self.entry if n not in self.by_node}
        expected: set[int] = set()
        changed = True
        while changed:
            changed = False
            for edge in self.wf.edges:
                if edge.index in expected or edge.mode not in _UNCONDITIONAL:
                    continue
                if edge.source in self.by_node:
                    ok = self.source_takes(edge)
                else:
                    ok = edge.source in should_run and edge.mode not in ("fallback", "timeout")
                if not ok:
                    continue
                expected.add(edge.index)
                changed = True
                should_run.update(t for t in edge.targets if t not in self.by_node)
        return expected

    def inputs_of(self, node_id: str) -> list[tuple[Place, Edge | None]]:
        places: list[tuple[Place, Edge | None]] = []
        if node_id in self.entry:
            places.append((("start", -1, node_id), None))
        for edge in self.wf.incoming(node_id):
            places.append((("edge", edge.index, node_id), edge))
        return places

    # -- firing --------------------------------------------------------------------------

    def consume(self, execution: NodeExecution) -> None:
        res = self.result
        node_id = execution.node_id
        inputs = self.inputs_of(node_id)
        required: list[tuple[Place, Edge | None]] = []
        if execution.occurrence == 1:
            for place, edge in inputs:
                if edge is None or edge.index in self.expected:
                    required.append((place, edge))
            join = next((e.join_mode for _, e in inputs if e is not None and e.join_mode), None)
            if join in ("wait_any", "wait_n") and required:
                need = 1 if join == "wait_any" else max(1, min(len(required), _join_count(inputs)))
                marked = [r for r in required if self.marking[r[0]] > 0]
                required = (marked + [r for r in required if r not in marked])[:need]
        took = 0
        absent: list[Edge] = []
        for place, edge in required:
            if self.marking[place] > 0:
                self.marking[place] -= 1
                took += 1
            else:
                res.missing += 1
                if edge is not None:
                    absent.append(edge)
            res.consumed += 1
        for place, edge in inputs:
            if (place, edge) in required:
                continue
            if self.marking[place] > 0 and (edge is None or edge.mode != "loop" or not took):
                self.marking[place] -= 1
                res.consumed += 1
                took += 1
        if not required and not took:
            res.missing += 1
            res.consumed += 1
            sources = sorted({e.source for _, e in inputs if e is not None})
            ran = [s for s in sources if s in self.by_node]
            if not sources:
                why = "it is not an entry node and nothing leads to it"
            elif ran:
                why = f"no incoming edge was taken (from {', '.join(ran)})"
            else:
                why = f"none of its predecessors ran ({', '.join(sources)})"
            self.deviate("unexpected", node_id, f"{node_id} ran but should not have: {why}")
        start = _start(execution)
        late = [e for e in absent if self.ends_after(e.source, start)]
        for edge in absent:
            if edge in late and took:
                self.deviate(
                    "early_join",
                    node_id,
                    f"{node_id} started before its branch {edge.source} finished",
                )
            elif edge in late:
                self.deviate(
                    "order_violation",
                    node_id,
                    f"{node_id} ran before {edge.source} ({edge.mode} edge {edge.source} -> "
                    f"{node_id})",
                )
            else:
                self.deviate(
                    "order_violation",
                    node_id,
                    f"{node_id} ran although {edge.source}, which must come first, never did",
                )

    def produce(self, execution: NodeExecution, rank: int) -> None:
        res = self.result
        node_id = execution.node_id
        status = execution.status
        outgoing = self.wf.outgoing(node_id)
        # An iteration that loops back does not also leave the loop: its exit edges
        # are taken by the last iteration only.
        loops_back = status == "COMPLETED" and any(
            e.mode == "loop" and self.runs_after(e.target, rank) for e in outgoing
        )
        took_any = False
        for edge in outgoing:
            for target in edge.targets:
                if loops_back and edge.mode != "loop":
                    continue
                if edge.mode in _UNCONDITIONAL:
                    taken = _takes(edge, status)
                else:
                    taken = (status == "COMPLETED" or edge.mode == "error") and self.runs_after(
                        target, rank
                    )
                    if edge.mode == "error":
                        taken = taken and status in _FAILED
                if taken:
                    self.marking[("edge", edge.index, target)] += 1
                    res.produced += 1
                    took_any = True
        if not took_any and status == "COMPLETED":
            self.marking[("end", -1, node_id)] += 1
            res.produced += 1

    def check_retries(self, execution: NodeExecution) -> None:
        if execution.retries == 0:
            return
        node = self.wf.node(execution.node_id)
        policy = node.retry or self.wf.retry
        n = len(execution.attempts)
        if policy is None:
            self.deviate(
                "unexplained_retry",
                node.id,
                f"{node.id} made {n} attempts but has no retry policy",
            )
            return
        if n > policy.max_attempts:
            self.deviate(
                "unexplained_retry",
                node.id,
                f"{node.id} made {n} attempts; its policy allows {policy.max_attempts}",
            )
        for attempt in execution.attempts[:-1]:
            code = attempt.error.code if attempt.error else None
            if attempt.status in _FAILED and not policy.retries(code):
                self.deviate(
                    "unexplained_retry",
                    node.id,
                    f"{node.id} retried error {code!r}, which is not in retryable_errors",
                )
                break

    def run(self) -> ConformanceResult:
        res = self.result
        for node_id in sorted(self.entry):
            self.marking[("start", -1, node_id)] += 1
            res.produced += 1
        for rank, (is_start, execution) in enumerate(self.events):
            if not self.wf.has_node(execution.node_id):
                if is_start:
                    res.missing += 1
                    res.consumed += 1
                    self.deviate(
                        "not_in_workflow",
                        execution.node_id,
                        f"{execution.node_id} ran but is not a node of the workflow",
                    )
                continue
            if is_start:
                self.consume(execution)
                self.check_retries(execution)
            else:
                self.produce(execution, rank)
        stopped = res.status != "COMPLETED"
        withdrawn: list[str] = []
        for place, count in sorted(self.marking.items()):
            if count <= 0:
                continue
            kind, _, node_id = place
            if kind == "end":
                res.consumed += count
                continue
            if stopped and node_id not in self.by_node:
                withdrawn.append(node_id)  # the run ended first; the engine skips these
                continue
            res.remaining += count
            if node_id in self.by_node:
                continue  # it ran, too early: already reported as an order violation
            how = " (recorded as SKIPPED)" if node_id in self.skipped else ""
            source = "the start" if kind == "start" else self.wf.edges[place[1]].source
            self.deviate(
                "not_run", node_id, f"{node_id} should have run after {source} but did not{how}"
            )
        if withdrawn:
            names = ", ".join(sorted(set(withdrawn)))
            res.warnings.append(f"the run is {res.status}; not started when it ended: {names}")
        return res


def _join_count(inputs: list[tuple[Place, Edge | None]]) -> int:
    for _, edge in inputs:
        if edge is not None and edge.join_count:
            return edge.join_count
    return 1


def replay(workflow: Workflow, record: RunRecord, name: str = "record") -> ConformanceResult:
    """Replay one record on a workflow and report fitness and deviations."""
    result = _Replay(workflow, record, name).run()
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
        result = replay(self.workflow, plain.record(), name)
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
