"""The state of a run, rebuilt from its journal entry by entry.

The engine appends an entry and then applies it here (never the reverse), so
the state after a crash is exactly what replaying the journal produces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from osop.engine.entries import (
    Answer,
    Approved,
    CancelRequest,
    Child,
    Compensate,
    Consumed,
    Decide,
    Done,
    End,
    Entry,
    Event,
    Failing,
    Finished,
    Interrupted,
    Items,
    Paused,
    Proc,
    Ready,
    Recovered,
    Report,
    Resumed,
    Run,
    RunWarning,
    Skip,
    Start,
    Wait,
    _Decisions,
    entry_from_dict,
)
from osop.engine.graph import Slot

__all__ = ["FINAL_STATUSES", "NodeState", "RunState"]

FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "SKIPPED", "CANCELLED"})


@dataclass(slots=True)
class NodeState:
    status: str = "PENDING"
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    #: Attempt number of the latest attempt (per iteration).
    attempt: int = 0
    #: Failed/timed-out attempts in the current iteration (what the retry budget counts).
    failures: int = 0
    iteration: int | None = None
    #: Iterations of a for-each / while loop on this node already finished.
    iterations_done: int = 0
    duration_ms: float | None = None
    #: Whether the latest failed attempt may be retried (a NodeFailure can say no).
    retryable: bool = True


def _key(node_id: str, attempt: int, iteration: int | None) -> str | tuple[str, int, int | None]:
    """An attempt's key in ``RunState._record_index``: the usual one (a first
    attempt, in no loop) is keyed by its node's id alone, the others by
    ``(node, attempt, iteration)`` — a tuple per attempt was 64 B/node of a
    finished run's state (tracemalloc, a 20k chain)."""
    if attempt == 1 and iteration is None:
        return node_id
    return (node_id, attempt, iteration)


def _slot(value: Any) -> Slot:
    if type(value) is tuple:  # a slot the core decided: already (edge, target)
        return value
    return (int(value[0]), str(value[1]))


