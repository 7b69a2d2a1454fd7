"""The engine core: a deterministic function from (workflow, run state, event) to decisions.

:meth:`Core.decide` takes one event (a session begins, an attempt finished, an
answer or a signal arrived, a timer fired, the run is aborted) and returns the
journal entries that record what follows from it — already applied to the
:class:`~osop.engine.state.RunState`, which changes only through ``apply`` — and
the commands a host carries out (start an attempt, start a timer, wait, pause,
finish).  It does no I/O, reads no clock (time is the event's ``at``) and draws
no randomness but the run's recorded seed: the same events always give the same
entries and commands, which is what lets a host replay it (a resumed run, a
Temporal workflow).  Hosts: :class:`osop.engine.scheduler.Engine` (local asyncio).

Readiness and joins, dead-path elimination, edge modes, loops, retries,
approvals, waits, compensation and the run's conclusion all live here; see
``docs/semantics.md`` for each decision and ``docs/architecture.md`` for the
core/host split.
"""

from __future__ import annotations

import gc
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from osop.engine.contracts import CONTRACT_VIOLATION, DataChecks
from osop.engine.entries import Answer as AnswerEntry
from osop.engine.entries import (
    Approved,
    Child,
    Compensate,
    Consumed,
    Decide,
    Done,
    End,
    Entry,
    Failing,
    Interrupted,
    Items,
    Proc,
    Report,
    RunWarning,
    Skip,
    Start,
    Wait,
    _Decisions,
)
from osop.engine.entries import Event as EventEntry
from osop.engine.graph import FAILURE_MODES, Slot, Topology
from osop.engine.options import DEFAULT_MAX_ITERATIONS, RunOptions
from osop.engine.protocol import (
    Abort,
    AnswerArrived,
    ApprovalUsed,
    AttemptFinished,
    Begin,
    CancelTimer,
    ChildStarted,
    Command,
    ContinueAttempt,
    EngineEvent,
    Finish,
    Pause,
    ProcessStarted,
    ReportArrived,
    SignalDelivered,
    StartAttempt,
    StartTimer,
    TimerFired,
    WaitFor,
    WaitRequested,
)
from osop.engine.state import NodeState, RunState
from osop.engine.values import Redactor, classification_level
from osop.errors import ClassificationError, ExpressionError, MissingReferenceError, OsopError
from osop.executors.approval import APPROVED_SUBJECT
from osop.expr.functions import NodeFacts, osop_functions
from osop.expr.scope import Lazy, NodeOutputs, Scope, for_each_expression, make_scope
from osop.format.limits import MAX_ITERATIONS
from osop.format.workflow import Edge, Node, RetryPolicy, Workflow
from osop.record.model import parse_timestamp
from osop.security.secrets import SecretStore

__all__ = ["CALLER_WAIT", "DEADLINE", "Core", "CoreSettings", "Decision", "Outcome", "retry_timer"]

_APPROVED = frozenset({"approved", "approve", "yes", "y", "true", "ok", "accept", "accepted"})
_NO_RETRY = RetryPolicy()
#: A plain node's own inputs in its scope (make_scope's empty layer likewise).
_NO_OWN: Mapping[str, Any] = {}
_FAILED = frozenset({"FAILED", "TIMED_OUT"})
#: How an edge's slots count in their target's join (``Core._edge_role``).
_NEITHER, _CONTROL, _DATA = 0, 1, 2
#: How an edge is decided when its source completed (``Core._edge_kind``): never in the
#: forward flow (a back edge, a compensation), taken, not taken (failure modes), or by
#: the general rules (a condition, an event, a weight, a switch, a loop, a message).
_EDGE_SKIPPED, _EDGE_ON_SUCCESS, _EDGE_NOT_ON_SUCCESS, _EDGE_DECIDED_BY_RULE = 0, 1, 2, 3
# (_EDGE_SKIPPED and _NEITHER are 0: what a new per-edge bytearray holds)
_EDGE_SPECIAL_MODES = frozenset({"event", "signal", "weighted", "switch", "loop", "message"})
#: A guided run's step handed to its caller (see :mod:`osop.engine.guided`).
CALLER_WAIT: Final = "caller"
#: Waits a person (or the caller of a guided run) ends: the attempt's record spans
#: the wait (see ``_Flight.waited_since``).
_PERSON_WAITS = frozenset({"human", "approval", CALLER_WAIT})
#: The timer of the workflow's ``timeout_sec`` (what is left of it).
DEADLINE = "deadline"


def retry_timer(node_id: str) -> str:
    """The id of the timer that ends a node's backoff before its next attempt."""
    return "retry:" + node_id


@dataclass(frozen=True)
class CoreSettings:
    """What the core is given besides the workflow and the state (no clock, no I/O)."""

    run_id: str
    mode: str = "live"
    #: The weighted-edge generator's seed (recorded in the run's metadata).
    seed: int = 0
    auto_approve: bool = False
    #: What ``${env.X}`` reads.
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: SecretStore = field(default_factory=SecretStore)
    #: Per-node simulation settings (``RunOptions.simulation``).
    simulation: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(
        cls, options: RunOptions, run_id: str, *, seed: int, env: Mapping[str, str]
    ) -> CoreSettings:
        return cls(
            run_id=run_id,
            mode=options.mode,
            seed=seed,
            auto_approve=options.auto_approve,
            env=env,
            secrets=options.secrets,
            simulation=options.simulation,
        )


@dataclass(slots=True)
class Decision:
    """What one event led to: entries (already applied) and commands, in order."""

    entries: list[Entry]
    commands: list[Command]


@dataclass(slots=True)
class Outcome:
    """How one node (all its attempts and iterations) ended."""

    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    wait: dict[str, Any] | None = None


@dataclass(slots=True)
class _Flight:
    """A node the core has started and not yet concluded (this session's bookkeeping)."""

    node: str
    iteration: int | None = None
    loop_vars: dict[str, Any] = field(default_factory=dict)
    #: The forward loop the node runs (``state.items``), with its index.
    spec: dict[str, Any] | None = None
    index: int = 0
    outcome: Outcome | None = None
    attempt: int = 0
    #: When the attempt began waiting for a person (it now goes on with the answer):
    #: its record spans the real wait, not this session's part of it.
    waited_since: str | None = None
    #: The compensated node, when this flight is a compensation.
    compensation_for: str | None = None
    timer: str | None = None


