"""The state of a run, rebuilt from its journal entry by entry.

The engine appends an entry and then applies it here (never the reverse), so
the state after a crash is exactly what replaying the journal produces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
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

__all__ = ["FINAL_STATUSES", "Attempt", "NodeState", "RunState"]

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
    #: The record of the node's first attempt outside any loop (the usual one; the
    #: others are in ``RunState._attempts``): a slot here is 8 bytes, an entry of
    #: that dict ~38 B/node (tracemalloc, a 50k chain).
    first: Attempt | None = None


#: An :class:`Attempt` field the attempt does not have (the mapping has no such key).
_ABSENT: Any = type("_Absent", (), {"__repr__": lambda self: "<absent>"})()

#: The keys an :class:`Attempt` keeps in its own slots, in its mapping's order; the
#: others live in its ``more`` mapping, in the order they were set.
_FIELDS = (
    "node_id",
    "node_type",
    "attempt",
    "status",
    "started_at",
    "ended_at",
    "duration_ms",
    "outputs",
)
_FIELD_SET = frozenset(_FIELDS)


class Attempt(MutableMapping[str, Any]):
    """One attempt's record in a run's state: a mapping of the node record's fields
    (``node_id``, ``status``, ``outputs`` ...) and the engine's own ``x-`` keys.

    Not a dict: a finished run holds one per attempt, and an attempt's dict (eight
    keys) was 272 bytes against 104 for these slots (tracemalloc, a 100k chain;
    the state at a run's end is its memory peak).  The usual fields are slots
    (:data:`_ABSENT` when unset); any other key lives in ``more``.  It reads and
    writes like the dict it replaces; its keys come in the slots' order, then
    ``more``'s.  :meth:`as_dict` is the plain mapping the record encodes.
    """

    __slots__ = (*_FIELDS, "more")

    node_id: Any
    node_type: Any
    attempt: Any
    status: Any
    started_at: Any
    ended_at: Any
    duration_ms: Any
    outputs: Any
    #: Every other key, in the order it was set (None: there is none).
    more: dict[str, Any] | None

    def __init__(
        self,
        node_id: Any = _ABSENT,
        node_type: Any = _ABSENT,
        attempt: Any = _ABSENT,
        status: Any = _ABSENT,
        started_at: Any = _ABSENT,
        more: dict[str, Any] | None = None,
    ) -> None:
        self.node_id = node_id
        self.node_type = node_type
        self.attempt = attempt
        self.status = status
        self.started_at = started_at
        self.ended_at = _ABSENT
        self.duration_ms = _ABSENT
        self.outputs = _ABSENT
        self.more = more or None

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Attempt:
        """An attempt holding ``mapping``'s keys and values (a multi-agent node's agents)."""
        made = cls()
        made.update(mapping)
        return made

    def as_dict(self) -> dict[str, Any]:
        """The attempt as a plain dict (same keys, order and values)."""
        if (
            self.more is None
            and self.node_id is not _ABSENT
            and self.node_type is not _ABSENT
            and self.attempt is not _ABSENT
            and self.status is not _ABSENT
            and self.started_at is not _ABSENT
            and self.ended_at is not _ABSENT
            and self.duration_ms is not _ABSENT
            and self.outputs is not _ABSENT
        ):
            # The usual finished attempt: one dict display (this runs for every
            # attempt each time the record is encoded).
            return {
                "node_id": self.node_id,
                "node_type": self.node_type,
                "attempt": self.attempt,
                "status": self.status,
                "started_at": self.started_at,
                "ended_at": self.ended_at,
                "duration_ms": self.duration_ms,
                "outputs": self.outputs,
            }
        out = {key: value for key in _FIELDS if (value := getattr(self, key)) is not _ABSENT}
        if self.more is not None:
            out.update(self.more)
        return out

    def __getitem__(self, key: str) -> Any:
        if key in _FIELD_SET:
            value = getattr(self, key)
            if value is not _ABSENT:
                return value
        elif self.more is not None and key in self.more:
            return self.more[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in _FIELD_SET:
            value = getattr(self, key)
            return default if value is _ABSENT else value
        return default if self.more is None else self.more.get(key, default)

    def __contains__(self, key: object) -> bool:
        if key in _FIELD_SET:
            return getattr(self, str(key)) is not _ABSENT
        return self.more is not None and key in self.more

    def __setitem__(self, key: str, value: Any) -> None:
        if key in _FIELD_SET:
            setattr(self, key, value)
        elif self.more is None:
            self.more = {key: value}
        else:
            self.more[key] = value

    def __delitem__(self, key: str) -> None:
        if key in _FIELD_SET:
            if getattr(self, key) is _ABSENT:
                raise KeyError(key)
            setattr(self, key, _ABSENT)
        elif self.more is not None and key in self.more:
            del self.more[key]
            if not self.more:
                self.more = None
        else:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        for key in _FIELDS:
            if getattr(self, key) is not _ABSENT:
                yield key
        if self.more is not None:
            yield from self.more

    def __len__(self) -> int:
        count = sum(1 for key in _FIELDS if getattr(self, key) is not _ABSENT)
        return count + (0 if self.more is None else len(self.more))

    def __repr__(self) -> str:
        return f"Attempt({self.as_dict()!r})"


def _key(node_id: str, attempt: int, iteration: int | None) -> str | tuple[str, int, int | None]:
    """An attempt's key (``RunState._attempt``): the usual one (a first
    attempt, in no loop) is keyed by its node's id alone (and kept in its
    ``NodeState.first``), the others by
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
        #: Attempt records in the order they started.
        self.records: list[Attempt] = []
        #: An attempt's :func:`_key` → its record (the record itself, not its index
        #: in ``records``: an int per attempt past 256 was 32 B/node); a first
        #: attempt outside loops is its node's ``first`` instead.
        self._attempts: dict[tuple[str, int, int | None], Attempt] = {}
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
        more: dict[str, Any] | None = None
        if st.iteration is not None or e.inputs or e.classification:
            more = {}
            if st.iteration is not None:
                more["iteration"] = st.iteration
            if e.inputs:
                more["inputs"] = e.inputs
            if e.classification:
                more["x-classification"] = e.classification
        existing = st.first if isinstance(key, str) else self._attempts.get(key)
        if existing is not None:  # a wait being retried: same attempt, same record
            started_at = e.at
            if existing.status == "WAITING":
                # The attempt began when the wait did, not when the answer was taken in.
                started_at = existing.started_at
            existing.node_id = nid
            existing.node_type = e.node_type or ""
            existing.attempt = st.attempt
            existing.status = "RUNNING"
            existing.started_at = started_at
            if more:
                existing.update(more)
        else:
            record = Attempt(nid, e.node_type or "", st.attempt, "RUNNING", e.at, more)
            if isinstance(key, str):
                st.first = record
            else:
                self._attempts[key] = record
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
        record = self._attempt(_key(nid, int(e.attempt), e.iteration))
        if record is not None:
            record.status = "WAITING"
            record["x-waiting-for"] = {
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
        key = _key(nid, int(e.attempt), e.iteration)
        record = st.first if isinstance(key, str) else self._attempts.get(key)
        if record is not None:
            if record.more is not None:
                record.pop("x-waiting-for", None)
            record.status = status
            # Field by field (not a loop of getattr: this runs for every attempt).
            if e.ended_at is not None:
                record.ended_at = e.ended_at
            if e.duration_ms is not None:
                record.duration_ms = e.duration_ms
            if e.outputs is not None:
                record.outputs = e.outputs
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
                self.records.append(Attempt.of({**child, "x-parent_node": nid}))
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
        record = self._attempt(_key(nid, st.attempt, st.iteration))
        if record is not None and record.get("status") in ("WAITING", "RUNNING"):
            # closed while waiting (cancel, failure elsewhere)
            record.pop("x-waiting-for", None)
            record.status = st.status
            record.ended_at = e.at
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

    def _attempt(self, key: str | tuple[str, int, int | None]) -> Attempt | None:
        """The record of the attempt :func:`_key` gives ``key``, if it started."""
        if isinstance(key, str):
            st = self.nodes.get(key)
            return None if st is None else st.first
        return self._attempts.get(key)

    def last_record(self, node_id: str) -> Attempt | None:
        """The record of the node's latest attempt (in its current iteration)."""
        st = self.node(node_id)
        return self._attempt(_key(node_id, st.attempt, st.iteration))

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
        record = self._attempt(_key(node_id, st.attempt, st.iteration))
        if record is not None and record.get("status") == "RUNNING":
            return st.attempt, st.iteration
        return None

    def _on_interrupted(self, e: Interrupted) -> None:
        """A RUNNING attempt found at resume: recorded as cancelled, to be re-run."""
        nid = e.node
        st = self.node(nid)
        record = self._attempt(_key(nid, int(e.attempt), e.iteration))
        if record is not None:
            record.status = "CANCELLED"
            record.ended_at = e.at
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
            record["error"] = error
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
        key = (nid, 0, e.iteration)  # _key's, never a node's ``first`` (attempt 0)
        more = None if e.iteration is None else {"iteration": e.iteration}
        record = Attempt(nid, e.node_type or "", 1, "SKIPPED", e.at, more)
        existing = self._attempts.get(key)
        if existing is not None:  # skipped again: the record in its place is this one
            for name in Attempt.__slots__:
                setattr(existing, name, getattr(record, name))
        else:
            self._attempts[key] = record
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
        last = 1 if self.node(node_id).first is not None else 0  # see _key
        for key in self._attempts:
            if key[0] == node_id and key[2] is None:
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