class RunState:
    """Everything the scheduler knows; mutated only through :meth:`apply`."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.nodes: dict[str, NodeState] = {}
        self.decisions: dict[Slot, bool] = {}
        #: Exit decisions held until their loop ends (slot → taken).
        self.deferred: dict[int, dict[Slot, bool]] = {}
        #: Attempt records in the order they started; key → index.
        self.records: list[dict[str, Any]] = []
        #: An attempt's :func:`_key` → its index in ``records``.
        self._record_index: dict[str | tuple[str, int, int | None], int] = {}
        self.waits: dict[str, dict[str, Any]] = {}
        self.edge_waits: dict[Slot, dict[str, Any]] = {}
        self.loop_counts: dict[int, int] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        #: node → what its current answer already approved (see ``approval.subject_of``):
        #: one approval covers one command, not every ``for_each`` item or retry.
        self.approved_subjects: dict[str, str] = {}
        self.events: list[dict[str, Any]] = []
        #: node → the report its guided caller gave for the attempt handed out
        #: (``osop log``); taken in when that attempt ends.
        self.reports: dict[str, dict[str, Any]] = {}
        self.inbox_seen: set[str] = set()
        self.completion_order: list[str] = []
        self.compensations_done: set[tuple[str, str]] = set()
        self.failure: dict[str, Any] | None = None
        self.status = "PENDING"
        self.finished: dict[str, Any] | None = None
        self.paused: dict[str, Any] | None = None
        self.active_ms = 0.0
        self.children: dict[str, str] = {}
        #: node → child run started by its current attempt and not yet recorded as ended.
        self.open_children: dict[str, str] = {}
        #: (node, attempt, iteration) → the child processes that attempt started.
        self.processes: dict[tuple[str, int, int | None], list[dict[str, Any]]] = {}
        self.messages: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.seq = 0
        self.resumes = 0

    def node(self, node_id: str) -> NodeState:
        state = self.nodes.get(node_id)
        if state is None:
            state = self.nodes[node_id] = NodeState()
        return state

    # -- replay -----------------------------------------------------------------

    def apply(self, entry: Entry | dict[str, Any]) -> None:
        """Take one transition in: a typed entry, or a journal line (read back on resume)."""
        if isinstance(entry, dict):
            typed = entry_from_dict(entry)
            if typed is None:  # a kind this version does not know: nothing to change
                self.seq = int(entry.get("seq", self.seq))
                return
            entry = typed
        if entry.JOURNALED:
            if entry.seq is None:
                self.seq += 1
                entry.seq = self.seq
            else:
                self.seq = entry.seq
        _HANDLERS[type(entry)](self, entry)

    def _on_run(self, e: Run) -> None:
        self.meta = dict(e.meta)
        if e.plain_inputs is not None:
            # Kept unredacted in memory (nodes need them); the journal has the masked copy.
            self.meta["inputs"] = e.plain_inputs
        self.status = "RUNNING"

    def _on_resumed(self, e: Resumed) -> None:
        self.status = "RUNNING"
        self.paused = None
        self.resumes += 1

    def _on_start(self, e: Start) -> None:
        nid = e.node
        st = self.nodes.get(nid) or self.node(nid)
        st.status = "RUNNING"
        st.attempt = int(e.attempt)
        st.iteration = e.iteration
        self.waits.pop(nid, None)
        key = _key(nid, st.attempt, st.iteration)
        record: dict[str, Any] = {
            "node_id": nid,
            "node_type": e.node_type or "",
            "attempt": st.attempt,
            "status": "RUNNING",
            "started_at": e.at,
        }
        if st.iteration is not None:
            record["iteration"] = st.iteration
        if e.inputs:
            record["inputs"] = e.inputs
        if e.classification:
            record["x-classification"] = e.classification
        index = self._record_index.get(key)
        if index is not None:  # a wait being retried: same attempt, same record
            existing = self.records[index]
            if existing.get("status") == "WAITING":
                # The attempt began when the wait did, not when the answer was taken in.
                record["started_at"] = existing["started_at"]
            existing.update(record)
        else:
            self._record_index[key] = len(self.records)
            self.records.append(record)

    def _on_wait(self, e: Wait) -> None:
        nid = e.node
        st = self.node(nid)
        st.status = "WAITING"
        self.waits[nid] = {
            "kind": e.kind,
            "name": e.name,
            "prompt": e.prompt,
            "attempt": e.attempt,
            "iteration": e.iteration,
            "at": e.at,
            "details": e.details,
        }
        index = self._record_index.get(_key(nid, int(e.attempt), e.iteration))
        if index is not None:
            self.records[index]["status"] = "WAITING"
            self.records[index]["x-waiting-for"] = {
                "kind": e.kind,
                "name": e.name,
                **({"prompt": e.prompt} if e.prompt else {}),
            }

    def _on_end(self, e: End) -> None:
        """One attempt ended; with ``done`` folded in, its node ended too."""
        self._end_attempt(e)
        if e.done is not None:
            self._on_done(e.done)

    def _end_attempt(self, e: End) -> None:
        """One attempt ended (the node itself may retry or loop: see ``done``)."""
        nid = e.node
        st = self.nodes.get(nid) or self.node(nid)
        status = str(e.status)
        index = self._record_index.get(_key(nid, int(e.attempt), e.iteration))
        if index is not None:
            record = self.records[index]
            record.pop("x-waiting-for", None)
            record["status"] = status
            # Field by field (not a loop of getattr: this runs for every attempt).
            if e.ended_at is not None:
                record["ended_at"] = e.ended_at
            if e.duration_ms is not None:
                record["duration_ms"] = e.duration_ms
            if e.outputs is not None:
                record["outputs"] = e.outputs
            if e.error is not None:
                record["error"] = e.error
            if e.ai_metadata is not None:
                record["ai_metadata"] = e.ai_metadata
            if e.human_metadata:
                record["human_metadata"] = e.human_metadata
            if e.tools_used:
                record["tools_used"] = e.tools_used
            if e.cost_usd:
                record["cost_usd"] = e.cost_usd
            if e.child_run_id:
                record["child_run_id"] = e.child_run_id
            for child in e.children or ():  # a multi-agent node's agents
                self.records.append({**child, "x-parent_node": nid})
        self.reports.pop(nid, None)
        if e.iteration_done:
            st.iterations_done = int(e.iteration_done)
            st.failures = 0
            st.attempt = 0
            return
        if status in ("FAILED", "TIMED_OUT"):
            st.failures += 1
            st.error = e.error
            st.retryable = e.retryable is not False
        if e.outputs is not None and status == "COMPLETED":
            # The record's dict, shared: neither is changed in place (one copy per node).
            st.outputs = e.outputs
        if e.child_run_id:
            self.children[nid] = str(e.child_run_id)
            if self.open_children.get(nid) == e.child_run_id:
                del self.open_children[nid]
        st.duration_ms = e.duration_ms
        st.status = "RUNNING"

    def _on_done(self, e: Done) -> None:
        """A node reached its final status; its outgoing decisions come with it."""
        nid = e.node
        st = self.nodes.get(nid) or self.node(nid)
        st.status = str(e.status)
        if e.error is not None:
            st.error = e.error
        self.waits.pop(nid, None)
        self.reports.pop(nid, None)
        index = self._record_index.get(_key(nid, st.attempt, st.iteration))
        if index is not None and self.records[index]["status"] in ("WAITING", "RUNNING"):
            record = self.records[index]  # closed while waiting (cancel, failure elsewhere)
            record.pop("x-waiting-for", None)
            record["status"] = st.status
            record["ended_at"] = e.at
            if e.error is not None:
                record["error"] = e.error
        if e.compensation:
            self.compensations_done.add((str(e.for_), nid))
        elif st.status == "COMPLETED":
            self.completion_order.append(nid)
        if e.unhandled and self.failure is None:
            self.failure = {"node": e.node, "status": e.status, "error": e.error, "at": e.at}
        for message in e.messages or ():
            self.messages.append(dict(message))
        self._decide(e)
        if e.loop:
            self._go_round(e.loop)

    def last_record(self, node_id: str) -> dict[str, Any] | None:
        """The record of the node's latest attempt (in its current iteration)."""
        st = self.node(node_id)
        index = self._record_index.get(_key(node_id, st.attempt, st.iteration))
        return self.records[index] if index is not None else None

    def waiting(self, run_id: str) -> list[dict[str, Any]]:
        """What the run waits for; a waiting child run's own waits are listed instead,
        each with the node it is reached ``via`` (one answer for every host)."""
        out: list[dict[str, Any]] = []
        for nid, wait in self.waits.items():
            if wait.get("kind") == "child" and wait.get("details"):
                out.extend({**d, "via": nid} for d in wait["details"])
                continue
            out.append(
                {
                    "node": nid,
                    "kind": wait.get("kind"),
                    "name": wait.get("name"),
                    "prompt": wait.get("prompt"),
                    "run_id": run_id,
                }
            )
        for slot, wait in self.edge_waits.items():
            out.append(
                {"node": slot[1], "kind": "event", "name": wait.get("name"), "run_id": run_id}
            )
        return out

    def running_attempt(self, node_id: str) -> tuple[int, int | None] | None:
        """The attempt of ``node_id`` whose record is still RUNNING (a crash hit it)."""
        st = self.node(node_id)
        index = self._record_index.get(_key(node_id, st.attempt, st.iteration))
        if index is not None and self.records[index]["status"] == "RUNNING":
            return st.attempt, st.iteration
        return None

    def _on_interrupted(self, e: Interrupted) -> None:
        """A RUNNING attempt found at resume: recorded as cancelled, to be re-run."""
        nid = e.node
        st = self.node(nid)
        index = self._record_index.get(_key(nid, int(e.attempt), e.iteration))
        if index is not None:
            self.records[index]["status"] = "CANCELLED"
            self.records[index]["ended_at"] = e.at
            error: dict[str, Any] = {
                "code": "INTERRUPTED",
                "message": "the run stopped while this attempt was running; it was run again",
            }
            stopped = e.processes or []
            if stopped:
                said = "; ".join(str(p.get("message")) for p in stopped)
                error["message"] = (
                    "the run stopped while this attempt was running; " + said + "; it was run again"
                )
                error["details"] = {"processes": stopped}
            self.records[index]["error"] = error
        st.status = "PENDING"

    def _on_proc(self, e: Proc) -> None:
        """A child process of an attempt is about to run (journaled before it may)."""
        key = (str(e.node), int(e.attempt), e.iteration)
        info = {"pgid": e.pgid, "started": e.started, "boot_id": e.boot_id, "token": e.token}
        self.processes.setdefault(key, []).append(info)

    def attempt_processes(self, node_id: str, attempt: int, iteration: int | None) -> list[Any]:
        """The child processes journaled for one attempt (pgid, start time, boot, token)."""
        return list(self.processes.get((node_id, attempt, iteration), ()))

    def _on_recovered(self, e: Recovered) -> None:
        self._warn(e.message)

    def _on_child(self, e: Child) -> None:
        self.open_children[str(e.node)] = str(e.run_id)

    def _on_skip(self, e: Skip) -> None:
        nid = e.node
        st = self.node(nid)
        st.status = "SKIPPED"
        key = _key(nid, 0, e.iteration)
        record: dict[str, Any] = {
            "node_id": nid,
            "node_type": e.node_type or "",
            "attempt": 1,
            "status": "SKIPPED",
            "started_at": e.at,
        }
        if e.iteration is not None:
            record["iteration"] = e.iteration
        if key in self._record_index:
            self.records[self._record_index[key]] = record
        else:
            self._record_index[key] = len(self.records)
            self.records.append(record)
        self._decide(e)

    def _on_decide(self, e: Decide) -> None:
        self._decide(e)

    def _decide(self, e: _Decisions) -> None:
        for raw in e.taken or ():
            self.decisions[_slot(raw)] = True
        for raw in e.not_ or ():
            self.decisions[_slot(raw)] = False
        for raw in e.held or ():
            loop, slot, taken = int(raw[0]), _slot(raw[1]), bool(raw[2])
            self.deferred.setdefault(loop, {})[slot] = taken
        for pos in e.released or ():
            self.deferred.pop(int(pos), None)
        for raw in e.waiting or ():
            self.edge_waits[_slot(raw[0])] = dict(raw[1])
        if self.edge_waits:
            for raw in [*(e.taken or ()), *(e.not_ or ())]:
                self.edge_waits.pop(_slot(raw), None)

    def _go_round(self, e: dict[str, Any]) -> None:
        edge = int(e["edge"])
        self.loop_counts[edge] = int(e["iteration"])
        for nid in e.get("body", ()):
            # A new round asks again: an answer covers one iteration of a loop body.
            self.answers.pop(nid, None)
            self.reports.pop(nid, None)
            self.approved_subjects.pop(nid, None)
            self.items.pop(nid, None)  # forward loops inside the body start over
            st = self.node(nid)
            st.status = "PENDING"
            st.attempt = 0
            st.failures = 0
            st.iterations_done = 0
            # Unique per node, also when loops nest: a node's n-th pass is iteration n.
            st.iteration = (st.iteration or 1) + 1
        for pos in e.get("inner", ()):  # nested loops start counting again
            self.loop_counts.pop(int(pos), None)
            self.deferred.pop(int(pos), None)
        for raw in e.get("reset", ()):
            self.decisions.pop(_slot(raw), None)
        target = e.get("target")
        if target:
            self.node(target).status = "READY"

    def _on_items(self, e: Items) -> None:
        self.items[e.node] = {
            "edge": e.edge,
            "items": e.items,
            "var": e.var,
            "when": e.when,
            "max": e.max,
            "base": e.base,
        }

    def _on_answer(self, e: Answer) -> None:
        answer = dict(e.plain if e.plain is not None else e.answer or {})
        if e.at and not isinstance(answer.get("answered_at"), str):
            answer["answered_at"] = e.at  # taken in now: the latest it can have arrived
        self.answers[str(e.node)] = answer
        self.approved_subjects.pop(str(e.node), None)  # a fresh answer, for what waits now
        if e.inbox:
            self.inbox_seen.add(str(e.inbox))

    def _on_report(self, e: Report) -> None:
        """A guided run's caller reported the step it was handed (``osop log``)."""
        self.reports[str(e.node)] = dict(e.report or {})

    def _on_approved(self, e: Approved) -> None:
        self.approved_subjects[str(e.node)] = str(e.subject or "")

    def _on_event(self, e: Event) -> None:
        self.events.append({"id": e.id, "name": e.name, "data": e.data, "used": False})
        if e.inbox:
            self.inbox_seen.add(str(e.inbox))

    def _on_consumed(self, e: Consumed) -> None:
        for event in self.events:
            if event["id"] == e.id:
                event["used"] = True

    def _on_cancel_request(self, e: CancelRequest) -> None:
        if e.inbox:
            self.inbox_seen.add(str(e.inbox))

    def _on_warning(self, e: RunWarning) -> None:
        self._warn(e.message)

    def _warn(self, message: str | None) -> None:
        if len(self.warnings) < 100:  # a rehearsal of a huge graph must not bloat the record
            self.warnings.append(str(message))

    def _on_failing(self, e: Failing) -> None:
        if self.failure is None:
            self.failure = {"node": e.node, "status": e.status, "error": e.error, "at": e.at}

    def _on_compensate(self, e: Compensate) -> None:
        nid = str(e.node)
        st = self.node(nid)
        st.attempt = max(st.attempt, self._last_attempt(nid))
        st.failures = 0
        st.status = "READY"
        # A compensation runs once, outside any loop it may sit in.
        st.iteration = None
        self.items.pop(nid, None)

    def _last_attempt(self, node_id: str) -> int:
        last = 0
        for key in self._record_index:
            if key == node_id:  # its first attempt, in no loop (see _key)
                last = max(last, 1)
            elif type(key) is tuple and key[0] == node_id and key[2] is None:
                last = max(last, key[1])
        return last

    def _on_paused(self, e: Paused) -> None:
        self.paused = {"at": e.at, "waiting": e.waiting, "active_ms": e.active_ms}
        if e.active_ms is not None:
            self.active_ms = float(e.active_ms)

    def _on_finished(self, e: Finished) -> None:
        self.status = str(e.status)
        self.finished = {
            k: v
            for k, v in (
                ("status", e.status),
                ("at", e.at),
                ("active_ms", e.active_ms),
                ("by", e.by),
            )
            if v is not None
        }
        self.paused = None

    def _on_ready(self, e: Ready) -> None:
        self.mark_ready(e.node)

    def mark_ready(self, node_id: str) -> None:
        """What a ``ready`` entry does; the core calls it directly (never journaled)."""
        (self.nodes.get(node_id) or self.node(node_id)).status = "READY"

    # -- queries ----------------------------------------------------------------

    def is_final(self, node_id: str) -> bool:
        return self.node(node_id).status in FINAL_STATUSES


_HANDLERS: dict[type[Entry], Callable[[RunState, Any], None]] = {
    Run: RunState._on_run,
    Resumed: RunState._on_resumed,
    Recovered: RunState._on_recovered,
    Start: RunState._on_start,
    Wait: RunState._on_wait,
    End: RunState._on_end,
    Done: RunState._on_done,
    Interrupted: RunState._on_interrupted,
    Proc: RunState._on_proc,
    Child: RunState._on_child,
    Skip: RunState._on_skip,
    Decide: RunState._on_decide,
    Items: RunState._on_items,
    Answer: RunState._on_answer,
    Report: RunState._on_report,
    Approved: RunState._on_approved,
    Event: RunState._on_event,
    Consumed: RunState._on_consumed,
    CancelRequest: RunState._on_cancel_request,
    RunWarning: RunState._on_warning,
    Failing: RunState._on_failing,
    Compensate: RunState._on_compensate,
    Paused: RunState._on_paused,
    Finished: RunState._on_finished,
    Ready: RunState._on_ready,
}
