"""The token replay as it was written first (one object per execution, a fixpoint over
every edge): an oracle for :func:`osop.analysis.conformance.replay`, which computes the
same results from per-workflow tables. Kept verbatim apart from the imports (the edge classes are the package's own); not used
by the package."""

from __future__ import annotations

from collections import Counter

from osop.analysis.conformance import (  # the edge classes: not the replay's logic
    _FAILED,
    _UNCONDITIONAL,
    ConformanceResult,
    Deviation,
    DeviationKind,
    Place,
)
from osop.analysis.records import NodeExecution, timestamp
from osop.format.workflow import Edge, Workflow
from osop.record.model import NodeRecord, RunRecord


def _record_start(record: NodeRecord) -> float:
    moment = timestamp(record.started_at)
    return moment if moment is not None else float("inf")


def executions_of(record: RunRecord) -> list[NodeExecution]:
    ordered = sorted(
        enumerate(record.node_records), key=lambda pair: (_record_start(pair[1]), pair[0])
    )
    open_execution: dict[str, list[NodeRecord]] = {}
    groups: list[tuple[str, list[NodeRecord]]] = []
    for _, node_record in ordered:
        current = open_execution.get(node_record.node_id)
        continues = (
            current is not None
            and node_record.attempt > current[-1].attempt
            and node_record.iteration == current[-1].iteration
        )
        if continues and current is not None:
            current.append(node_record)
            continue
        fresh = [node_record]
        open_execution[node_record.node_id] = fresh
        groups.append((node_record.node_id, fresh))
    counts: dict[str, int] = {}
    out: list[NodeExecution] = []
    for node_id, attempts in groups:
        counts[node_id] = counts.get(node_id, 0) + 1
        out.append(NodeExecution(node_id, counts[node_id], tuple(attempts)))
    return out


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