class Core:
    """Decides a run, one event at a time.  See the module docstring."""

    def __init__(
        self,
        workflow: Workflow,
        state: RunState,
        settings: CoreSettings,
        redactor: Redactor | None = None,
    ) -> None:
        # Building the tables makes a few containers per node and edge, none of them
        # garbage: the cyclic collector would walk the whole workflow model several
        # times meanwhile (a third of the setup of a large workflow) and free nothing.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            self.wf = workflow
            self.topo = Topology.build(workflow)
            self.state = state
            self.settings = settings
            self.mode = settings.mode
            self.run_id = settings.run_id
            self.redact = redactor if redactor is not None else Redactor()
            self.env = settings.env
            self.seed = int(state.meta.get("seed", settings.seed))
            #: ``outputs`` as expressions see it: each node's outputs as recorded (redacted).
            self._outputs = NodeOutputs(self._recorded_outputs, state.nodes.keys)
            self._edges = edges = workflow.edges
            topo = self.topo
            # Static facts of the workflow, computed once per run, so that deciding a plain
            # node (no condition, no loop, no data to gather) is a few dict operations.
            #: Nodes with a timeout edge out of them (their fallback edges leave a timeout to it).
            self._timeout_sources = frozenset(
                edge.source
                for pos, edge in enumerate(edges)
                if edge.mode == "timeout"
                and any(slot[0] == pos for slot in topo.out_slots.get(edge.source, ()))
            )
            #: node → the back edges out of it (in ``topo.back_edges`` order).
            self._loops_from: dict[str, list[int]] = {}
            for pos in topo.back_edges:
                self._loops_from.setdefault(edges[pos].source, []).append(pos)
            # Per edge, one byte each (a list was 8 bytes an edge), made in one pass:
            #: how its slots are decided when its source completed (``_after``, ``_EDGE_*``);
            self._edge_kind = kinds = bytearray(len(edges))
            #: whether its slots join their target as control or as data (or neither).
            self._edge_role = roles = bytearray(len(edges))
            #: Nodes whose completion :meth:`_after` decides by more than their edges'
            #: modes (an edge with a rule: a condition, an event, a weight, a switch, a
            #: loop, a message; a loop edge out of it; a loop body it is in): the others
            #: take :meth:`_after_plain`.
            ruled: set[str] = set()
            for pos, edge in enumerate(edges):
                mode = edge.mode
                if pos in topo.back_edges or mode == "compensation":
                    continue  # _EDGE_SKIPPED, _NEITHER (0)
                roles[pos] = _DATA if mode == "dataflow" else _CONTROL
                if mode in FAILURE_MODES:
                    # with or without `when`: only a failure takes them
                    kinds[pos] = _EDGE_NOT_ON_SUCCESS
                elif edge.when or mode in _EDGE_SPECIAL_MODES:
                    kinds[pos] = _EDGE_DECIDED_BY_RULE
                    ruled.add(edge.source)
                else:
                    kinds[pos] = _EDGE_ON_SUCCESS
            self._ruled = frozenset(ruled.union(self._loops_from, topo.loops_of))
            del ruled
            #: Nodes whose own inputs must be worked out (``_node_inputs``); the others have none.
            passed_to = {  # targets of message and spawn edges: they pass their source's outputs
                slot[1]
                for pos, edge in enumerate(edges)
                if edge.mode in ("message", "spawn")
                for slot in topo.out_slots.get(edge.source, ())
                if slot[0] == pos
            }
            self._gathers_inputs = frozenset(
                node.id
                for node in workflow.nodes
                if node.id in passed_to or node.id in topo.data_in or _interpolates_inputs(node)
            )
            #: Nodes whose runtime has a ``$`` somewhere (the others' need no interpolation).
            self._templated = frozenset(n.id for n in workflow.nodes if _has_dollar(n.runtime))
            #: Whether any node is classified: else no data flow can be refused.
            self._flows_checked = any(
                classification_level(label) for label in {n.classification for n in workflow.nodes}
            )
            self._learn = self._learn_secret  # one bound method for every scope
            self._rehearsal_approves = settings.auto_approve or self.mode in (
                "simulated",
                "dry_run",
            )
            #: What an approval means while nobody has answered (see ``_approval_given``).
            self._unanswered = "ok" if self._rehearsal_approves else "wait"
            self.data_checks = DataChecks(workflow)
            self._checks_data = bool(self.data_checks)
            #: Nodes with success criteria (the others' returned outputs need no check
            #: unless the workflow declares data checks).
            self._criteria = frozenset(n.id for n in workflow.nodes if n.success_criteria)
            #: Nodes behind an approval or with preconditions (``_begin_attempt``).
            self._gated = frozenset(
                n.id for n in workflow.nodes if n.requires_approval or n.preconditions
            )
            # A join's decided and taken slots are counted only where it has more than
            # one control slot (a join of one reads its slot's decision in the state):
            # a chain keeps no count at all, which was two table entries per node (~75
            # bytes) and the work of keeping them per decision (~170 bytecodes a node).
            joins = [nid for nid, slots in topo.control_in.items() if len(slots) > 1]
            #: Only nodes with two control slots or more have a count here.
            self._taken: dict[str, int] = dict.fromkeys(joins, 0)
            self._decided: dict[str, int] = dict.fromkeys(joins, 0)
            #: Only nodes with data slots (``topo.data_in``) have a count here.
            self._data_decided: dict[str, int] = dict.fromkeys(topo.data_in, 0)
            #: The nodes some count is kept for: the targets whose slots' decisions count.
            self._counted = frozenset(joins).union(topo.data_in)
            del joins
            if state.decisions:
                self._recount(list(self._counted))
            self._ready: deque[str] = deque()
            self._flights: dict[str, _Flight] = {}
            self._stopping = False
            self._abort_status: str | None = None
            #: ``idle`` (no Begin yet), ``running``, ``paused``, ``compensating``, ``over``.
            self.phase = "idle"
            self._compensations: deque[tuple[str, str]] = deque()
            self._final_status = ""
            self._deadline = False
            #: While a condition of a node's edges is evaluated, status() sees its outcome.
            self._status_of: tuple[str, str] | None = None
            self._at = str(state.meta.get("started_at") or "")
            self._now: datetime | None = None
            self._out: list[Entry] = []
            self._cmds: list[Command] = []
            #: The parts of a plain node's scope (see ``_scope_of``), made when first asked.
            self._plain_scope: (
                tuple[Any, NodeOutputs, dict[str, Any], tuple[Mapping[str, Any], ...]] | None
            ) = None
        finally:
            if paused:
                gc.enable()

    # -- the entry points ------------------------------------------------------------

    def decide(self, event: EngineEvent) -> Decision:
        """The entries and commands that follow from ``event`` (entries already applied)."""
        self._out, self._cmds = [], []
        at = getattr(event, "at", None)
        if at:
            self._at = str(at)
            self._now = None
        _HANDLERS[type(event)](self, event)
        if self.phase in ("running", "compensating"):
            self._drain()
        return Decision(self._out, self._cmds)

    def note(self, entry: Entry) -> Entry:
        """Apply a host-level fact (run started or resumed, journal repaired, run closed)."""
        self.state.apply(entry)
        return entry

    @property
    def in_flight(self) -> list[str]:
        """Nodes started and not yet concluded (an attempt running or a retry pending)."""
        return list(self._flights)

    def now(self) -> str:
        return self._at

    def crashed_attempts(self) -> list[tuple[str, int, int | None]]:
        """``(node, attempt, iteration)`` whose record is still RUNNING (a crash hit them)."""
        out = []
        nodes = self.state.nodes
        for node in self.wf.nodes:
            st = nodes.get(node.id)
            if st is None or st.status != "RUNNING":
                continue
            crashed = self.state.running_attempt(node.id)
            if crashed is not None:
                out.append((node.id, *crashed))
        return out

    def remaining_timeout(self) -> float | None:
        """What is left of the workflow's ``timeout_sec`` (active time; None: no deadline)."""
        if self.wf.timeout_sec is None or self.mode == "dry_run":
            return None
        return max(0.0, self.wf.timeout_sec - self.state.active_ms / 1000.0)

    # -- events --------------------------------------------------------------------------

    def _on_begin(self, e: Begin) -> None:
        """Where to start: entry nodes (fresh run) or the exact frontier (resume)."""
        self.phase = "running"
        state = self.state
        if state.failure is not None:
            self._stopping = True
        pending: list[str] = []
        finished: list[str] = []
        for node in self.wf.nodes:
            st = state.node(node.id)
            if st.status == "PENDING":  # (the usual case, asked first)
                pending.append(node.id)
                continue
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
                self._log(
                    Interrupted(
                        node=node.id,
                        attempt=crashed[0],
                        iteration=crashed[1],
                        at=self._at,
                        processes=e.stale.get(node.id) or None,
                    )
                )
                self._make_ready(node.id)
            elif st.status in ("RUNNING", "READY", "WAITING"):
                self._make_ready(node.id)
        if not state.decisions and len(pending) == len(self.wf.nodes):
            # Nothing decided yet: only entry nodes can be released (every other join
            # waits for a decision), so the others' joins need not be asked.
            pending = list(self.topo.entry)
        self._evaluate(pending)
        for nid in finished:
            self._after(nid, Outcome("COMPLETED", outputs=dict(state.node(nid).outputs)))
        self._check_edge_waits()
        deadline = self.remaining_timeout()
        if deadline is not None:
            self._deadline = True
            self._cmds.append(StartTimer(timer_id=DEADLINE, seconds=deadline))

    def _on_attempt_finished(self, e: AttemptFinished) -> None:
        flight = self._flights.get(e.node)
        if flight is None or flight.attempt != e.attempt:
            return  # not an attempt this core started (already concluded by an abort)
        if e.aborted:
            # The run is being aborted: the attempt's record ends; the node ends with
            # the run (see ``_on_abort``), nothing else follows from it.
            self._log(
                End(
                    node=e.node,
                    attempt=e.attempt,
                    iteration=e.iteration,
                    status=e.status,
                    at=self._at,
                    ended_at=self._at,
                    duration_ms=e.duration_ms,
                    error=self.redact(_public(e.error)) if e.error is not None else None,
                )
            )
            return
        if e.rejected:
            self._rejected(flight, e.duration_ms)
            return
        status, error, outputs = e.status, e.error, e.outputs
        if e.returned and status == "COMPLETED" and (self._checks_data or e.node in self._criteria):
            node = self.wf.node(e.node)
            criteria = self._data_failure(node, outputs or {}) or self._criteria_failure(
                node, outputs or {}
            )
            if criteria is not None:
                status, error = "FAILED", criteria
        self._attempt_ended(flight, status, e.duration_ms, outputs=outputs, error=error, report=e)

    def _on_wait_requested(self, e: WaitRequested) -> None:
        flight = self._flights.get(e.node)
        if flight is None or flight.attempt != e.attempt:
            return
        provided = self._provided(e.node, e.kind, e.name) if e.settle else None
        if provided is None:
            self._wait(flight, e.kind, e.name, e.prompt, details=e.details)
            return
        person = e.kind in _PERSON_WAITS and e.kind != CALLER_WAIT
        self._cmds.append(
            ContinueAttempt(
                node=e.node,
                attempt=e.attempt,
                iteration=e.iteration,
                answer=provided if person else None,
                delivered=None if person else provided,
            )
        )

    def _provided(self, nid: str, kind: str, name: str) -> dict[str, Any] | None:
        """What an attempt asked to wait for, if it is already here (an event is used up)."""
        if kind == CALLER_WAIT:
            # The caller's report of this attempt (checked and journaled when given).
            report = self.state.reports.get(nid)
            return dict(report) if report is not None else None
        if kind in _PERSON_WAITS:
            return self._answer(self.wf.node(nid))
        names = {name, nid}
        for event in self.state.events:
            if not event["used"] and event.get("name") in names:
                self._log(Consumed(id=event["id"], node=nid))
                data = event.get("data")
                return dict(data) if isinstance(data, Mapping) else {"data": data}
        return None

    def _on_approval_used(self, e: ApprovalUsed) -> None:
        """Journal what an answer approved, so it approves nothing else later."""
        if e.subject and self.state.approved_subjects.get(e.node) != e.subject:
            self._log(Approved(node=e.node, subject=e.subject))

    def _on_process_started(self, e: ProcessStarted) -> None:
        self._log(
            Proc(
                node=e.node,
                attempt=e.attempt,
                iteration=e.iteration,
                pgid=e.pgid,
                started=e.started,
                boot_id=e.boot_id,
                token=e.token,
            )
        )

    def _on_child_started(self, e: ChildStarted) -> None:
        self._log(Child(node=e.node, run_id=e.run_id))

    def _on_answer_arrived(self, e: AnswerArrived) -> None:
        self._log(AnswerEntry(node=e.node, answer=e.answer, inbox=e.inbox, at=e.at, plain=e.plain))
        self._wake_waiting()

    def _on_report_arrived(self, e: ReportArrived) -> None:
        self._log(Report(node=e.node, report=e.report, at=e.at))
        self._wake_waiting()

    def _on_signal_delivered(self, e: SignalDelivered) -> None:
        self._log(EventEntry(id=e.id, name=e.name, data=e.data, inbox=e.inbox))
        self._wake_waiting()

    def _on_timer_fired(self, e: TimerFired) -> None:
        if e.timer_id == DEADLINE:
            return  # the host answers a deadline with Abort("TIMED_OUT")
        for flight in self._flights.values():
            if flight.timer == e.timer_id:
                flight.timer = None
                self._next_attempt(flight, None)
                return

    def _on_abort(self, e: Abort) -> None:
        """Stop the run: close what runs, end in-flight nodes, then conclude."""
        status = e.status
        if self.phase == "idle":
            # Closing a run nobody runs (``osop cancel``): what was running is in flight.
            running = [nid for nid, st in self.state.nodes.items() if st.status == "RUNNING"]
        else:
            running = list(self._flights)
        for nid in running:
            crashed = self.state.running_attempt(nid)
            if crashed is None:
                continue
            error: dict[str, Any] = (
                {"code": "TIMEOUT", "message": "the workflow deadline passed"}
                if status == "TIMED_OUT"
                else {"code": "CANCELLED", "message": "the run was cancelled"}
            )
            verdicts = e.processes.get(nid)
            if verdicts:  # what a crashed attempt left running is stopped with the run
                said = "; ".join(str(v.get("message")) for v in verdicts)
                error = {**error, "message": f"{error['message']}; {said}"}
                error["details"] = {"processes": verdicts}
            self._log(
                End(
                    node=nid,
                    attempt=crashed[0],
                    iteration=crashed[1],
                    status=status,
                    at=self._at,
                    ended_at=self._at,
                    error=error,
                )
            )
        for nid in running:
            self._log(Done(node=nid, status=status, at=self._at))
        self._flights.clear()
        self._ready.clear()
        self._stopping = True
        if self.phase == "compensating":
            # Stopped while undoing: what is left stays undone; the run ends now.
            self._compensations.clear()
            self._skip_unreached(set())
            self._finish(status)
            return
        if self.phase == "over":
            return
        self._abort_status = status
        self.phase = "running"

    # -- applying entries ------------------------------------------------------------------

    def _log(self, entry: Entry) -> None:
        """Apply ``entry`` (the state changes only here) and hand it to the host.

        A node's ``done`` right after the ``end`` of the attempt that ended it is
        folded into that end: one journal line, made durable at once with it.
        """
        into: End | None = None
        kind = type(entry)
        if kind is Done:
            out = self._out
            last = out[-1] if out else None
            if (
                type(last) is End
                and last.node == entry.node  # type: ignore[attr-defined]
                and last.done is None
                and last.iteration_done is None
            ):
                into = last
                entry.seq = last.seq  # the same line: numbered once
        counted = self._counted
        if counted and (kind is Done or kind is Skip or kind is Decide):
            # The joins' counts follow the slots the entry decides (those into a
            # counted join: ``_count_changes``).
            slots = [s for s in _entry_slots(entry) if s[1] in counted]  # type: ignore[arg-type]
            if slots:
                decisions = self.state.decisions
                before = [decisions.get(s) for s in slots]
                self.state.apply(entry)
                self._count_changes(slots, before)
            else:
                self.state.apply(entry)
        else:
            self.state.apply(entry)
        if into is not None:
            into.done = entry  # type: ignore[assignment]
            return
        self._out.append(entry)

    def _make_ready(self, nid: str) -> None:
        # Not journaled (a ready node is re-derived on resume): the state is told
        # directly what applying a ``ready`` entry does, with no entry to dispatch.
        self.state.mark_ready(nid)
        self._ready.append(nid)

    # -- the run's course ------------------------------------------------------------------

    def _drain(self) -> None:
        """Start what is ready; when nothing is in flight any more, conclude."""
        while True:
            if self.phase == "running":
                ready, nodes = self._ready, self.state.nodes
                while ready and not self._stopping:
                    nid = ready.popleft()
                    st = nodes.get(nid)
                    if st is not None and st.status == "READY":
                        self._start_flight(nid)
                if self._flights or (self._ready and not self._stopping):
                    return
                self._conclude()
            elif self.phase == "compensating":
                if self._flights:
                    return
                self._next_compensation()
            else:
                return

    def _conclude(self) -> None:
        """Pause, or end the run: skip what did not run, compensate, set the status."""
        state = self.state
        waiting = [nid for nid, st in state.nodes.items() if st.status == "WAITING"]
        if self._abort_status is None and state.failure is None and (waiting or state.edge_waits):
            self.phase = "paused"
            self._cmds.append(Pause())
            return
        for nid in waiting:  # the run ends: nobody will answer these any more
            self._log(Done(node=nid, status="CANCELLED", at=self._at))
        if self._abort_status is not None:
            status = self._abort_status
        elif state.failure is not None:
            status = "FAILED"
        else:
            status = "COMPLETED"
        if self._deadline:
            self._deadline = False
            self._cmds.append(CancelTimer(timer_id=DEADLINE))
        compensating = status in ("FAILED", "TIMED_OUT") and self.mode != "dry_run"
        # A node about to run as a compensation is not skipped first: one attempt,
        # one record (skipping it would give attempt 1 a SKIPPED and a run record).
        spared = self._compensation_targets() if compensating else set()
        self._skip_unreached(spared)
        if not compensating:
            self._finish(status)
            return
        self._abort_status = None
        self._final_status = status
        self._compensations = deque(
            (source, target)
            for source in reversed(state.completion_order)
            for target in self.topo.compensations.get(source, [])
        )
        self.phase = "compensating"

    def _finish(self, status: str) -> None:
        self.phase = "over"
        self._cmds.append(Finish(status=status))

    def _skip_unreached(self, spared: set[str]) -> None:
        for node in self.wf.nodes:
            st = self.state.node(node.id)
            if st.status in ("PENDING", "READY") and node.id not in spared:
                self._log(Skip(node=node.id, node_type=node.type, at=self._at))

    def _compensation_targets(self) -> set[str]:
        """The nodes the compensation is going to run."""
        done = self.state.compensations_done
        return {
            target
            for source in self.state.completion_order
            for target in self.topo.compensations.get(source, [])
            if (source, target) not in done
        }

    def _next_compensation(self) -> None:
        """Saga: undo completed steps in reverse completion order, one at a time."""
        while self._compensations:
            source, target = self._compensations.popleft()
            if (source, target) in self.state.compensations_done:
                continue
            self._log(Compensate(node=target, for_=source, at=self._at))
            flight = _Flight(node=target, compensation_for=source)
            self._flights[target] = flight
            self._begin_iteration(flight)
            return
        self._skip_unreached(set())
        self._finish(self._final_status)

    # -- join bookkeeping (O(1) per decision) ---------------------------------------

    def _recount(self, node_ids: list[str]) -> None:
        decisions = self.state.decisions
        for nid in node_ids:
            if nid in self._decided:  # (a join of more than one slot)
                slots = self.topo.control_in[nid]
                self._taken[nid] = sum(1 for s in slots if decisions.get(s) is True)
                self._decided[nid] = sum(1 for s in slots if s in decisions)
            if nid in self.topo.data_in:
                self._data_decided[nid] = sum(1 for s in self.topo.data_in[nid] if s in decisions)

    def _count_changes(self, slots: list[Slot], before: list[bool | None]) -> None:
        """Update the joins' counts: each of ``slots`` was decided ``before``, now as the state says."""
        decisions = self.state.decisions
        # A slot listed twice (taken, then reset by its loop) counts once.
        pairs = (
            zip(slots, before, strict=True)
            if len(slots) < 2
            else dict(zip(slots, before, strict=True)).items()
        )
        decided, roles = self._decided, self._edge_role
        for slot, old in pairs:
            new = decisions.get(slot)
            if old is new:  # None, True or False: the same object when unchanged
                continue
            pos, target = slot
            if pos >= len(roles):
                continue  # not a slot of this workflow
            role = roles[pos]
            if role == _CONTROL:
                if target not in decided:
                    continue  # a join of one slot: no count
                if old is None or new is None:
                    decided[target] += 1 if old is None else -1
                if old is True or new is True:
                    self._taken[target] += 1 if new is True else -1
            elif role == _DATA and (old is None or new is None) and target in self._data_decided:
                self._data_decided[target] += 1 if old is None else -1

    def _join(self, nid: str) -> str | None:
        """``ready``, ``skip`` or None (not yet decided) for a PENDING node."""
        topo = self.topo
        data = topo.data_in.get(nid)
        if data is not None and self._data_decided[nid] < len(data):
            return None
        slots = topo.control_in[nid]
        if not slots:
            if nid in topo.compensation_only:
                return None
            return "ready"
        decided = self._decided.get(nid)
        if decided is None:
            # A join of one slot (no count kept): whatever the rule, its slot taken
            # means ready, not taken skip.
            taken_one = self.state.decisions.get(slots[0])
            if taken_one is None:
                return None
            return "ready" if taken_one is True else "skip"
        total = len(slots)
        if decided == 0:
            return None  # nothing decided yet: no join rule can be met
        taken = self._taken[nid]
        rule, count = topo.join_of(nid)
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
        nodes = self.state.nodes
        while work:
            nid = work.popleft()
            st = nodes.get(nid)
            if st is None:
                st = self.state.node(nid)
            if st.status != "PENDING":
                continue
            verdict = self._join(nid)
            if verdict == "ready":
                self._make_ready(nid)
            elif verdict == "skip":
                work.extend(self._skip(nid))

    def _skip(self, nid: str) -> list[str]:
        """Mark ``nid`` SKIPPED and its outgoing slots not taken; returns targets to re-check."""
        decisions: dict[str, list[Any]] = {}
        for slot in self.topo.out_slots[nid]:
            self._place(slot, False, nid, decisions)
        st = self.state.node(nid)
        entry = Skip(
            node=nid, node_type=self.wf.node(nid).type, iteration=st.iteration, at=self._at
        )
        _set_decisions(entry, decisions)
        released = self._release_loops(nid, entry)
        self._log(entry)
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

    def _release_loops(self, nid: str, entry: _Decisions) -> list[str]:
        """``nid`` ended without looping back: decide the exits its loops held."""
        targets: list[str] = []
        for pos in self._loops_from.get(nid, ()):
            held = self.state.deferred.get(pos)
            if not held:
                continue
            for slot, taken in held.items():
                if taken:
                    entry.taken = [*(entry.taken or []), list(slot)]
                else:
                    entry.not_ = [*(entry.not_ or []), list(slot)]
                targets.append(slot[1])
            entry.released = [*(entry.released or []), pos]
        return targets

    # -- running one node: iterations, attempts, retries --------------------------------

    def _start_flight(self, nid: str) -> None:
        flight = _Flight(node=nid)
        self._flights[nid] = flight
        items = self.state.items.get(nid)
        st = self.state.nodes.get(nid) or self.state.node(nid)
        if items is None:
            iteration = st.iteration
            if iteration is None and nid in self.topo.loops_of:
                iteration = 1
            flight.iteration = iteration
            if not st.failures and nid not in self.state.waits:
                # Nothing failed, nothing waited: its next attempt, as _begin_iteration
                # would decide it (one call less per node).
                self._begin_attempt(flight, st.attempt + 1)
            else:
                self._begin_iteration(flight)
            return
        # A forward loop edge: the node runs once per item, or while ``when`` holds.
        # Record iterations are ``base + index + 1``: unique per node even when the
        # loop itself runs again inside an outer loop.
        flight.spec = items
        base = int(items.get("base") or 0)
        flight.outcome = Outcome("COMPLETED", outputs=dict(st.outputs))
        index = st.iterations_done
        last = self.state.last_record(nid)
        if last is not None and last["status"] == "COMPLETED" and st.iteration == base + index + 1:
            index += 1  # resumed: that iteration completed, only its bookkeeping was lost
            self._iteration_done(nid, base + index, index)
        flight.index = index
        self._next_iteration(flight)

    def _next_iteration(self, flight: _Flight) -> None:
        spec = flight.spec or {}
        node = self.wf.node(flight.node)
        var = str(spec.get("var") or "item")
        values = spec.get("items")
        base = int(spec.get("base") or 0)
        limit = spec.get("max") or (None if values is not None else DEFAULT_MAX_ITERATIONS)
        index = flight.index
        outcome = flight.outcome or Outcome("COMPLETED")
        if values is not None:
            if index >= len(values):
                self._node_finished(flight, outcome)
                return
            loop_vars: dict[str, Any] = {var: values[index], "index": index, "iteration": index + 1}
        else:
            if index > 0 and not self._while_holds(node, spec, index):
                self._node_finished(flight, outcome)
                return
            loop_vars = {"index": index, "iteration": index + 1}
        if limit is not None and index >= int(limit):
            self._node_finished(flight, outcome)
            return
        flight.iteration = base + index + 1
        flight.loop_vars = loop_vars
        self._begin_iteration(flight)

    def _iteration_done(self, nid: str, iteration: int, done: int) -> None:
        self._log(
            End(
                node=nid,
                attempt=self.state.node(nid).attempt,
                iteration=iteration,
                status="COMPLETED",
                iteration_done=done,
                at=self._at,
            )
        )

    def _while_holds(self, node: Node, spec: Mapping[str, Any], index: int) -> bool:
        when = spec.get("when")
        if not when:
            return False
        edge = self._edges[int(spec["edge"])]
        outcome = Outcome("COMPLETED", outputs=dict(self.state.node(node.id).outputs))
        return self._edge_condition(edge, node, outcome, default=False, loop={"iteration": index})

    def _policy(self, node: Node) -> RetryPolicy:
        return node.retry or self.wf.retry or _NO_RETRY

    def _begin_iteration(self, flight: _Flight) -> None:
        """The first attempt of an iteration (or the retry a crash left undecided)."""
        nid = flight.node
        st = self.state.nodes.get(nid) or self.state.node(nid)
        pending_wait = self.state.waits.get(nid)
        last = self.state.last_record(nid) if pending_wait is None and st.failures else None
        if last and last["status"] in _FAILED:
            # Resumed after a failed attempt whose retry was not yet decided.
            error = dict(last.get("error") or {})
            outcome = Outcome(str(last["status"]), error=error)
            policy = self._policy(self.wf.node(nid))
            if not self._retry_allowed(policy, st.failures, st.retryable, error):
                self._node_finished(flight, outcome)
                return
            self._start_retry_timer(flight, policy.delay_before(st.failures + 1))
            return
        self._begin_attempt(flight, _attempt_number(st, pending_wait))

    def _start_retry_timer(self, flight: _Flight, seconds: float) -> None:
        flight.timer = retry_timer(flight.node)
        self._cmds.append(StartTimer(timer_id=flight.timer, seconds=seconds))

    def _next_attempt(self, flight: _Flight, pending_wait: Mapping[str, Any] | None) -> None:
        st = self.state.nodes.get(flight.node) or self.state.node(flight.node)
        self._begin_attempt(flight, _attempt_number(st, pending_wait))

    def _retry_allowed(
        self, policy: RetryPolicy, failures: int, retryable: bool, error: Mapping[str, Any]
    ) -> bool:
        return (
            self.mode != "dry_run"
            and retryable
            and failures < policy.max_attempts
            and policy.retries(str(error.get("code") or ""))
        )

    def _begin_attempt(self, flight: _Flight, attempt: int) -> None:
        """Journal the attempt's start; settle what needs no executor, or ask the host."""
        nid = flight.node
        node = self.wf.node(nid)
        iteration = flight.iteration
        loop_vars = flight.loop_vars
        pending = self.state.waits.get(nid)  # the start entry below clears it
        resume_child = (
            str(pending.get("name"))
            if pending is not None and pending.get("kind") == "child"
            else None
        )
        resolve_error: OsopError | None
        scope: Scope | None = None
        try:
            if nid in self._gathers_inputs:
                inputs = self._node_inputs(node, lambda: self._scope_of(node, loop_vars), loop_vars)
            else:  # nothing to interpolate or pass along (what _node_inputs returns)
                inputs = {"loop": dict(loop_vars)} if loop_vars else {}
            # The scope is built here only when the runtime is interpolated; else the
            # host builds the same one (``node_scope``) if the executor needs it, which
            # a plainly simulated attempt does not (a scope was ~2 % of a simulated
            # chain's instructions per node, bench/bench_engine.py "built-in simulator").
            if nid in self._templated:
                scope = self._scope_of(node, loop_vars, inputs)
                runtime = scope.interpolate(node.runtime)
            else:  # what interpolating it gives: a copy of its containers
                runtime = _copied(node.runtime) if node.runtime else {}
            resolve_error = None
        except (MissingReferenceError, ExpressionError, ClassificationError) as exc:
            runtime, inputs, resolve_error = {}, {}, exc
        self._log(
            Start(
                node=nid,
                node_type=node.type,
                attempt=attempt,
                iteration=iteration,
                at=self._at,
                classification=node.classification or None,
                inputs=self.redact(inputs) if inputs else None,
            )
        )
        flight.attempt = attempt
        flight.waited_since = None
        if pending is not None and pending.get("kind") in _PERSON_WAITS:
            record = self.state.last_record(nid)
            flight.waited_since = str(record["started_at"]) if record else self._at
        if resolve_error is not None:
            code = "CLASSIFICATION" if isinstance(resolve_error, ClassificationError) else None
            self._attempt_ended(
                flight,
                "FAILED",
                0.0,
                error={
                    "code": code or "MISSING_REFERENCE",
                    "message": str(resolve_error),
                    "_retryable": False,
                },
            )
            return
        if self.mode == "dry_run":
            self._attempt_ended(flight, "COMPLETED", 0.0, outputs={})
            return
        answer = self._answer(node) if nid in self.state.answers else None
        approval = self._unanswered if answer is None else self._approval_given(answer)
        if nid in self._gated:
            gate = approval if node.requires_approval else "ok"
            if gate == "wait":
                self._wait(flight, "approval", nid, _gate_prompt(node))
                return
            if gate == "rejected":
                self._rejected(flight, 0.0)
                return
            precondition = self._check_preconditions(node, inputs) if node.preconditions else None
            if precondition is not None:
                self._attempt_ended(flight, "FAILED", 0.0, error=precondition)
                return
        self._cmds.append(
            StartAttempt(
                node=nid,
                attempt=attempt,
                iteration=iteration,
                loop_vars=loop_vars,
                inputs=inputs,
                runtime=runtime,
                answer=answer,
                approval=approval,
                rehearsal_approves=self._rehearsal_approves,
                resume_child=resume_child or self.state.open_children.get(nid),
                timeout_sec=node.timeout_sec,
                waiting=dict(pending) if pending is not None else None,
                compensating=self.phase == "compensating",
                scope=scope,
            )
        )

    def _attempt_ended(
        self,
        flight: _Flight,
        status: str,
        duration_ms: float,
        *,
        outputs: Mapping[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        report: AttemptFinished | None = None,
        approval_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Journal an attempt's end; then retry, go on with the loop, or end the node.

        ``report``: what the host reported of it (metadata, tools, cost, children).
        """
        nid = flight.node
        entry = End(
            node=nid,
            attempt=flight.attempt,
            iteration=flight.iteration,
            status=status,
            at=self._at,
            ended_at=self._at,
            duration_ms=duration_ms,
        )
        public = _public(error) if error is not None else None
        if outputs is not None:
            # redacting copies a mapping (no need to copy it first)
            entry.outputs = self.redact(outputs if isinstance(outputs, dict) else dict(outputs))
        if public is not None:
            entry.error = self.redact(public)
            if error is not None and error.get("_retryable") is False:
                entry.retryable = False
        if report is not None:
            # Unknown facts are left out rather than written as null.
            if report.ai_metadata:
                entry.ai_metadata = self.redact(_known(report.ai_metadata))
            if report.human_metadata:
                entry.human_metadata = self.redact(_known(report.human_metadata))
            if report.tools_used:
                entry.tools_used = self.redact(report.tools_used)
            if report.cost_usd is not None:
                entry.cost_usd = report.cost_usd
            if report.children:
                entry.children = self.redact(report.children)
        if approval_metadata:
            entry.human_metadata = self.redact(approval_metadata)
        if flight.waited_since is not None:
            self._time_the_wait(self.wf.node(nid), flight.waited_since, entry)
            flight.waited_since = None
        if report is not None and report.child_run_id is not None:
            entry.child_run_id = report.child_run_id
        self._log(entry)
        if status == "COMPLETED" and flight.spec is None and flight.compensation_for is None:
            # The node ended (what _iteration_completed and _node_finished do for a
            # node outside a forward loop and not compensating), without two calls.
            self._flights.pop(nid, None)
            if nid not in self._ruled:
                self._after_plain(nid, entry.error)
                return
            self._after(
                nid, Outcome(status, outputs=dict(outputs) if outputs else {}, error=entry.error)
            )
            return
        outcome = Outcome(status, outputs=dict(outputs) if outputs else {}, error=entry.error)
        if status == "COMPLETED":
            self._iteration_completed(flight, outcome)
            return
        retryable = error is None or error.get("_retryable", True) is not False
        policy = self._policy(self.wf.node(nid))
        st = self.state.node(nid)
        if not self._retry_allowed(policy, st.failures, retryable, public or {}):
            self._node_finished(flight, outcome)
            return
        self._start_retry_timer(flight, policy.delay_before(st.failures + 1))

    def _iteration_completed(self, flight: _Flight, outcome: Outcome) -> None:
        if flight.spec is None:
            self._node_finished(flight, outcome)
            return
        flight.outcome = outcome
        flight.index += 1
        base = int(flight.spec.get("base") or 0)
        self._iteration_done(flight.node, base + flight.index, flight.index)
        self._next_iteration(flight)

    def _node_finished(self, flight: _Flight, outcome: Outcome) -> None:
        self._flights.pop(flight.node, None)
        if flight.compensation_for is not None:
            self._log(
                Done(
                    node=flight.node,
                    status=outcome.status,
                    at=self._at,
                    compensation=True,
                    for_=flight.compensation_for,
                )
            )
            return
        self._after(flight.node, outcome)

    def _wait(
        self,
        flight: _Flight,
        kind: str,
        name: str,
        prompt: str | None,
        *,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
    ) -> None:
        """The attempt waits: the node leaves the flight until its answer or event comes."""
        self._flights.pop(flight.node, None)
        self._log(
            Wait(
                node=flight.node,
                attempt=flight.attempt,
                iteration=flight.iteration,
                kind=kind,
                name=name,
                prompt=prompt,
                at=self._at,
                details=details or None,
            )
        )
        self._cmds.append(WaitFor(node=flight.node, kind=kind, name=name, prompt=prompt))

    def _rejected(self, flight: _Flight, duration_ms: float) -> None:
        answer = self._answer(self.wf.node(flight.node)) or {}
        self._attempt_ended(
            flight,
            "FAILED",
            duration_ms,
            error={
                "code": "REJECTED",
                "message": f"approval refused ({answer.get('decision', 'rejected')})",
                "_retryable": False,
            },
            approval_metadata=_approval_metadata(answer),
        )

    def _time_the_wait(self, node: Node, since: str, entry: End) -> None:
        """An attempt that waited for a person: its times are the wait's, not this session's.

        It began when the wait did (``since``, possibly days and processes ago); a
        human node ended when the answer arrived (``answered_at``), a node behind
        an approval when it finished running.  ``response_time_ms`` is the wait.
        """
        now = self._now_dt()
        began = parse_timestamp(since) or now
        now = max(now, began)
        answer = self._answer(node) or {}
        answered = parse_timestamp(answer.get("answered_at"))
        if answered is not None:
            answered = min(max(answered, began), now)
        end = answered if answered is not None and node.type == "human" else now
        entry.ended_at = _iso(end)
        entry.duration_ms = round((end - began).total_seconds() * 1000.0, 3)
        if answered is None:
            return
        metadata = dict(entry.human_metadata or {})
        if not metadata:  # a node behind an approval: the approval is its human part
            metadata = self.redact(_approval_metadata(answer))
        metadata["response_time_ms"] = round((answered - began).total_seconds() * 1000.0)
        entry.human_metadata = metadata

    def _now_dt(self) -> datetime:
        if self._now is None:
            parsed = parse_timestamp(self._at)
            if parsed is None:
                raise ValueError(f"the core was given no time (at={self._at!r})")
            self._now = parsed
        return self._now

    # -- after a node ended -----------------------------------------------------------

    def _after(self, nid: str, outcome: Outcome) -> None:
        node: Node | None = None  # looked up when a rule needs it
        completed = outcome.status == "COMPLETED"
        entry = Done(node=nid, status=outcome.status, at=self._at)
        # Slots decided here are the topology's own tuples (encoded as ``[edge, target]``
        # like the lists the other rules make): the state keeps them as they are, one
        # tuple per slot instead of a copy per decision (56 bytes a node on a chain).
        taken_slots: list[Any] = []
        not_taken: list[Any] = []
        decisions: dict[str, list[Any]] = {"taken": taken_slots, "not": not_taken}
        handled = False
        targets: list[str] = []
        weighted_choice: str | None = None
        switch_choice: dict[int, str | None] | None = None  # made when a switch needs it
        # The loop decision comes first: while it goes round, the exits wait.
        loop_entry = None
        if nid in self._loops_from:
            node = self.wf.node(nid)
            loop_entry = self._loop_back(nid, node, outcome)
        if loop_entry is not None and self._edges[loop_entry["edge"]].mode in FAILURE_MODES:
            handled = True  # "fix and retry": the failure goes round the loop
        kinds, exits = self._edge_kind, self.topo.exit_of
        for slot in self.topo.out_slots[nid]:
            pos, target = slot
            kind = kinds[pos]
            if kind == _EDGE_SKIPPED:
                continue
            if exits and slot in exits:
                if loop_entry is not None:
                    continue
            elif completed and kind != _EDGE_DECIDED_BY_RULE:
                # Taken because the node completed, or (a failure's edge) not taken.
                (taken_slots if kind == _EDGE_ON_SUCCESS else not_taken).append(slot)
                targets.append(target)
                continue
            edge = self._edges[pos]
            if node is None:
                node = self.wf.node(nid)
            if edge.mode in ("event", "signal") and outcome.status == "COMPLETED":
                if self._rehearsed_event(edge):
                    self._place(slot, True, nid, decisions)
                    targets.append(target)
                    continue
                # `when` filters the events, so it is evaluated when one arrives.
                decisions.setdefault("waiting", []).append(
                    [list(slot), {"name": _event_names(edge)[0], "at": self._at}]
                )
                continue
            if edge.mode == "weighted" and outcome.status == "COMPLETED":
                if weighted_choice is None:
                    weighted_choice = self._weighted_choice(nid)
                taken = target == weighted_choice
            elif edge.mode == "switch" and edge.cases and outcome.status == "COMPLETED":
                if switch_choice is None:
                    switch_choice = {}
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
                message = {
                    "from": nid,
                    "to": target,
                    "edge": pos,
                    "at": self._at,
                    "payload": self.redact(outcome.outputs),
                }
                entry.messages = [*(entry.messages or []), message]
            self._place(slot, taken, nid, decisions)
            targets.append(target)
        failed = outcome.status in _FAILED
        if outcome.error is not None:
            entry.error = outcome.error
        if taken_slots:
            entry.taken = taken_slots
        if not_taken:
            entry.not_ = not_taken
        if "held" in decisions:
            entry.held = decisions["held"]
        if "waiting" in decisions:
            entry.waiting = decisions["waiting"]
        if loop_entry is None and nid in self._loops_from:
            targets.extend(self._release_loops(nid, entry))
        if failed and not handled:
            entry.unhandled = True  # the run fails (same entry: a crash cannot split them)
            self._stopping = True
        if loop_entry is not None:
            # One entry for "ended" and "goes round again": a crash cannot split them.
            entry.loop = loop_entry
        self._log(entry)
        if loop_entry is not None:
            self._recount(list(loop_entry["body"]))
            self._ready.append(loop_entry["target"])
        if self.state.edge_waits:
            self._check_edge_waits()
        self._evaluate(targets)

    def _after_plain(self, nid: str, error: dict[str, Any] | None) -> None:
        """What :meth:`_after` decides for a node that completed and is not in
        ``_ruled``: its edges are taken (failure modes: not taken) by the mode alone.

        No outcome to build (nor a copy of the outputs), no rule to ask: a chain
        node's completion 151 bytecodes in ``_after`` -> 84 here.
        """
        entry = Done(node=nid, status="COMPLETED", at=self._at)
        if error is not None:
            entry.error = error
        targets: list[str] = []
        slots = self.topo.out_slots[nid]
        if slots:
            kinds = self._edge_kind
            taken: list[Any] = []
            not_taken: list[Any] = []
            for slot in slots:
                kind = kinds[slot[0]]
                if kind == _EDGE_ON_SUCCESS:
                    taken.append(slot)
                elif kind == _EDGE_NOT_ON_SUCCESS:
                    not_taken.append(slot)
                else:
                    continue
                targets.append(slot[1])
            if taken:
                entry.taken = taken
            if not_taken:
                entry.not_ = not_taken
        self._log(entry)
        if self.state.edge_waits:
            self._check_edge_waits()
        self._evaluate(targets)

    def _wake_waiting(self) -> None:
        """After new deliveries: retry the waiting nodes that can now go on."""
        if self.phase not in ("running", "paused"):
            return  # before the session began, the frontier takes them in
        woken = False
        for nid, wait in list(self.state.waits.items()):
            kind = wait.get("kind")
            node = self.wf.node(nid)
            if kind == "child":
                continue  # the child run takes its own deliveries when resumed
            if kind == CALLER_WAIT:
                ready = nid in self.state.reports
            elif kind in _PERSON_WAITS:
                ready = self._answer(node) is not None
            else:
                names = {wait.get("name"), nid}
                ready = any(not e["used"] and e.get("name") in names for e in self.state.events)
            if ready and self.state.node(nid).status == "WAITING":
                self._make_ready(nid)
                woken = True
        before = len(self._ready)
        self._check_edge_waits()
        if (woken or len(self._ready) > before) and self.phase == "paused":
            self.phase = "running"

    # -- edge semantics ------------------------------------------------------------------

    def _edge_taken(self, edge: Edge, node: Node, outcome: Outcome) -> bool:
        status = outcome.status
        mode = edge.mode
        if mode == "fallback":
            return status == "FAILED" or (
                status == "TIMED_OUT" and node.id not in self._timeout_sources
            )
        if mode == "timeout":
            return status == "TIMED_OUT"
        if mode == "error":
            if status not in _FAILED:
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

    def node_scope(
        self,
        node_id: str,
        loop_vars: Mapping[str, Any],
        node_inputs: Mapping[str, Any] | None = None,
    ) -> Scope:
        """What a node's ``${...}`` and its executor's expressions see.

        ``inputs.X`` reads the node's own inputs first, then the run's; reading
        another node's outputs is a data flow, checked against classifications.
        """
        return self._scope_of(self.wf.node(node_id), loop_vars, node_inputs)

    def _scope_of(
        self, node: Node, loop_vars: Mapping[str, Any], node_inputs: Mapping[str, Any] | None = None
    ) -> Scope:
        given = self.state.meta.get("inputs")
        if not node_inputs and not loop_vars and not self._flows_checked:
            # The usual node (no inputs of its own, no loop, nothing classified): its
            # scope is the run's but for ``metadata``.  The namespaces and layers
            # make_scope would build are made once and copied (callgrind: 12,660 ->
            # 9,120 instructions a scope).
            plain = self._plain_scope
            outputs = self._outputs
            if plain is None or plain[0] is not given or plain[1] is not outputs:
                variables = self.wf.variables
                run_inputs = given or {}
                plain = self._plain_scope = (
                    given,
                    outputs,
                    # make_scope's namespaces, in its order ("metadata" set per node)
                    {
                        "inputs": run_inputs,
                        "outputs": outputs,
                        "variables": variables,
                        "metadata": None,
                        "env": self.env,
                    },
                    # and its bare-name layers: own (none), inputs, variables, outputs
                    (_NO_OWN, run_inputs, variables, outputs),
                )
            namespaces = plain[2].copy()
            namespaces["metadata"] = Lazy(lambda: self._metadata(node))
            return Scope(
                namespaces, plain[3], self.settings.secrets, self._learn, self.mode != "live"
            )
        run_inputs = given or {}
        inputs = {**run_inputs, **node_inputs} if node_inputs else run_inputs
        return make_scope(
            own=node_inputs,
            inputs=inputs,
            outputs=NodeOutputs(
                self._recorded_outputs,
                self.state.nodes.keys,
                guard=lambda source: self._check_flow(source, node),
            )
            if self._flows_checked
            else self._outputs,  # nothing classified: every node may read every output
            variables=self.wf.variables,
            loop=loop_vars or None,
            metadata=Lazy(lambda: self._metadata(node)),
            env=self.env,
            secrets=self.settings.secrets,
            on_secret=self._learn,
            rehearsal=self.mode != "live",
        )

    def _learn_secret(self, value: str) -> None:
        self.redact.add([value])

    def let_go(self) -> None:
        """The host is done with the core: drop the core's own bound methods it keeps
        (a cycle that held the run's whole state until the cyclic collector ran)."""
        self._outputs = NodeOutputs(_no_outputs, self.state.nodes.keys)
        self._learn = _learn_nothing
        self._plain_scope = None  # (it holds the outputs above)

    def _metadata(self, node: Node | None) -> dict[str, Any]:
        meta = {
            "run_id": self.run_id,
            "workflow_id": self.wf.id,
            "mode": self.mode,
            "started_at": self.state.meta.get("started_at"),
            "timestamp": self._at,
        }
        if node is not None:
            meta["node_id"] = node.id
        return meta

    def _facts(self, node_id: str) -> NodeFacts | None:
        """What ``status()``, ``duration_of()``, ``error_of()`` and ``attempt()`` read."""
        st = self.state.nodes.get(node_id)
        if st is None:
            return None
        status = st.status
        override = self._status_of
        if override is not None and override[0] == node_id:
            status = override[1]
        duration = st.duration_ms / 1000.0 if st.duration_ms is not None else None
        return NodeFacts(
            status=status if status != "READY" else "PENDING",
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
            clock=self._now_dt,
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
        # The outcome's node status is final by now for status() purposes.
        saved = self._status_of
        self._status_of = (node.id, outcome.status)
        try:
            value = self.evaluate(edge.when, node, outcome, loop=loop)
        except (ExpressionError, MissingReferenceError) as exc:
            return self._undecidable(edge, exc)
        finally:
            self._status_of = saved
        return bool(value)

    def _undecidable(self, edge: Edge, exc: OsopError) -> bool:
        """A condition that cannot be evaluated: an error live, lenient when rehearsing."""
        where = f"edge {edge.source} -> {edge.target} ({edge.mode})"
        if self.mode == "dry_run":
            return True  # show every path the run might take
        if self.mode == "simulated":
            self._log(RunWarning(message=f"{where}: {exc}; not taken"))
            return False
        self._log(
            Failing(
                node=edge.source,
                status="FAILED",
                error={"code": "EXPRESSION_ERROR", "message": f"{where}: {exc}"},
                at=self._at,
            )
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
        entry = Items(
            node=edge.target,
            edge=pos,
            var=edge.iterator_var or "item",
            max=edge.max_iterations,
            base=self.state.node(edge.target).iteration or 0,
        )
        if edge.for_each:
            items = self._for_each_items(edge, node, outcome) or []
            items = items[: min(edge.max_iterations or MAX_ITERATIONS, MAX_ITERATIONS)]
            entry.items = self.redact(items)
        else:
            entry.when = edge.when
        self._log(entry)

    def _loop_back(self, nid: str, node: Node, outcome: Outcome) -> dict[str, Any] | None:
        """A back edge out of ``nid`` that holds: what starts the next iteration."""
        for pos in self._loops_from.get(nid, ()):
            edge, body = self._edges[pos], self.topo.back_edges[pos]
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
                for s in self.topo.control_in[member] + self.topo.data_slots(member)
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
                "at": self._at,
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
            self._log(Consumed(id=event["id"], slot=list(slot)))
            self._log(Decide(taken=[list(slot)], at=self._at))
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

    # -- what an attempt is given and checked against ------------------------------------

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
        self, node: Node, scope_of: Callable[[], Scope], loop_vars: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The node's own inputs: interpolated, passed along data edges and messages.

        The scope they are interpolated in is built only when something needs it.
        """
        if node.id not in self._gathers_inputs:  # nothing to interpolate or pass along
            return {"loop": dict(loop_vars)} if loop_vars else {}
        made: list[Scope] = []

        def scope() -> Scope:
            if not made:
                made.append(scope_of())
            return made[0]

        inputs: dict[str, Any] = {}
        if isinstance(node.inputs, Mapping):
            for key, value in node.inputs.items():
                if isinstance(value, str) and "${" in value:
                    inputs[str(key)] = scope().interpolate(value)
        if node.workflow_inputs:
            inputs.update(scope().interpolate(node.workflow_inputs))
        for slot in self.topo.data_slots(node.id):
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
                        inputs[str(key)] = scope().interpolate(ref)
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

    @staticmethod
    def _approves(answer: Mapping[str, Any]) -> bool:
        if "approved" in answer:
            return answer["approved"] is True or str(answer["approved"]).lower() in _APPROVED
        return str(answer.get("decision", "")).strip().lower() in _APPROVED

    def _approval_state(self, node: Node, needed: bool) -> str:
        """``ok``, ``wait`` or ``rejected`` for a node that needs an approval."""
        if not needed:
            return "ok"
        return self._approval_given(self._answer(node))

    def _approval_given(self, answer: Mapping[str, Any] | None) -> str:
        """``ok``, ``wait`` or ``rejected``, by the node's answer (None: no answer yet)."""
        if answer is None:
            if self.settings.auto_approve:
                return "ok"
            if self.mode in ("simulated", "dry_run"):
                return "ok"  # rehearsals approve unless the answers say otherwise
            return "wait"
        return "ok" if self._approves(answer) else "rejected"

    def _check_preconditions(self, node: Node, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        if not node.preconditions:
            return None
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
        if not self._checks_data or (
            self.mode == "simulated" and not self._simulated_outputs(node)
        ):
            return None  # a rehearsal's made-up placeholder outputs promise nothing
        message = self.data_checks.violation(node.id, outputs)
        if message is None:
            return None
        return {"code": CONTRACT_VIOLATION, "message": message}

    def _simulated_outputs(self, node: Node) -> bool:
        """Whether a simulated node's outputs were given (``x-simulate.outputs`` or the
        run's simulation settings) rather than made up from the declarations."""
        for settings in (node.raw.get("x-simulate"), self.settings.simulation.get(node.id)):
            if isinstance(settings, Mapping) and isinstance(settings.get("outputs"), Mapping):
                return True
        return False

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


_HANDLERS: dict[type[Any], Callable[[Core, Any], None]] = {
    Begin: Core._on_begin,
    AttemptFinished: Core._on_attempt_finished,
    WaitRequested: Core._on_wait_requested,
    ApprovalUsed: Core._on_approval_used,
    ProcessStarted: Core._on_process_started,
    ChildStarted: Core._on_child_started,
    AnswerArrived: Core._on_answer_arrived,
    ReportArrived: Core._on_report_arrived,
    SignalDelivered: Core._on_signal_delivered,
    TimerFired: Core._on_timer_fired,
    Abort: Core._on_abort,
}


def _no_outputs(nid: str) -> Mapping[str, Any] | None:
    return None


def _learn_nothing(value: str) -> None:
    pass


def _iso(moment: datetime) -> str:
    from osop.engine.clock import iso

    return iso(moment)


def _attempt_number(st: NodeState, pending_wait: Mapping[str, Any] | None) -> int:
    """The number of a node's next attempt: the waiting one's again, else one more."""
    if pending_wait is not None:
        return int(pending_wait.get("attempt") or max(1, st.attempt))
    return st.attempt + 1


def _public(error: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (error or {}).items() if not k.startswith("_")}


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _set_decisions(entry: _Decisions, decisions: Mapping[str, list[Any]]) -> None:
    for key, value in decisions.items():
        if value:
            attr = "not_" if key == "not" else key
            setattr(entry, attr, [*(getattr(entry, attr) or []), *value])


def _entry_slots(entry: _Decisions) -> list[Slot]:
    """The slots whose decision ``entry`` may change (taken, not taken, reset by a loop)."""
    slots: list[Slot] = []
    for listed in (entry.taken, entry.not_):
        if listed:  # slots or ``[edge, target]`` lists the core made: no conversion needed
            slots.extend([raw if type(raw) is tuple else (raw[0], raw[1]) for raw in listed])
    if type(entry) is Done and entry.loop:
        for raw in entry.loop.get("reset", ()):
            slots.append((raw[0], raw[1]))
    return slots


def _has_dollar(value: Any) -> bool:
    """Whether a string in ``value`` (deeply) has a ``$``: what interpolation looks for."""
    if not value:
        return False
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, Mapping):
        return any(_has_dollar(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_dollar(item) for item in value)
    return False


def _copied(value: Any) -> Any:
    """What :func:`osop.expr.interpolate.interpolate` returns for a value without ``$``."""
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()} if value else {}
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copied(item) for item in value)
    return value


def _interpolates_inputs(node: Node) -> bool:
    """Whether ``node``'s own inputs have a ``${...}`` to interpolate (``_node_inputs``)."""
    if node.workflow_inputs:
        return True
    inputs = node.inputs
    return (
        bool(inputs)
        and isinstance(inputs, Mapping)
        and any(isinstance(value, str) and "${" in value for value in inputs.values())
    )


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
