"""The scheduler: walks a workflow's graph, runs nodes, decides edges, journals everything.

One asyncio task per running node; the main loop reacts to each node's end by
deciding its outgoing slots (taken / not taken), releasing the targets whose
join is met and skipping the ones whose join can no longer be met (dead-path
elimination).  Every transition is appended to the journal before it is acted
on; :class:`~osop.engine.state.RunState` is only ever changed by applying a
journal entry, so a resumed run sees exactly what a crashed one had done.
See ``docs/semantics.md`` for each decision and its reason.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from osop.engine.clock import iso, within
from osop.engine.contracts import CONTRACT_VIOLATION, DataChecks
from osop.engine.graph import FAILURE_MODES, Slot, Topology
from osop.engine.options import DEFAULT_MAX_ITERATIONS, RunOptions
from osop.engine.state import RunState
from osop.engine.values import Redactor, classification_level
from osop.errors import (
    ClassificationError,
    ExecutionError,
    ExpressionError,
    MissingReferenceError,
    OsopError,
)
from osop.executors.approval import APPROVED_SUBJECT
from osop.executors.base import Executor, NodeContext, NodeFailure, NodeResult, WaitRequest
from osop.expr.functions import NodeFacts, osop_functions
from osop.expr.scope import Lazy, NodeOutputs, Scope, for_each_expression, make_scope
from osop.format.limits import MAX_ITERATIONS
from osop.format.workflow import Edge, Node, RetryPolicy, Workflow
from osop.record.model import parse_timestamp

__all__ = ["Engine", "Outcome"]

_APPROVED = frozenset({"approved", "approve", "yes", "y", "true", "ok", "accept", "accepted"})
_NO_RETRY = RetryPolicy()
#: How often a run with a waiting node and running branches looks for deliveries.
INBOX_POLL_SEC = 1.0
_FAILED = frozenset({"FAILED", "TIMED_OUT"})
#: Transitions fsync'd before the engine goes on: an attempt starting (its side
#: effects follow) and ending (so it is never run again); a node starting to wait
#: and an answer or event taken in (people act on those, from other processes);
#: the run's own start, pause and end.  Decisions and skips are re-derived from
#: these after a crash, so they are written without waiting for the disk.
_DURABLE = frozenset(
    {
        "run",
        "resumed",
        "start",
        "end",
        "wait",
        "answer",
        "report",
        "event",
        "child",
        "proc",
        "paused",
        "finished",
    }
)
#: Of those, the ones an attempt commits as a group (see :meth:`Journal.commit`).
_GROUP_COMMITTED = frozenset({"start", "end"})
_AUTO_APPROVAL = {"decision": "approved", "actor": "--yes"}
#: Waits a person (or the caller of a guided run) ends: the attempt's record spans
#: the wait (see ``_waited``).
_PERSON_WAITS = frozenset({"human", "approval", "caller"})
#: A guided run's step handed to its caller (see :mod:`osop.engine.guided`).
CALLER_WAIT: Final = "caller"


def _answer_is_spent(answer: Mapping[str, Any] | None) -> bool:
    return bool(answer) and APPROVED_SUBJECT in answer  # type: ignore[operator]


@dataclass
class Outcome:
    """How one node (all its attempts and iterations) ended in this session."""

    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    wait: dict[str, Any] | None = None


class _ChildWaiting(Exception):
    """Internal: a sub-workflow or spawned child run paused (it waits for someone)."""

    def __init__(self, run_id: str, waiting: list[dict[str, Any]]) -> None:
        super().__init__(run_id)
        self.run_id = run_id
        self.waiting = waiting


class _Stop(Exception):
    """Internal: the workflow deadline passed."""


class NullJournal:
    """A journal that keeps nothing (in-memory runs: sub-runs without a store, tests)."""

    def append(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        pass

    def mark(self, entry: dict[str, Any]) -> None:
        pass

    async def commit(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


class Engine:
    """Runs one workflow (a fresh run or a resumed one) until it ends or pauses."""

    def __init__(
        self,
        workflow: Workflow,
        state: RunState,
        journal: Any,
        options: RunOptions,
        *,
        run_id: str,
        redactor: Redactor,
        child_runner: Callable[..., Any] | None = None,
        on_checkpoint: Callable[[], None] | None = None,
        poll_inbox: Callable[[], bool] | None = None,
    ) -> None:
        self.wf = workflow
        self.topo = Topology.build(workflow)
        self.state = state
        self.journal = journal
        self.opt = options
        self.mode = options.mode
        self.clock = options.clock
        self.run_id = run_id
        self.redact = redactor
        #: ``outputs`` as expressions see it: each node's outputs as recorded (redacted).
        self._outputs = NodeOutputs(self._recorded_outputs, state.nodes.keys)
        self.child_runner = child_runner
        self.on_checkpoint = on_checkpoint
        #: Reads new deliveries into the journal; True when there were any.
        self.poll_inbox = poll_inbox
        self.env: Mapping[str, str] = options.env if options.env is not None else dict(os.environ)
        self.seed = int(state.meta.get("seed", options.seed or 0))
        self._edges = workflow.edges
        self._ready: deque[str] = deque()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._done: asyncio.Queue[tuple[str, Outcome]] = asyncio.Queue()
        self._stopping = False
        self._abort_status: str | None = None
        self._timeout_edges = {
            n.id: any(self._edges[s[0]].mode == "timeout" for s in self.topo.out_slots[n.id])
            for n in workflow.nodes
        }
        self._executors: dict[str, Executor] = {}
        #: Compensations run after the run failed: nothing waits for a caller then.
        self._compensating = False
        self.data_checks = DataChecks(workflow)
        #: node → the paused child run its next attempt resumes (instead of a new one).
        self._child_to_resume: dict[str, str] = {}
        #: node → when its attempt began waiting for a person (the attempt now resumed
        #: with the answer): its record spans the real wait, not this session's part.
        self._waited: dict[str, str] = {}
        self._taken: dict[str, int] = {}
        self._decided: dict[str, int] = {}
        self._data_decided: dict[str, int] = {}
        self._control = {s for slots in self.topo.control_in.values() for s in slots}
        self._data = {s for slots in self.topo.data_in.values() for s in slots}
        self._recount(list(self.topo.control_in))
        self._observers = [factory(run_id, state) for factory in options.observers]

    # -- journal ------------------------------------------------------------------

    def log(self, entry: dict[str, Any]) -> None:
        """Journal a transition, then apply it (never the other way round).

        Only the entries whose loss could repeat a side effect wait for the disk
        (see :data:`_DURABLE`); the others ride along with the next such write.
        """
        kind = entry["t"]
        for observe in self._observers:
            observe(entry)
        if kind in _GROUP_COMMITTED:
            self.journal.mark(entry)  # the attempt awaits journal.commit() before going on
        else:
            self.journal.append(entry, sync=kind in _DURABLE)
        before = (
            {s: self.state.decisions.get(s) for s in _entry_slots(entry)}
            if entry["t"] in ("done", "skip", "decide")
            else None
        )
        self.state.apply(entry)
        if before is not None:
            self._count_changes(before)
        if self.opt.progress is not None:
            self._emit(entry)

    def _emit(self, entry: dict[str, Any]) -> None:
        kind = entry["t"]
        names = {
            "start": "node_started",
            "end": "attempt_finished",
            "done": "node_finished",
            "skip": "node_skipped",
            "wait": "node_waiting",
            "paused": "run_paused",
            "finished": "run_finished",
            "run": "run_started",
            "resumed": "run_resumed",
            "compensate": "compensation_started",
        }
        if kind not in names or self.opt.progress is None:
            return
        event: dict[str, Any] = {"event": names[kind], "run_id": self.run_id}
        for key in (
            "node",
            "node_type",
            "attempt",
            "iteration",
            "status",
            "at",
            "kind",
            "name",
            "prompt",
        ):
            if entry.get(key) is not None:
                event[key] = entry[key]
        if kind == "end" and entry.get("error"):
            event["error"] = entry["error"]
        if kind == "end" and entry.get("duration_ms") is not None:
            event["duration_ms"] = entry["duration_ms"]
        if kind == "finished":
            event["status"] = entry["status"]
        try:
            self.opt.progress(event)
        except Exception:  # a broken viewer (closed pipe ...) must never break the run
            self.opt.progress = None

    def now(self) -> str:
        return iso(self.clock.now())

    # -- join bookkeeping (O(1) per decision) ---------------------------------------

    def _recount(self, node_ids: list[str]) -> None:
        decisions = self.state.decisions
        for nid in node_ids:
            slots = self.topo.control_in.get(nid, [])
            self._taken[nid] = sum(1 for s in slots if decisions.get(s) is True)
            self._decided[nid] = sum(1 for s in slots if s in decisions)
            self._data_decided[nid] = sum(
                1 for s in self.topo.data_in.get(nid, []) if s in decisions
            )

    def _count_changes(self, before: Mapping[Slot, bool | None]) -> None:
        decisions = self.state.decisions
        for slot, old in before.items():
            new = decisions.get(slot)
            if old == new:
                continue
            target = slot[1]
            if slot in self._control:
                self._decided[target] += (new is not None) - (old is not None)
                self._taken[target] += (new is True) - (old is True)
            elif slot in self._data:
                self._data_decided[target] += (new is not None) - (old is not None)

    def _join(self, nid: str) -> str | None:
        """``ready``, ``skip`` or None (not yet decided) for a PENDING node."""
        if self._data_decided[nid] < len(self.topo.data_in[nid]):
            return None
        total = len(self.topo.control_in[nid])
        if total == 0:
            if nid in self.topo.compensation_only:
                return None
            return "ready"
        taken, decided = self._taken[nid], self._decided[nid]
        rule, count = self.topo.join[nid]
        if rule == "wait_any":
            if taken >= 1:
                return "ready"
        elif rule == "wait_n":
            if taken >= count:
                return "ready"
        elif decided == total and taken >= 1:
            return "ready"
        return "skip" if decided == total else None

    def _evaluate(self, nids: list[str]) -> None:
        """Release or skip every node in ``nids`` whose join is now decided; skips propagate."""
        work = deque(nids)
        while work:
            nid = work.popleft()
            st = self.state.node(nid)
            if st.status != "PENDING":
                continue
            verdict = self._join(nid)
            if verdict == "ready":
                st.status = "READY"
                self._ready.append(nid)
            elif verdict == "skip":
                work.extend(self._skip(nid))

    def _skip(self, nid: str) -> list[str]:
        """Mark ``nid`` SKIPPED and its outgoing slots not taken; returns targets to re-check."""
        decisions: dict[str, list[Any]] = {"not": [], "held": []}
        for slot in self.topo.out_slots[nid]:
            self._place(slot, False, nid, decisions)
        st = self.state.node(nid)
        entry: dict[str, Any] = {
            "t": "skip",
            "node": nid,
            "node_type": self.wf.node(nid).type,
            "iteration": st.iteration,
            "at": self.now(),
        }
        entry.update({k: v for k, v in decisions.items() if v})
        released = self._release_loops(nid, entry)
        self.log(entry)
        return [s[1] for s in self.topo.out_slots[nid]] + released

    def _place(self, slot: Slot, taken: bool, source: str, decisions: dict[str, list[Any]]) -> None:
        """Put a decision in ``decisions``: direct, or held until the loop it leaves ends."""
        edge_pos = slot[0]
        if edge_pos in self.topo.back_edges or self._edges[edge_pos].mode == "compensation":
            return
        loop = self.topo.exit_of.get(slot)
        if loop is not None and self._edges[loop].source != source:
            decisions.setdefault("held", []).append([loop, list(slot), taken])
            return
        decisions.setdefault("taken" if taken else "not", []).append(list(slot))

    def _release_loops(self, nid: str, entry: dict[str, Any]) -> list[str]:
        """``nid`` ended without looping back: decide the exits its loops held."""
        targets: list[str] = []
        for pos in self.topo.back_edges:
            if self._edges[pos].source != nid:
                continue
            held = self.state.deferred.get(pos)
            if not held:
                continue
            for slot, taken in held.items():
                entry.setdefault("taken" if taken else "not", []).append(list(slot))
                targets.append(slot[1])
            entry.setdefault("released", []).append(pos)
        return targets

    # -- the main loop --------------------------------------------------------------

    async def run(self) -> str:
        """Schedule until nothing can progress; returns COMPLETED/FAILED/... or ``PAUSED``."""
        await self._stop_stale_processes()
        self._seed_frontier()
        deadline = self._remaining_timeout()
        try:
            if deadline is None:
                await self._loop()
            else:
                await self._loop_with_deadline(deadline)
        except asyncio.CancelledError:
            self._abort_status = "CANCELLED"
            await self._abort_running("CANCELLED")
        except _Stop:
            self._abort_status = "TIMED_OUT"
            await self._abort_running("TIMED_OUT")
        return await self._conclude()

    def _remaining_timeout(self) -> float | None:
        if self.wf.timeout_sec is None or self.mode == "dry_run":
            return None
        return max(0.0, self.wf.timeout_sec - self.state.active_ms / 1000.0)

    async def _loop_with_deadline(self, seconds: float) -> None:
        try:
            await within(self.clock, seconds, self._loop())
        except TimeoutError:
            raise _Stop from None

    async def _loop(self) -> None:
        while True:
            while self._ready and not self._stopping:
                nid = self._ready.popleft()
                if self.state.node(nid).status == "READY":
                    self._running[nid] = asyncio.ensure_future(self._node_task(nid))
            if not self._running:
                return
            if self.poll_inbox is not None and (self.state.waits or self.state.edge_waits):
                # Something waits while other branches run: answers and events
                # delivered meanwhile (`osop approve`/`signal`) are picked up live.
                try:
                    nid, outcome = await asyncio.wait_for(self._done.get(), INBOX_POLL_SEC)
                except TimeoutError:
                    if self.poll_inbox():
                        self._wake_waiting()
                    continue
            else:
                nid, outcome = await self._done.get()
            self._running.pop(nid, None)
            self._after(nid, outcome)

    def _wake_waiting(self) -> None:
        """After new deliveries: retry the waiting nodes that can now go on."""
        for nid, wait in list(self.state.waits.items()):
            kind = wait.get("kind")
            node = self.wf.node(nid)
            if kind == "child":
                continue  # the child run takes its own deliveries when resumed
            if kind in ("human", "approval"):
                ready = self._answer(node) is not None
            elif kind == CALLER_WAIT:
                ready = nid in self.state.reports
            else:
                names = {wait.get("name"), nid}
                ready = any(not e["used"] and e.get("name") in names for e in self.state.events)
            if ready and self.state.node(nid).status == "WAITING":
                self.state.node(nid).status = "READY"
                self._ready.append(nid)
        self._check_edge_waits()

    async def _node_task(self, nid: str) -> None:
        try:
            outcome = await self._execute_node(nid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or misconfiguration: recorded, never a hang
            message = f"{type(exc).__name__}: {exc}"
            outcome = Outcome("FAILED", error={"code": "ENGINE_ERROR", "message": message})
        self._done.put_nowait((nid, outcome))

    async def _stop_stale_processes(self) -> None:
        """Before re-running an interrupted attempt, make sure its processes are gone.

        A child process runs in its own process group, so it survives the engine's
        ``kill -9`` and may still be at work.  Each group the attempt journaled is
        terminated (only if provably the attempt's: see ``stop_stale_group``);
        what was found goes into the attempt's record.  A group that cannot be
        stopped stops the resume: running the step again beside it would repeat
        its side effects.
        """
        from osop.executors.process import stop_attempt_processes

        self._stale: dict[str, list[dict[str, Any]]] = {}
        for node in self.wf.nodes:
            st = self.state.node(node.id)
            crashed = self.state.running_attempt(node.id) if st.status == "RUNNING" else None
            if crashed is None:
                continue
            procs = self.state.attempt_processes(node.id, *crashed)
            if procs:
                verdicts = await asyncio.to_thread(stop_attempt_processes, procs)
                self._stale[node.id] = verdicts
                for verdict in verdicts:
                    if verdict["outcome"] == "running":
                        raise ExecutionError(
                            f"node {node.id!r} attempt {crashed[0]}: {verdict['message']}; "
                            "stop it, then resume again"
                        )

    def _process_hook(
        self, nid: str, attempt: int, iteration: int | None, token: str
    ) -> Callable[[int], Any]:
        async def started(pid: int) -> None:
            from osop.procinfo import boot_id, process_start

            self.log(
                {
                    "t": "proc",
                    "node": nid,
                    "attempt": attempt,
                    "iteration": iteration,
                    "pgid": pid,
                    "started": process_start(pid),
                    "boot_id": boot_id(),
                    "token": token,
                }
            )

        return started

    def _seed_frontier(self) -> None:
        """Where to start: entry nodes (fresh run) or the exact frontier (resume)."""
        state = self.state
        if state.failure is not None:
            self._stopping = True
        pending: list[str] = []
        finished: list[str] = []
        for node in self.wf.nodes:
            st = state.node(node.id)
            crashed = state.running_attempt(node.id) if st.status == "RUNNING" else None
            last = state.last_record(node.id) if st.status == "RUNNING" else None
            if (
                crashed is None
                and last is not None
                and last["status"] == "COMPLETED"
                and node.id not in state.items
            ):
                # The attempt completed but the crash came before the node's end was
                # journaled: finish it from the record, never run it again.
                finished.append(node.id)
            elif crashed is not None:
                interrupted: dict[str, Any] = {
                    "t": "interrupted",
                    "node": node.id,
                    "attempt": crashed[0],
                    "iteration": crashed[1],
                    "at": self.now(),
                }
                if getattr(self, "_stale", {}).get(node.id):
                    interrupted["processes"] = self._stale[node.id]
                self.log(interrupted)
                st.status = "READY"
                self._ready.append(node.id)
            elif st.status in ("RUNNING", "READY", "WAITING"):
                st.status = "READY"
                self._ready.append(node.id)
            elif st.status == "PENDING":
                pending.append(node.id)
        self._evaluate(pending)
        for nid in finished:
            self._after(nid, Outcome("COMPLETED", outputs=dict(state.node(nid).outputs)))
        self._check_edge_waits()

    # -- after a node ended -----------------------------------------------------------

    def _after(self, nid: str, outcome: Outcome) -> None:
        if outcome.status == "WAITING":
            return  # journaled by the attempt; the run pauses when nothing else can move
        if outcome.status == "CANCELLED":
            return
        node = self.wf.node(nid)
        entry: dict[str, Any] = {"t": "done", "node": nid, "status": outcome.status}
        entry["at"] = self.now()
        decisions: dict[str, list[Any]] = {}
        handled = False
        targets: list[str] = []
        weighted_choice: str | None = None
        switch_choice: dict[int, str | None] = {}
        # The loop decision comes first: while it goes round, the exits wait.
        loop_entry = self._loop_back(nid, node, outcome)
        if loop_entry is not None and self._edges[loop_entry["edge"]].mode in FAILURE_MODES:
            handled = True  # "fix and retry": the failure goes round the loop
        for slot in self.topo.out_slots[nid]:
            pos, target = slot
            edge = self._edges[pos]
            if pos in self.topo.back_edges or edge.mode == "compensation":
                continue
            if loop_entry is not None and slot in self.topo.exit_of:
                continue
            if edge.mode in ("event", "signal") and outcome.status == "COMPLETED":
                if self._rehearsed_event(edge):
                    self._place(slot, True, nid, decisions)
                    targets.append(target)
                    continue
                # `when` filters the events, so it is evaluated when one arrives.
                decisions.setdefault("waiting", []).append(
                    [list(slot), {"name": _event_names(edge)[0], "at": entry["at"]}]
                )
                continue
            if edge.mode == "weighted" and outcome.status == "COMPLETED":
                if weighted_choice is None:
                    weighted_choice = self._weighted_choice(nid)
                taken = target == weighted_choice
            elif edge.mode == "switch" and edge.cases and outcome.status == "COMPLETED":
                if pos not in switch_choice:
                    switch_choice[pos] = self._switch_choice(edge, node, outcome)
                taken = target == switch_choice[pos]
            else:
                taken = self._edge_taken(edge, node, outcome)
            if taken and edge.mode in FAILURE_MODES:
                handled = True
            if taken and edge.mode == "loop":
                self._register_loop_items(edge, pos, node, outcome)
            if taken and edge.mode == "message":
                entry.setdefault("messages", []).append(
                    {
                        "from": nid,
                        "to": target,
                        "edge": pos,
                        "at": entry["at"],
                        "payload": self.redact(outcome.outputs),
                    }
                )
            self._place(slot, taken, nid, decisions)
            targets.append(target)
        failed = outcome.status in ("FAILED", "TIMED_OUT")
        if outcome.error is not None:
            entry["error"] = outcome.error
        entry.update({k: v for k, v in decisions.items() if v})
        if loop_entry is None:
            targets.extend(self._release_loops(nid, entry))
        if failed and not handled:
            entry["unhandled"] = True  # the run fails (same entry: a crash cannot split them)
            self._stopping = True
        if loop_entry is not None:
            # One entry for "ended" and "goes round again": a crash cannot split them.
            entry["loop"] = loop_entry
        self.log(entry)
        if loop_entry is not None:
            self._recount(list(loop_entry["body"]))
            self._ready.append(loop_entry["target"])
        self._check_edge_waits()
        self._evaluate(targets)
        self._checkpoint()

    def _checkpoint(self) -> None:
        if self.on_checkpoint is not None:
            self.on_checkpoint()

    # -- edge semantics ------------------------------------------------------------------

    def _edge_taken(self, edge: Edge, node: Node, outcome: Outcome) -> bool:
        status = outcome.status
        mode = edge.mode
        if mode == "fallback":
            return status == "FAILED" or (
                status == "TIMED_OUT" and not self._timeout_edges[node.id]
            )
        if mode == "timeout":
            return status == "TIMED_OUT"
        if mode == "error":
            if status not in ("FAILED", "TIMED_OUT"):
                return False
            return self._edge_condition(edge, node, outcome, default=True)
        if status != "COMPLETED":
            return False
        if mode == "loop":
            if edge.for_each:
                items = self._for_each_items(edge, node, outcome)
                return bool(items)
            return self._edge_condition(edge, node, outcome, default=True)
        # `when` is honoured on any forward edge (real files put them everywhere).
        return self._edge_condition(edge, node, outcome, default=True)

    def _recorded_outputs(self, nid: str) -> Mapping[str, Any] | None:
        """A node's outputs as its record holds them (secrets ``***``); None before it completed."""
        st = self.state.nodes.get(nid)
        if st is None or not (st.outputs or st.status == "COMPLETED"):
            return None
        return st.outputs

    def _own_outputs(self, node: Node, outcome: Outcome) -> Mapping[str, Any]:
        """The source's outputs for its edges: as recorded, like every other reader sees them."""
        if outcome.status == "COMPLETED":
            recorded = self._recorded_outputs(node.id)
            if recorded is not None:
                return recorded
        return self.redact(dict(outcome.outputs)) if outcome.outputs else {}

    def _condition_scope(
        self,
        node: Node | None,
        own: Mapping[str, Any] | None,
        *,
        outcome: Outcome | None = None,
        loop: Mapping[str, Any] | None = None,
        event: Mapping[str, Any] | None = None,
        overlay: bool = False,
    ) -> Scope:
        """What a CEL condition sees (see :mod:`osop.expr.scope`); ``own`` are its bare names."""
        error = None
        if outcome is not None and outcome.error is not None:
            error = {
                "code": str(outcome.error.get("code") or ""),
                "message": str(outcome.error.get("message") or ""),
            }
        outputs = self._outputs
        if overlay and node is not None and own is not None:
            outputs = outputs.with_overlay(node.id, own)
        return make_scope(
            own=own,
            inputs=self.state.meta.get("inputs") or {},
            outputs=outputs,
            variables=self.wf.variables,
            loop=loop,
            event=event,
            error=error,
            metadata=Lazy(lambda: self._metadata(node)),
            env=self.env,
        )

    def _node_scope(
        self,
        node: Node,
        loop_vars: Mapping[str, Any],
        node_inputs: Mapping[str, Any] | None = None,
    ) -> Scope:
        """What a node's ``${...}`` and its executor's expressions see.

        ``inputs.X`` reads the node's own inputs first, then the run's; reading
        another node's outputs is a data flow, checked against classifications.
        """
        run_inputs = self.state.meta.get("inputs") or {}
        inputs = {**run_inputs, **node_inputs} if node_inputs else run_inputs
        return make_scope(
            own=node_inputs,
            inputs=inputs,
            outputs=NodeOutputs(
                self._recorded_outputs,
                self.state.nodes.keys,
                guard=lambda source: self._check_flow(source, node),
            ),
            variables=self.wf.variables,
            loop=loop_vars or None,
            metadata=Lazy(lambda: self._metadata(node)),
            env=self.env,
            secrets=self.opt.secrets,
            on_secret=self._learn_secret,
            rehearsal=self.mode != "live",
        )

    def _learn_secret(self, value: str) -> None:
        self.redact.add([value])

    def _metadata(self, node: Node | None) -> dict[str, Any]:
        meta = {
            "run_id": self.run_id,
            "workflow_id": self.wf.id,
            "mode": self.mode,
            "started_at": self.state.meta.get("started_at"),
            "timestamp": self.now(),
        }
        if node is not None:
            meta["node_id"] = node.id
        return meta

    def _facts(self, node_id: str) -> NodeFacts | None:
        """What the OSOP functions (``status()``, ...) learn about ``node_id`` now."""
        st = self.state.nodes.get(node_id)
        if st is None:
            return None
        duration = st.duration_ms / 1000.0 if st.duration_ms is not None else None
        return NodeFacts(
            status=st.status if st.status != "READY" else "PENDING",
            duration_seconds=duration,
            error=st.error,
            attempt=max(1, st.attempt),
        )

    def _functions(self, current: str | None) -> Mapping[str, Callable[..., Any]]:
        """The OSOP functions for expressions of ``current`` (they read the run's state)."""
        return osop_functions(
            self._facts,
            current=current,
            known_ids=self.topo.control_in.keys(),
            clock=self.clock.now,
        )

    def evaluate(
        self,
        source: str,
        node: Node | None,
        outcome: Outcome | None = None,
        *,
        loop: Mapping[str, Any] | None = None,
    ) -> Any:
        """A condition of ``node``'s edges: bare names are its outputs, as recorded."""
        own = self._own_outputs(node, outcome) if node is not None and outcome else None
        scope = self._condition_scope(node, own, outcome=outcome, loop=loop)
        return scope.evaluate(source, self._functions(node.id if node else None))

    def _edge_condition(
        self,
        edge: Edge,
        node: Node,
        outcome: Outcome,
        *,
        default: bool,
        loop: Mapping[str, Any] | None = None,
    ) -> bool:
        if not edge.when:
            return default
        try:
            # The outcome's node status is final by now for status() purposes.
            st = self.state.node(node.id)
            saved = st.status
            st.status = outcome.status
            try:
                value = self.evaluate(edge.when, node, outcome, loop=loop)
            finally:
                st.status = saved
        except (ExpressionError, MissingReferenceError) as exc:
            return self._undecidable(edge, exc)
        return bool(value)

    def _undecidable(self, edge: Edge, exc: OsopError) -> bool:
        """A condition that cannot be evaluated: an error live, lenient when rehearsing."""
        where = f"edge {edge.source} -> {edge.target} ({edge.mode})"
        if self.mode == "dry_run":
            return True  # show every path the run might take
        if self.mode == "simulated":
            self.log({"t": "warning", "message": f"{where}: {exc}; not taken"})
            return False
        self.log(
            {
                "t": "failing",
                "node": edge.source,
                "status": "FAILED",
                "error": {"code": "EXPRESSION_ERROR", "message": f"{where}: {exc}"},
                "at": self.now(),
            }
        )
        self._stopping = True
        return False

    def _switch_choice(self, edge: Edge, node: Node, outcome: Outcome) -> str | None:
        if not edge.when:
            return edge.default_to
        try:
            value = self.evaluate(edge.when, node, outcome)
        except (ExpressionError, MissingReferenceError) as exc:
            self._undecidable(edge, exc)
            return edge.default_to
        for case in edge.cases:
            if case.value == value or (
                not isinstance(value, bool) and str(case.value) == str(value)
            ):
                return case.to
        return edge.default_to

    def _weighted_choice(self, nid: str) -> str | None:
        slots = [s for s in self.topo.out_slots[nid] if self._edges[s[0]].mode == "weighted"]
        weights = [max(0.0, self._edges[s[0]].weight or 0.0) for s in slots]
        if not slots:
            return None
        if sum(weights) <= 0:
            weights = [1.0] * len(slots)
        # One generator per decision, derived from the recorded seed: reproducible
        # whatever order the branches happened to finish in, and after a resume.
        count = self.state.node(nid).iteration or 0
        rng = random.Random(f"{self.seed}:{nid}:{count}")
        return rng.choices(slots, weights=weights, k=1)[0][1]

    def _for_each_items(self, edge: Edge, node: Node, outcome: Outcome) -> list[Any] | None:
        expression = for_each_expression(edge.for_each or "")
        try:
            value = self.evaluate(expression, node, outcome)
        except (ExpressionError, MissingReferenceError) as exc:
            if self.mode == "dry_run":
                return [None]
            self._undecidable(edge, exc)
            return None
        if isinstance(value, Mapping):
            return [{"key": k, "value": v} for k, v in value.items()]
        if isinstance(value, list | tuple):
            return list(value)
        return [value] if value is not None else []

    def _register_loop_items(self, edge: Edge, pos: int, node: Node, outcome: Outcome) -> None:
        entry: dict[str, Any] = {
            "t": "items",
            "node": edge.target,
            "edge": pos,
            "var": edge.iterator_var or "item",
            "max": edge.max_iterations,
            "base": self.state.node(edge.target).iteration or 0,
        }
        if edge.for_each:
            items = self._for_each_items(edge, node, outcome) or []
            items = items[: min(edge.max_iterations or MAX_ITERATIONS, MAX_ITERATIONS)]
            entry["items"] = self.redact(items)
        else:
            entry["when"] = edge.when
        self.log(entry)

    def _loop_back(self, nid: str, node: Node, outcome: Outcome) -> dict[str, Any] | None:
        """A back edge out of ``nid`` that holds: the entry that starts the next iteration."""
        for pos, body in self.topo.back_edges.items():
            edge = self._edges[pos]
            if edge.source != nid:
                continue
            count = self.state.loop_counts.get(pos, 1)
            limit = min(edge.max_iterations or DEFAULT_MAX_ITERATIONS, MAX_ITERATIONS)
            if self.mode == "dry_run" or count >= limit:
                continue
            if edge.mode != "loop":
                # An implicit loop goes round when its edge would be taken.
                if not self._edge_taken(edge, node, outcome):
                    continue
            else:
                if outcome.status != "COMPLETED":
                    continue
                loop = {"iteration": count}
                if not self._edge_condition(edge, node, outcome, default=True, loop=loop):
                    continue
            members = set(body)
            reset = [
                list(s)
                for member in body
                for s in self.topo.control_in[member] + self.topo.data_in[member]
                if self._edges[s[0]].source in members
            ]
            inner = [
                other
                for other, other_body in self.topo.back_edges.items()
                if other != pos and members.issuperset(other_body)
            ]
            return {
                "edge": pos,
                "iteration": count + 1,
                "body": list(body),
                "inner": inner,
                "reset": reset,
                "target": edge.target,
                "at": self.now(),
            }
        return None

    def _rehearsed_event(self, edge: Edge) -> bool:
        """Dry runs never wait; simulated runs assume the event arrives unless told to wait."""
        if self.mode == "dry_run":
            return True
        if self.mode != "simulated":
            return False
        settings = edge.raw.get("x-simulate")
        return not (isinstance(settings, Mapping) and settings.get("wait"))

    def _check_edge_waits(self) -> None:
        """Deliver buffered events to the event/signal edges waiting for them."""
        if not self.state.edge_waits:
            return
        released: list[str] = []
        for slot in list(self.state.edge_waits):
            edge = self._edges[slot[0]]
            event = self._match_event(edge, slot)
            if event is None:
                continue
            self.log({"t": "consumed", "id": event["id"], "slot": list(slot)})
            entry: dict[str, Any] = {"t": "decide", "taken": [list(slot)], "at": self.now()}
            self.log(entry)
            released.append(slot[1])
        self._evaluate(released)

    def _match_event(self, edge: Edge, slot: Slot) -> dict[str, Any] | None:
        names = _event_names(edge)
        for event in self.state.events:
            if event["used"] or event.get("name") not in names:
                continue
            if edge.when:
                payload = {"type": event["name"], "name": event["name"], "data": event["data"]}
                data = event["data"] if isinstance(event["data"], Mapping) else {}
                scope = self._condition_scope(None, data, event=payload)
                try:
                    ok = scope.evaluate(edge.when, self._functions(None))
                except (ExpressionError, MissingReferenceError):
                    ok = False
                if not ok:
                    continue
            return event
        return None

    # -- running one node -------------------------------------------------------------------

    async def _execute_node(self, nid: str) -> Outcome:
        node = self.wf.node(nid)
        items = self.state.items.get(nid)
        if items is None:
            iteration = self.state.node(nid).iteration
            if iteration is None and nid in self.topo.loops_of:
                iteration = 1
            return await self._run_iteration(node, iteration, {})
        return await self._run_loop(node, items)

    async def _run_loop(self, node: Node, spec: dict[str, Any]) -> Outcome:
        """A forward loop edge: the node runs once per item, or while ``when`` holds.

        Record iterations are ``base + index + 1``: unique per node even when the
        loop itself runs again inside an outer loop.
        """
        st = self.state.node(node.id)
        var = str(spec.get("var") or "item")
        values = spec.get("items")
        base = int(spec.get("base") or 0)
        limit = spec.get("max") or (None if values is not None else DEFAULT_MAX_ITERATIONS)
        outcome = Outcome("COMPLETED", outputs=dict(st.outputs))
        index = st.iterations_done
        last = self.state.last_record(node.id)
        if last is not None and last["status"] == "COMPLETED" and st.iteration == base + index + 1:
            index += 1  # resumed: that iteration completed, only its bookkeeping was lost
            self._iteration_done(node, base + index, index)
        while True:
            if values is not None:
                if index >= len(values):
                    break
                loop_vars: dict[str, Any] = {
                    var: values[index],
                    "index": index,
                    "iteration": index + 1,
                }
            else:
                if index > 0 and not self._while_holds(node, spec, index):
                    break
                loop_vars = {"index": index, "iteration": index + 1}
            if limit is not None and index >= int(limit):
                break
            outcome = await self._run_iteration(node, base + index + 1, loop_vars)
            if outcome.status != "COMPLETED":
                return outcome
            index += 1
            self._iteration_done(node, base + index, index)
        return outcome

    def _iteration_done(self, node: Node, iteration: int, done: int) -> None:
        self.log(
            {
                "t": "end",
                "node": node.id,
                "attempt": self.state.node(node.id).attempt,
                "iteration": iteration,
                "status": "COMPLETED",
                "iteration_done": done,
                "at": self.now(),
            }
        )

    def _while_holds(self, node: Node, spec: dict[str, Any], index: int) -> bool:
        when = spec.get("when")
        if not when:
            return False
        edge = self._edges[int(spec["edge"])]
        outcome = Outcome("COMPLETED", outputs=dict(self.state.node(node.id).outputs))
        return self._edge_condition(edge, node, outcome, default=False, loop={"iteration": index})

    def _policy(self, node: Node) -> RetryPolicy:
        return node.retry or self.wf.retry or _NO_RETRY

    async def _run_iteration(
        self, node: Node, iteration: int | None, loop_vars: dict[str, Any]
    ) -> Outcome:
        """All attempts of one node (or one loop iteration of it), with retries and waits."""
        st = self.state.node(node.id)
        policy = self._policy(node)
        pending_wait = self.state.waits.get(node.id)
        first = True
        last = self.state.last_record(node.id)
        if pending_wait is None and st.failures and last and last["status"] in _FAILED:
            # Resumed after a failed attempt whose retry was not yet decided.
            error = dict(last.get("error") or {})
            outcome = Outcome(str(last["status"]), error=error)
            if not self._retry_allowed(policy, st.failures, st.retryable, error):
                return outcome
            await self.clock.sleep(policy.delay_before(st.failures + 1))
        while True:
            if pending_wait is not None and first:
                attempt = int(pending_wait.get("attempt") or max(1, st.attempt))
            else:
                attempt = st.attempt + 1
            first = False
            outcome = await self._attempt(node, attempt, iteration, loop_vars)
            if outcome.status in ("COMPLETED", "WAITING", "CANCELLED"):
                return outcome
            error = outcome.error or {}
            retryable = bool(error.pop("_retryable", True))
            if not self._retry_allowed(policy, st.failures, retryable, error):
                return outcome
            await self.clock.sleep(policy.delay_before(st.failures + 1))

    def _retry_allowed(
        self, policy: RetryPolicy, failures: int, retryable: bool, error: Mapping[str, Any]
    ) -> bool:
        return (
            self.mode != "dry_run"
            and retryable
            and failures < policy.max_attempts
            and policy.retries(str(error.get("code") or ""))
        )

    def _check_flow(self, source_id: str, node: Node) -> None:
        """Binding §9.3: a node's data never flows to a node of lower classification."""
        if not self.wf.has_node(source_id):
            return
        source = self.wf.node(source_id)
        if classification_level(source.classification) > classification_level(node.classification):
            raise ClassificationError(
                f"outputs of {source_id!r} are {source.classification}; node {node.id!r} is "
                f"{node.classification or 'unclassified'} and may not read them"
            )

    def _node_inputs(
        self, node: Node, scope: Scope, loop_vars: Mapping[str, Any]
    ) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        if isinstance(node.inputs, Mapping):
            for key, value in node.inputs.items():
                if isinstance(value, str) and "${" in value:
                    inputs[str(key)] = scope.interpolate(value)
        if node.workflow_inputs:
            inputs.update(scope.interpolate(node.workflow_inputs))
        for slot in self.topo.data_in[node.id]:
            source = self._edges[slot[0]].source
            src = self.state.nodes.get(source)
            if src is None or src.status != "COMPLETED":
                continue
            self._check_flow(source, node)
            transform = self._edges[slot[0]].transform
            if isinstance(transform, Mapping):
                for key, ref in transform.items():
                    if isinstance(ref, str) and ref in src.outputs:
                        inputs[str(key)] = src.outputs[ref]
                    else:
                        inputs[str(key)] = scope.interpolate(ref)
            else:
                inputs.update(src.outputs)
        for slot in self.topo.control_in[node.id]:
            edge = self._edges[slot[0]]
            if edge.mode in ("message", "spawn") and self.state.decisions.get(slot):
                self._check_flow(edge.source, node)
                payload = self.state.nodes[edge.source].outputs
                inputs["message" if edge.mode == "message" else "parent"] = dict(payload)
        if loop_vars:
            inputs["loop"] = dict(loop_vars)
        return inputs

    def _answer(self, node: Node) -> dict[str, Any] | None:
        answer = self.state.answers.get(node.id)
        if answer is None:
            return None
        out = dict(answer)
        spent = self.state.approved_subjects.get(node.id)
        if spent is not None:
            out[APPROVED_SUBJECT] = spent
        return out

    def _note_approval(self, node: Node, ctx: NodeContext) -> None:
        """Journal what an answer approved, so it approves nothing else later."""
        subject = ctx.approved_subject
        if subject and self.state.approved_subjects.get(node.id) != subject:
            self.log({"t": "approved", "node": node.id, "subject": subject})

    @staticmethod
    def _approves(answer: Mapping[str, Any]) -> bool:
        if "approved" in answer:
            return answer["approved"] is True or str(answer["approved"]).lower() in _APPROVED
        return str(answer.get("decision", "")).strip().lower() in _APPROVED

    def _approval_state(self, node: Node, needed: bool) -> str:
        """``ok``, ``wait`` or ``rejected`` for a node that needs an approval."""
        if not needed:
            return "ok"
        answer = self._answer(node)
        if answer is None:
            if self.opt.auto_approve:
                return "ok"
            if self.mode in ("simulated", "dry_run"):
                return "ok"  # rehearsals approve unless the answers say otherwise
            return "wait"
        return "ok" if self._approves(answer) else "rejected"

    async def _attempt(
        self, node: Node, attempt: int, iteration: int | None, loop_vars: dict[str, Any]
    ) -> Outcome:
        """One attempt; its end is on disk before anyone acts on the outcome."""
        outcome = await self._attempt_steps(node, attempt, iteration, loop_vars)
        await self.journal.commit()
        return outcome

    async def _attempt_steps(
        self, node: Node, attempt: int, iteration: int | None, loop_vars: dict[str, Any]
    ) -> Outcome:
        """One attempt: journal start, execute (with timeout), journal end."""
        pending = self.state.waits.get(node.id)  # the start entry below clears it
        if pending is not None and pending.get("kind") == "child":
            self._child_to_resume[node.id] = str(pending.get("name"))
        start_mono = self.clock.monotonic()
        started_at = self.now()
        try:
            inputs = self._node_inputs(node, self._node_scope(node, loop_vars), loop_vars)
            scope = self._node_scope(node, loop_vars, inputs)
            runtime = scope.interpolate(node.runtime)
            resolve_error = None
        except (MissingReferenceError, ExpressionError, ClassificationError) as exc:
            runtime, inputs, resolve_error = {}, {}, exc
            scope = self._node_scope(node, loop_vars)
        start: dict[str, Any] = {
            "t": "start",
            "node": node.id,
            "node_type": node.type,
            "attempt": attempt,
            "iteration": iteration,
            "at": started_at,
        }
        if node.classification:
            start["classification"] = node.classification
        if inputs:
            start["inputs"] = self.redact(inputs)
        self.log(start)
        await self.journal.commit()  # on disk before anything is executed
        if pending is not None and pending.get("kind") in _PERSON_WAITS:
            record = self.state.last_record(node.id)
            self._waited[node.id] = str(record["started_at"]) if record else started_at
        if resolve_error is not None:
            return self._end(
                node,
                attempt,
                iteration,
                start_mono,
                "FAILED",
                error={
                    "code": "CLASSIFICATION"
                    if isinstance(resolve_error, ClassificationError)
                    else "MISSING_REFERENCE",
                    "message": str(resolve_error),
                    "_retryable": False,
                },
            )
        if self.mode == "dry_run":
            return self._end(node, attempt, iteration, start_mono, "COMPLETED", outputs={})
        gate = self._approval_state(node, node.requires_approval)
        if gate == "wait":
            return self._wait(node, attempt, iteration, "approval", node.id, _gate_prompt(node))
        if gate == "rejected":
            return self._rejected(node, attempt, iteration, start_mono)
        precondition = self._check_preconditions(node, inputs)
        if precondition is not None:
            return self._end(node, attempt, iteration, start_mono, "FAILED", error=precondition)
        answer = self._answer(node)
        delivered: Mapping[str, Any] | None = None
        env = self.env
        on_process = None
        if self.mode == "live" and not isinstance(self.journal, NullJournal):
            # Every child process is journaled before it runs, and carries a
            # token that proves it is this attempt's after a crash.
            token = f"{self.run_id}:{node.id}:{attempt}:{iteration or 0}"
            env = {**self.env, "OSOP_ATTEMPT": token}
            on_process = self._process_hook(node.id, attempt, iteration, token)
        ctx = NodeContext(
            run_id=self.run_id,
            workflow=self.wf,
            node=node,
            attempt=attempt,
            mode=self.mode,
            runtime=runtime,
            resolve=scope.resolve if resolve_error is None else None,
            inputs=inputs,
            workdir=self.opt.workdir,
            env=env,
            secret_values=self.redact.values,
            answer=answer,
            delivered=delivered,
            iteration=iteration,
            timeout_sec=node.timeout_sec,
            interactive=self.opt.interactive,
            progress=self.opt.progress,
            services={
                "sleep": self.clock.sleep,
                "simulation": self.opt.simulation,
                # A guided run's caller step reads the clock and the wait it resumes.
                "clock": self.clock,
                "waiting": pending,
                "compensating": self._compensating,
                **self.opt.services,
            },
            run_child=None,
            scope=scope,
            on_process=on_process,
        )
        extra: dict[str, Any] = {}
        while True:
            try:
                result = await self._invoke(node, ctx, extra)
            except NodeFailure as failure:
                self._note_approval(node, ctx)
                if failure.code == "NEEDS_APPROVAL" and _answer_is_spent(ctx.answer):
                    # The answer approved another command (an earlier for_each item,
                    # a different retry): this one waits for its own approval.
                    if self.opt.auto_approve or self.mode in ("simulated", "dry_run"):
                        ctx.answer = dict(_AUTO_APPROVAL)
                        continue
                    return self._wait(
                        node, attempt, iteration, "approval", node.id, failure.message
                    )
                if failure.code == "NEEDS_APPROVAL" and not (ctx.answer or {}).get("approved"):
                    gate = self._approval_state(node, True)
                    if gate == "wait":
                        return self._wait(
                            node, attempt, iteration, "approval", node.id, failure.message
                        )
                    if gate == "rejected":
                        return self._rejected(node, attempt, iteration, start_mono)
                    answer = {"approved": True, **(answer or _AUTO_APPROVAL)}
                    ctx.answer = answer
                    continue
                return self._end(
                    node,
                    attempt,
                    iteration,
                    start_mono,
                    "FAILED",
                    error=_failure_dict(failure),
                    outputs=failure.outputs or None,
                )
            except _ChildWaiting as child:
                # The parent node waits for as long as its child run does.
                return self._wait(
                    node,
                    attempt,
                    iteration,
                    "child",
                    child.run_id,
                    f"child run {child.run_id} is waiting",
                    details=child.waiting,
                )
            except OsopError as exc:  # e.g. a sub-workflow that cannot be loaded
                return self._end(
                    node,
                    attempt,
                    iteration,
                    start_mono,
                    "FAILED",
                    error={"code": "EXECUTION_ERROR", "message": str(exc), "_retryable": False},
                )
            except TimeoutError:
                return self._end(
                    node,
                    attempt,
                    iteration,
                    start_mono,
                    "TIMED_OUT",
                    error={
                        "code": "TIMEOUT",
                        "message": f"node did not finish within {node.timeout_sec:g}s",
                    },
                )
            except asyncio.CancelledError:
                status = self._abort_status or "CANCELLED"
                self._end_and_sync(
                    node,
                    attempt,
                    iteration,
                    start_mono,
                    status,
                    error={
                        "code": "TIMEOUT" if status == "TIMED_OUT" else "CANCELLED",
                        "message": "the workflow deadline passed"
                        if status == "TIMED_OUT"
                        else "the run was cancelled",
                    },
                )
                raise
            except Exception as exc:  # a broken executor: recorded, the run goes on
                return self._end(
                    node,
                    attempt,
                    iteration,
                    start_mono,
                    "FAILED",
                    error={
                        "code": "EXECUTOR_ERROR",
                        "message": f"{type(exc).__name__}: {exc}",
                        "_retryable": False,
                    },
                )
            self._note_approval(node, ctx)
            if result.wait is not None:
                provided = self._provided(node, result.wait)
                if provided is None:
                    return self._wait(
                        node,
                        attempt,
                        iteration,
                        result.wait.kind,
                        result.wait.name,
                        result.wait.prompt,
                        # A caller's step journals what it was handed (guided runs).
                        details=dict(result.wait.details)
                        if result.wait.kind == CALLER_WAIT
                        else None,
                    )
                if result.wait.kind in ("human", "approval"):
                    ctx.answer = provided
                else:
                    ctx.delivered = provided
                continue
            break
        criteria = self._data_failure(node, result.outputs) or self._criteria_failure(
            node, result.outputs
        )
        if criteria is not None:
            return self._end(
                node,
                attempt,
                iteration,
                start_mono,
                "FAILED",
                error=criteria,
                outputs=result.outputs,
                result=result,
                extra=extra,
            )
        return self._end(
            node,
            attempt,
            iteration,
            start_mono,
            "COMPLETED",
            outputs=result.outputs,
            result=result,
            extra=extra,
        )

    async def _invoke(self, node: Node, ctx: NodeContext, extra: dict[str, Any]) -> NodeResult:
        """Execute through the executor, a sub-workflow or a spawned child, under the timeout."""
        coro: Any
        if node.workflow_ref or self._spawned(node):
            coro = self._run_child_node(node, ctx, extra)
        else:
            coro = self._executor(node.type).execute(ctx)
        if node.timeout_sec is None:
            result: NodeResult = await coro
            return result
        # On timeout the task is cancelled, which makes the executor kill what it
        # started (its contract), before TimeoutError reaches the attempt.
        finished: NodeResult = await within(self.clock, node.timeout_sec, coro)
        return finished

    def _spawned(self, node: Node) -> bool:
        return any(self._edges[s[0]].mode == "spawn" for s in self.topo.control_in[node.id])

    async def _run_child_node(
        self, node: Node, ctx: NodeContext, extra: dict[str, Any]
    ) -> NodeResult:
        if self.child_runner is None:
            raise NodeFailure("NO_CHILD_RUNS", "sub-workflows need a run context", retryable=False)
        # A child this node already started (it paused, or the process died while it
        # ran) is resumed, never started again: its completed steps must not repeat.
        resume_id = self._child_to_resume.pop(node.id, None) or self.state.open_children.get(
            node.id
        )
        status, outputs, child_id, error, waiting = await self.child_runner(
            node, dict(ctx.inputs), resume_id
        )
        extra["child_run_id"] = child_id
        if status == "PAUSED":
            raise _ChildWaiting(child_id, waiting)
        if status != "COMPLETED":
            raise NodeFailure(
                "CHILD_" + status,
                error or f"child run {child_id} ended {status}",
                details={"child_run_id": child_id},
            )
        return NodeResult(outputs=dict(outputs))

    def _executor(self, node_type: str) -> Executor:
        executor = self._executors.get(node_type)
        if executor is None:
            factory = self.opt.executors
            if factory is None:
                from osop.executors.registry import get_executor

                factory = get_executor
            executor = self._executors[node_type] = factory(node_type, self.mode)
        return executor

    def _provided(self, node: Node, wait: WaitRequest) -> dict[str, Any] | None:
        if wait.kind in ("human", "approval"):
            return self._answer(node)
        if wait.kind == CALLER_WAIT:
            # The caller's report of this attempt (checked and journaled when given).
            report = self.state.reports.get(node.id)
            return dict(report) if report is not None else None
        names = {wait.name, node.id}
        for event in self.state.events:
            if not event["used"] and event.get("name") in names:
                self.log({"t": "consumed", "id": event["id"], "node": node.id})
                data = event.get("data")
                return dict(data) if isinstance(data, Mapping) else {"data": data}
        return None

    def _check_preconditions(self, node: Node, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        scope = self._condition_scope(node, inputs)
        functions = self._functions(node.id)
        for condition in node.preconditions:
            try:
                ok = scope.evaluate(condition, functions)
            except (ExpressionError, MissingReferenceError):
                continue  # prose, not CEL: documentation only
            if not ok:
                return {
                    "code": "PRECONDITION_FAILED",
                    "message": f"precondition not met: {condition}",
                    "_retryable": False,
                }
        return None

    def _data_failure(self, node: Node, outputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Declared output types and edge contracts (docs/semantics.md, "Contracts")."""
        if not self.data_checks or (
            self.mode == "simulated" and not _simulated_outputs(self, node)
        ):
            return None  # a rehearsal's made-up placeholder outputs promise nothing
        message = self.data_checks.violation(node.id, outputs)
        if message is None:
            return None
        return {"code": CONTRACT_VIOLATION, "message": message}

    def _criteria_failure(self, node: Node, outputs: Mapping[str, Any]) -> dict[str, Any] | None:
        if not node.success_criteria:
            return None
        # The outputs as they will be recorded, before they are: criteria see what edges see.
        scope = self._condition_scope(node, self.redact(dict(outputs)), overlay=True)
        functions = self._functions(node.id)
        for criterion in node.success_criteria:
            try:
                ok = scope.evaluate(criterion, functions)
            except (ExpressionError, MissingReferenceError):
                continue  # prose ("all tests pass") is documentation, not a check
            if ok is False:  # a non-boolean result is not a check either
                return {
                    "code": "SUCCESS_CRITERIA",
                    "message": f"success criterion not met: {criterion}",
                }
        return None

    def _wait(
        self,
        node: Node,
        attempt: int,
        iteration: int | None,
        kind: str,
        name: str,
        prompt: str | None,
        *,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
    ) -> Outcome:
        entry: dict[str, Any] = {
            "t": "wait",
            "node": node.id,
            "attempt": attempt,
            "iteration": iteration,
            "kind": kind,
            "name": name,
            "prompt": prompt,
            "at": self.now(),
        }
        if details:
            entry["details"] = details
        self._waited.pop(node.id, None)
        self.log(entry)
        return Outcome("WAITING", wait={"node": node.id, "kind": kind, "name": name})

    def _end_and_sync(self, *args: Any, **kwargs: Any) -> Outcome:
        """``_end`` where awaiting is impossible (being cancelled): fsync right away."""
        outcome = self._end(*args, **kwargs)
        self.journal.sync()
        return outcome

    def _rejected(
        self, node: Node, attempt: int, iteration: int | None, start_mono: float
    ) -> Outcome:
        answer = self._answer(node) or {}
        return self._end(
            node,
            attempt,
            iteration,
            start_mono,
            "FAILED",
            error={
                "code": "REJECTED",
                "message": f"approval refused ({answer.get('decision', 'rejected')})",
                "_retryable": False,
            },
            human_metadata=_approval_metadata(answer),
        )

    def _end(
        self,
        node: Node,
        attempt: int,
        iteration: int | None,
        start_mono: float,
        status: str,
        *,
        outputs: Mapping[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        result: NodeResult | None = None,
        extra: Mapping[str, Any] | None = None,
        human_metadata: dict[str, Any] | None = None,
    ) -> Outcome:
        duration = round((self.clock.monotonic() - start_mono) * 1000.0, 3)
        ended = self.now()
        entry: dict[str, Any] = {
            "t": "end",
            "node": node.id,
            "attempt": attempt,
            "iteration": iteration,
            "status": status,
            "at": ended,
            "ended_at": ended,
            "duration_ms": duration,
        }
        public_error = {k: v for k, v in (error or {}).items() if not k.startswith("_")}
        if outputs is not None:
            entry["outputs"] = self.redact(dict(outputs))
        if error is not None:
            entry["error"] = self.redact(public_error)
            if error.get("_retryable") is False:
                entry["retryable"] = False
        if result is not None:
            # Unknown facts are left out rather than written as null.
            if result.ai_metadata:
                entry["ai_metadata"] = self.redact(_known(result.ai_metadata))
            if result.human_metadata:
                entry["human_metadata"] = self.redact(_known(result.human_metadata))
            if result.tools_used:
                entry["tools_used"] = self.redact(result.tools_used)
            if result.cost_usd is not None:
                entry["cost_usd"] = result.cost_usd
            if result.children:
                entry["children"] = self.redact(result.children)
        if human_metadata:
            entry["human_metadata"] = self.redact(human_metadata)
        since = self._waited.pop(node.id, None)
        if since is not None:
            self._time_the_wait(node, since, entry)
        if extra:
            entry.update(extra)
        self.log(entry)
        return Outcome(status, outputs=dict(outputs or {}), error=error)

    def _time_the_wait(self, node: Node, since: str, entry: dict[str, Any]) -> None:
        """An attempt that waited for a person: its times are the wait's, not this session's.

        It began when the wait did (``since``, possibly days and processes ago); a
        human node ended when the answer arrived (``answered_at``), a node behind
        an approval when it finished running.  ``response_time_ms`` is the wait.
        """
        now = self.clock.now()
        began = parse_timestamp(since) or now
        now = max(now, began)
        answer = self._answer(node) or {}
        answered = parse_timestamp(answer.get("answered_at"))
        if answered is not None:
            answered = min(max(answered, began), now)
        end = answered if answered is not None and node.type == "human" else now
        entry["ended_at"] = iso(end)
        entry["duration_ms"] = round((end - began).total_seconds() * 1000.0, 3)
        if answered is None:
            return
        metadata = dict(entry.get("human_metadata") or {})
        if not metadata:  # a node behind an approval: the approval is its human part
            metadata = self.redact(_approval_metadata(answer))
        metadata["response_time_ms"] = round((answered - began).total_seconds() * 1000.0)
        entry["human_metadata"] = metadata

    # -- ending ----------------------------------------------------------------------------

    async def _abort_running(self, status: str) -> None:
        self._abort_status = status
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while not self._done.empty():  # finished just before the abort: keep their decisions
            nid, outcome = self._done.get_nowait()
            self._running.pop(nid, None)
            self._stopping = True
            self._after(nid, outcome)
        for nid in list(self._running):
            self.log({"t": "done", "node": nid, "status": status, "at": self.now()})
        self._running.clear()

    async def _conclude(self) -> str:
        """Pause, or end the run: skip what did not run, compensate, set the status."""
        state = self.state
        waiting = [nid for nid, st in state.nodes.items() if st.status == "WAITING"]
        if self._abort_status is None and state.failure is None and (waiting or state.edge_waits):
            return "PAUSED"
        for nid in waiting:  # the run ends: nobody will answer these any more
            self.log({"t": "done", "node": nid, "status": "CANCELLED", "at": self.now()})
        if self._abort_status is not None:
            status = self._abort_status
        elif state.failure is not None:
            status = "FAILED"
        else:
            status = "COMPLETED"
        compensating = status in ("FAILED", "TIMED_OUT") and self.mode != "dry_run"
        # A node about to run as a compensation is not skipped first: one attempt,
        # one record (skipping it would give attempt 1 a SKIPPED and a run record).
        spared = self._compensation_targets() if compensating else set()
        self._skip_unreached(spared)
        if compensating:
            self._abort_status = None
            self._compensating = True
            await self._compensate()
            self._skip_unreached(set())
        return status

    def _skip_unreached(self, spared: set[str]) -> None:
        now = self.now()
        for node in self.wf.nodes:
            st = self.state.node(node.id)
            if st.status in ("PENDING", "READY") and node.id not in spared:
                self.log({"t": "skip", "node": node.id, "node_type": node.type, "at": now})

    def _compensation_targets(self) -> set[str]:
        """The nodes :meth:`_compensate` is going to run."""
        done = self.state.compensations_done
        return {
            target
            for source in self.state.completion_order
            for target in self.topo.compensations.get(source, [])
            if (source, target) not in done
        }

    async def _compensate(self) -> None:
        """Saga: undo completed steps in reverse completion order."""
        done_for = self.state.compensations_done
        for source in reversed(self.state.completion_order):
            for target in self.topo.compensations.get(source, []):
                if (source, target) in done_for:
                    continue
                self.log({"t": "compensate", "node": target, "for": source, "at": self.now()})
                st = self.state.node(target)
                st.iteration = None
                self.state.items.pop(target, None)
                outcome = await self._run_iteration(self.wf.node(target), None, {})
                if outcome.status != "WAITING":
                    self.log(
                        {
                            "t": "done",
                            "node": target,
                            "status": outcome.status,
                            "at": self.now(),
                            "compensation": True,
                            "for": source,
                        }
                    )


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _entry_slots(entry: Mapping[str, Any]) -> list[Slot]:
    slots: list[Slot] = []
    for key in ("taken", "not"):
        for raw in entry.get(key, ()):
            slots.append((int(raw[0]), str(raw[1])))
    for raw in (entry.get("loop") or {}).get("reset", ()):
        slots.append((int(raw[0]), str(raw[1])))
    return slots


def _event_names(edge: Edge) -> list[str]:
    """Names an event/signal edge answers to: its ``event``/``signal``/``name`` key, label, target."""
    names: list[str] = []
    for key in ("event", "signal", "name", "x-event", "x-signal"):
        value = edge.raw.get(key)
        if isinstance(value, str) and value:
            names.append(value)
    if edge.label:
        names.append(edge.label)
    names.append(edge.target)
    return names


def _gate_prompt(node: Node) -> str:
    gate = node.approval_gate
    approver = gate.get("approver_role") or gate.get("approver") or gate.get("role")
    text = f"approve {node.label!r}"
    return text + (f" (approver: {approver})" if approver else "")


def _approval_metadata(answer: Mapping[str, Any]) -> dict[str, Any]:
    """``human_metadata`` of an approval: who answered, what, and their notes."""
    decision = answer.get("decision")
    if decision is None and isinstance(answer.get("approved"), bool):
        decision = "approved" if answer["approved"] else "rejected"
    out = {"actor": str(answer.get("actor") or "unknown"), "decision": decision}
    if answer.get("notes"):
        out["notes"] = answer["notes"]
    return out


def _simulated_outputs(engine: Engine, node: Node) -> bool:
    """Whether a simulated node's outputs were given (``x-simulate.outputs`` or the
    run's simulation settings) rather than made up from the declarations."""
    for settings in (node.raw.get("x-simulate"), engine.opt.simulation.get(node.id)):
        if isinstance(settings, Mapping) and isinstance(settings.get("outputs"), Mapping):
            return True
    return False


def _failure_dict(failure: NodeFailure) -> dict[str, Any]:
    out: dict[str, Any] = {"code": failure.code, "message": failure.message}
    if failure.details is not None:
        out["details"] = failure.details
    out["_retryable"] = failure.retryable
    return out
