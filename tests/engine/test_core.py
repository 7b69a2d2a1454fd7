"""The engine core as a pure function: events in, entries and commands out.

No host, no journal file, no clock: each test builds a :class:`Core`, feeds it
events and reads what it decided.  Replaying the same events must give the same
entries and commands, and the journal they make must rebuild the same state.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from typing import Any

import pytest

from osop.engine.core import DEADLINE, Core, CoreSettings, Decision, retry_timer
from osop.engine.entries import (
    ENTRY_KINDS,
    Done,
    End,
    Entry,
    Finished,
    Run,
    Skip,
    Start,
    Wait,
    entry_from_dict,
)
from osop.engine.protocol import (
    Abort,
    AnswerArrived,
    AttemptFinished,
    Begin,
    CancelTimer,
    Command,
    Finish,
    Pause,
    SignalDelivered,
    StartAttempt,
    StartTimer,
    TimerFired,
    WaitFor,
    WaitRequested,
    command_from_dict,
    event_from_dict,
)
from osop.engine.recording import build_record
from osop.engine.state import RunState
from osop.errors import RunStoreError
from osop.format.workflow import Workflow, workflow_from_dict

T0 = "2026-01-01T00:00:00.000Z"


def at(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}.000Z"


def workflow(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **extra: Any) -> Workflow:
    return workflow_from_dict(
        {"osop_version": "1.1", "id": "wf", "name": "wf", "nodes": nodes, "edges": edges, **extra}
    )


def node(node_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "cli", "runtime": {"command": "true"}, **extra}


def fresh(wf: Workflow, *, mode: str = "live", seed: int = 7) -> Core:
    state = RunState()
    core = Core(wf, state, CoreSettings(run_id="r1", mode=mode, seed=seed))
    core.note(
        Run(
            meta={
                "run_id": "r1",
                "workflow_id": wf.id,
                "mode": mode,
                "started_at": T0,
                "seed": seed,
                "inputs": {},
            }
        )
    )
    return core


def finished(
    cmd: StartAttempt, second: int, status: str = "COMPLETED", **kw: Any
) -> AttemptFinished:
    return AttemptFinished(
        node=cmd.node,
        attempt=cmd.attempt,
        iteration=cmd.iteration,
        at=at(second),
        status=status,
        duration_ms=1.0,
        returned=status == "COMPLETED",
        **kw,
    )


def starts(decision: Decision) -> list[StartAttempt]:
    return [c for c in decision.commands if isinstance(c, StartAttempt)]


def _slots(listed: list[Any] | None) -> list[list[Any]]:
    """Decided slots as the journal writes them (the core keeps its topology's tuples)."""
    return [list(slot) for slot in listed or ()]


def kinds(decision: Decision) -> list[str]:
    return [e.KIND for e in decision.entries]


def wire(decisions: list[Decision]) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    return [
        ([e.to_dict() for e in d.entries], [c.to_dict() for c in d.commands]) for d in decisions
    ]


CHAIN = workflow([node("a"), node("b")], [{"from": "a", "to": "b"}])


def test_a_chain_is_decided_one_event_at_a_time() -> None:
    core = fresh(CHAIN)
    begin = core.decide(Begin(at=T0))
    assert kinds(begin) == ["start"]
    [first] = starts(begin)
    assert (first.node, first.attempt, first.iteration) == ("a", 1, None)
    assert first.runtime == {"command": "true"}

    after_a = core.decide(finished(first, 1, outputs={"x": 1}))
    # a's end also ends a: its done (decisions included) is folded into the end.
    assert kinds(after_a) == ["end", "start"]
    end_a = after_a.entries[0]
    assert isinstance(end_a, End) and isinstance(end_a.done, Done)
    assert _slots(end_a.done.taken) == [[0, "b"]] and end_a.done.seq == end_a.seq
    # The slot is the topology's own tuple, kept as it is by the state; its line is the same.
    slot = core.topo.out_slots["a"][0]
    assert end_a.done.taken[0] is slot and next(iter(core.state.decisions)) is slot
    assert json.dumps(end_a.to_dict()["done"]["taken"]) == '[[0, "b"]]'
    [second] = starts(after_a)
    assert second.node == "b"
    # Time is the event's: the start of b is stamped when a's end was reported.
    start_b = after_a.entries[1]
    assert isinstance(start_b, Start) and start_b.at == at(1)

    end = core.decide(finished(second, 2))
    assert end.commands == [Finish(status="COMPLETED")]
    assert core.state.node("a").outputs == {"x": 1}
    assert [r["status"] for r in core.state.records] == ["COMPLETED", "COMPLETED"]


def test_a_failed_attempt_is_retried_after_a_timer() -> None:
    wf = workflow(
        [node("a", retry={"max_attempts": 3, "backoff": {"type": "fixed", "initial_delay": 5}})],
        [],
    )
    core = fresh(wf)
    [first] = starts(core.decide(Begin(at=T0)))
    failed = core.decide(finished(first, 1, "FAILED", error={"code": "E", "message": "no"}))
    assert kinds(failed) == ["end"]
    assert failed.commands == [StartTimer(timer_id=retry_timer("a"), seconds=5.0)]
    again = core.decide(TimerFired(timer_id=retry_timer("a"), at=at(6)))
    [second] = starts(again)
    assert second.attempt == 2
    core.decide(finished(second, 7, "FAILED", error={"code": "E", "message": "no"}))
    [third] = starts(core.decide(TimerFired(timer_id=retry_timer("a"), at=at(12))))
    last = core.decide(finished(third, 13, "FAILED", error={"code": "E", "message": "no"}))
    assert kinds(last)[:1] == ["end"]
    assert isinstance(last.entries[0], End) and last.entries[0].done is not None
    assert last.commands[-1] == Finish(status="FAILED")
    assert [r["attempt"] for r in core.state.records] == [1, 2, 3]


def test_a_failure_that_must_not_be_retried_ends_the_node() -> None:
    wf = workflow([node("a", retry={"max_attempts": 3})], [])
    core = fresh(wf)
    [first] = starts(core.decide(Begin(at=T0)))
    error = {"code": "E", "message": "no", "_retryable": False}
    decision = core.decide(finished(first, 1, "FAILED", error=error))
    end = decision.entries[0]
    assert isinstance(end, End) and end.retryable is False
    assert end.error == {"code": "E", "message": "no"}  # private keys never reach the journal
    assert decision.commands[-1] == Finish(status="FAILED")


def test_an_approval_gate_waits_then_an_answer_lets_the_node_run() -> None:
    wf = workflow([node("deploy", approval_gate={"required": True})], [])
    core = fresh(wf)
    begin = core.decide(Begin(at=T0))
    assert kinds(begin) == ["start", "wait"]
    assert isinstance(begin.commands[0], WaitFor)
    assert begin.commands[-1] == Pause()
    answered = core.decide(
        AnswerArrived(node="deploy", answer={"decision": "approved", "actor": "ann"}, at=at(30))
    )
    [attempt] = starts(answered)
    # The same attempt goes on: its record spans the wait.
    assert attempt.attempt == 1
    end = core.decide(finished(attempt, 31))
    record = core.state.records[0]
    assert record["started_at"] == T0
    assert record["human_metadata"]["actor"] == "ann"
    assert end.commands[-1] == Finish(status="COMPLETED")


def test_a_rejected_approval_fails_the_node_without_running_it() -> None:
    wf = workflow([node("deploy", approval_gate={"required": True})], [])
    core = fresh(wf)
    core.decide(AnswerArrived(node="deploy", answer={"decision": "rejected"}))
    decision = core.decide(Begin(at=T0))
    assert starts(decision) == []
    end = next(e for e in decision.entries if isinstance(e, End))
    assert end.error is not None and end.error["code"] == "REJECTED"
    assert decision.commands[-1] == Finish(status="FAILED")


def test_an_executor_wait_is_settled_by_a_buffered_signal() -> None:
    core = fresh(workflow([node("listen")], []))
    [attempt] = starts(core.decide(Begin(at=T0)))
    assert attempt.node == "listen"
    core.decide(SignalDelivered(id="e1", name="go", data={"n": 1}, at=at(1)))
    asked = WaitRequested(
        node="listen", attempt=1, iteration=None, at=at(2), kind="signal", name="go"
    )
    decision = core.decide(asked)
    assert kinds(decision) == ["consumed"]
    [going_on] = decision.commands
    assert going_on.to_dict()["delivered"] == {"n": 1}
    # Nothing buffered any more: the next wait really waits.
    second = core.decide(asked)
    assert kinds(second) == ["wait"]
    assert isinstance(second.commands[0], WaitFor)
    assert second.commands[-1] == Pause()


def test_an_event_edge_waits_until_its_signal_arrives() -> None:
    wf = workflow([node("a"), node("b")], [{"from": "a", "to": "b", "mode": "event"}])
    core = fresh(wf)
    [first] = starts(core.decide(Begin(at=T0)))
    paused = core.decide(finished(first, 1))
    assert paused.commands == [Pause()]
    woken = core.decide(SignalDelivered(id="e1", name="b", at=at(9)))
    assert kinds(woken) == ["event", "consumed", "decide", "start"]
    [second] = starts(woken)
    assert second.node == "b"


def test_the_deadline_is_a_timer_and_an_abort_concludes_the_run() -> None:
    wf = workflow([node("a"), node("b")], [{"from": "a", "to": "b"}], timeout_sec=10)
    core = fresh(wf)
    begin = core.decide(Begin(at=T0))
    assert StartTimer(timer_id=DEADLINE, seconds=10.0) in begin.commands
    decision = core.decide(Abort(status="TIMED_OUT", at=at(10)))
    assert kinds(decision) == ["end", "skip"]
    end = decision.entries[0]
    assert isinstance(end, End) and end.status == "TIMED_OUT" and end.done is not None
    assert end.error == {"code": "TIMEOUT", "message": "the workflow deadline passed"}
    assert isinstance(decision.entries[1], Skip) and decision.entries[1].node == "b"
    assert decision.commands == [CancelTimer(timer_id=DEADLINE), Finish(status="TIMED_OUT")]


def test_a_failure_runs_the_compensations_in_reverse_order() -> None:
    wf = workflow(
        [node("a"), node("b"), node("c"), node("undo_a"), node("undo_b")],
        [
            {"from": "a", "to": "b"},
            {"from": "b", "to": "c"},
            {"from": "a", "to": "undo_a", "mode": "compensation"},
            {"from": "b", "to": "undo_b", "mode": "compensation"},
        ],
    )
    core = fresh(wf)
    [a] = starts(core.decide(Begin(at=T0)))
    [b] = starts(core.decide(finished(a, 1)))
    [c] = starts(core.decide(finished(b, 2)))
    failed = core.decide(finished(c, 3, "FAILED", error={"code": "E", "message": "no"}))
    [undo_b] = starts(failed)
    assert undo_b.node == "undo_b"
    [undo_a] = starts(core.decide(finished(undo_b, 4)))
    assert undo_a.node == "undo_a"
    last = core.decide(finished(undo_a, 5))
    assert last.commands == [Finish(status="FAILED")]
    assert core.state.compensations_done == {("b", "undo_b"), ("a", "undo_a")}


def test_time_comes_from_the_event_not_a_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    wf = workflow(
        [node("a", inputs={"when": "${metadata.timestamp}"}), node("b")],
        [{"from": "a", "to": "b", "when": "now() > timestamp('2025-01-01T00:00:00Z')"}],
    )
    core = fresh(wf)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the core read a clock or drew a random number")

    for name in ("time", "monotonic", "perf_counter", "time_ns"):
        monkeypatch.setattr(time, name, forbidden)
    monkeypatch.setattr(random, "random", forbidden)
    [a] = starts(core.decide(Begin(at=at(4))))
    assert a.inputs == {"when": at(4)}
    [b] = starts(core.decide(finished(a, 5)))
    assert b.node == "b"


def test_a_weighted_choice_depends_only_on_the_seed() -> None:
    wf = workflow(
        [node("a"), node("x"), node("y")],
        [
            {"from": "a", "to": "x", "mode": "weighted", "weight": 1},
            {"from": "a", "to": "y", "mode": "weighted", "weight": 1},
        ],
    )

    def choice(seed: int) -> str:
        core = fresh(wf, seed=seed)
        [a] = starts(core.decide(Begin(at=T0)))
        [chosen] = starts(core.decide(finished(a, 1)))
        return chosen.node

    picks = {seed: choice(seed) for seed in range(12)}
    assert {seed: choice(seed) for seed in range(12)} == picks
    assert set(picks.values()) == {"x", "y"}  # both branches occur across seeds


SCRIPT_WF = workflow(
    [
        node("a", retry={"max_attempts": 2, "backoff": {"initial_delay": 1}}),
        node("b"),
        node("c", approval_gate={"required": True}),
        node("d"),
        node("e"),
    ],
    [
        {"from": "a", "to": "b", "mode": "parallel"},
        {"from": "a", "to": "c", "mode": "parallel"},
        {"from": "b", "to": "d", "mode": "conditional", "when": "ok == true"},
        {"from": "b", "to": "e", "mode": "conditional", "when": "ok == false"},
        {"from": "c", "to": "d"},
    ],
)


def script(core: Core) -> list[Decision]:
    """A run driven through retries, a fork, a wait, an answer and a join."""
    out = [core.decide(Begin(at=T0))]
    [a1] = starts(out[-1])
    out.append(core.decide(finished(a1, 1, "FAILED", error={"code": "E", "message": "x"})))
    out.append(core.decide(TimerFired(timer_id=retry_timer("a"), at=at(2))))
    [a2] = starts(out[-1])
    out.append(core.decide(finished(a2, 3, outputs={"v": 1})))
    b = next(c for c in starts(out[-1]) if c.node == "b")
    out.append(core.decide(finished(b, 4, outputs={"ok": True})))
    out.append(core.decide(AnswerArrived(node="c", answer={"decision": "approved"}, at=at(5))))
    [c] = starts(out[-1])
    out.append(core.decide(finished(c, 6)))
    [d] = starts(out[-1])
    out.append(core.decide(finished(d, 7)))
    return out


def test_replaying_the_same_events_gives_the_same_entries_and_commands() -> None:
    first = wire(script(fresh(SCRIPT_WF)))
    second = wire(script(fresh(SCRIPT_WF)))
    assert first == second
    assert first[-1][1] == [{"type": "finish", "status": "COMPLETED"}]


def test_the_journal_of_the_decisions_rebuilds_the_same_state() -> None:
    core = fresh(SCRIPT_WF)
    decisions = script(core)
    seq = 1
    lines = [{**Run(meta=dict(core.state.meta)).to_dict(), "seq": seq}]
    for decision in decisions:
        for entry in decision.entries:
            if entry.JOURNALED:
                seq += 1
                assert entry.seq == seq  # the core numbers entries as the journal does
                lines.append({**entry.to_dict(), "seq": seq})
    replayed = RunState()
    for line in lines:
        replayed.apply(line)
    live_record = build_record(core.state).to_dict()
    assert build_record(replayed).to_dict() == live_record
    statuses = {n: st.status for n, st in replayed.nodes.items()}
    assert statuses == {"a": "COMPLETED", "b": "COMPLETED", "c": "COMPLETED", "d": "COMPLETED",
                        "e": "SKIPPED"}  # fmt: skip


def test_a_resumed_core_carries_on_from_the_exact_frontier() -> None:
    """Cut the scripted run after b: a new core on the replayed state starts c's wait again."""
    core = fresh(SCRIPT_WF)
    decisions = script(core)[:5]
    replayed = RunState()
    replayed.apply(Run(meta=dict(core.state.meta)).to_dict())
    for decision in decisions:
        for entry in decision.entries:
            if entry.JOURNALED:
                replayed.apply(entry.to_dict())
    resumed = Core(SCRIPT_WF, replayed, CoreSettings(run_id="r1", mode="live", seed=7))
    begin = resumed.decide(Begin(at=at(20)))
    assert [e.KIND for e in begin.entries] == ["start", "wait"]
    wait = begin.entries[1]
    assert isinstance(wait, Wait) and wait.node == "c" and wait.attempt == 1
    assert begin.commands[-1] == Pause()
    assert replayed.node("a").status == "COMPLETED"  # never run again


def test_every_entry_kind_round_trips_through_its_journal_line() -> None:
    samples: dict[str, dict[str, Any]] = {
        "run": {"run_id": "r", "workflow_id": "w"},
        "resumed": {"at": T0, "pid": 9},
        "recovered": {"at": T0, "offset": 10, "dropped_bytes": 3, "message": "cut"},
        "start": {"node": "a", "attempt": 1, "at": T0, "inputs": {"k": 1}},
        "wait": {"node": "a", "attempt": 1, "kind": "human", "name": "a"},
        "end": {"node": "a", "attempt": 1, "status": "FAILED", "retryable": False},
        "done": {"node": "a", "status": "COMPLETED", "taken": [[0, "b"]], "not": [[1, "c"]]},
        "interrupted": {"node": "a", "attempt": 2, "iteration": 3},
        "proc": {"node": "a", "attempt": 1, "pgid": 42, "token": "t"},
        "child": {"node": "a", "run_id": "c"},
        "skip": {"node": "a", "node_type": "cli", "not": [[0, "b"]]},
        "decide": {"taken": [[0, "b"]], "at": T0},
        "items": {"node": "a", "edge": 0, "items": [1, 2], "var": "x"},
        "answer": {"node": "a", "answer": {"decision": "approved"}, "inbox": "i1"},
        "approved": {"node": "a", "subject": "rm -rf /tmp/x"},
        "report": {"node": "a", "report": {"status": "COMPLETED"}, "at": T0},
        "event": {"id": "e", "name": "go", "data": {"n": 1}},
        "consumed": {"id": "e", "slot": [0, "b"]},
        "cancel_request": {"inbox": "i2"},
        "warning": {"message": "careful"},
        "failing": {"node": "a", "status": "FAILED", "error": {"code": "E"}},
        "compensate": {"node": "u", "for": "a", "at": T0},
        "paused": {"at": T0, "waiting": [], "active_ms": 1.5},
        "finished": {"status": "COMPLETED", "at": T0, "by": "me"},
    }
    for kind, cls in ENTRY_KINDS.items():
        if not cls.JOURNALED:
            assert entry_from_dict({"t": kind, "node": "a"}) is None
            continue
        data = {"t": kind, **samples[kind]}
        entry = entry_from_dict({**data, "seq": 3})
        assert isinstance(entry, Entry) and kind == entry.KIND and entry.seq == 3
        assert entry.to_dict() == data
        assert next(iter(entry.to_dict())) == "t"  # crash tools look for it first


def test_every_journal_line_lists_its_set_fields_in_declaration_order() -> None:
    # The journal's bytes follow the key order: "t" ("v" above version 1), then each
    # field as the class declares it, fields that are None left out.
    for kind, cls in ENTRY_KINDS.items():
        if not cls.JOURNALED or cls is Run:
            continue
        wire = [
            (f.name, {"not_": "not", "for_": "for"}.get(f.name, f.name))
            for f in dataclasses.fields(cls)
            if f.name != "seq" and f.metadata.get("wire", True)
        ]
        head = ["t"] if cls.VERSION == 1 or cls is End else ["t", "v"]
        full = cls(**{attr: f"{attr}-value" for attr, _ in wire})  # type: ignore[arg-type]
        assert list(full.to_dict()) == head + [key for _, key in wire], kind
        assert full.to_dict()["t"] == kind
        sparse = cls(
            **{attr: (f"{attr}-value" if i % 2 else None) for i, (attr, _) in enumerate(wire)}
        )  # type: ignore[arg-type]
        assert list(sparse.to_dict()) == head + [key for i, (_, key) in enumerate(wire) if i % 2]


def test_a_completed_node_decides_each_edge_by_its_mode() -> None:
    wf = workflow(
        [node(n) for n in ("a", "b", "c", "d", "e", "f", "g", "h")],
        [
            {"from": "a", "to": "b"},
            {"from": "a", "to": "c", "mode": "fallback", "when": "true"},
            {"from": "a", "to": "d", "mode": "error", "when": "true"},
            {"from": "a", "to": "e", "mode": "timeout"},
            {"from": "a", "to": "f", "mode": "conditional", "when": "x > 1"},
            {"from": "a", "to": "g", "mode": "parallel"},
            {"from": "a", "to": "h", "mode": "conditional", "when": "x == 1"},
        ],
    )
    core = fresh(wf)
    [first] = starts(core.decide(Begin(at=T0)))
    after = core.decide(finished(first, 1, outputs={"x": 1}))
    end = after.entries[0]
    assert isinstance(end, End) and end.done is not None
    assert _slots(end.done.taken) == [[0, "b"], [5, "g"], [6, "h"]]
    assert _slots(end.done.not_) == [[1, "c"], [2, "d"], [3, "e"], [4, "f"]]
    assert sorted(c.node for c in starts(after)) == ["b", "g", "h"]
    assert {e.node for e in after.entries if isinstance(e, Skip)} == {"c", "d", "e", "f"}


@pytest.mark.parametrize(("timeout_edge", "taken"), [(True, "t"), (False, "fb")])
def test_a_timed_out_node_takes_its_timeout_edge_else_its_fallback(
    timeout_edge: bool, taken: str
) -> None:
    edges = [{"from": "a", "to": "fb", "mode": "fallback"}]
    if timeout_edge:
        edges.append({"from": "a", "to": "t", "mode": "timeout"})
    wf = workflow([node("a"), node("fb")] + ([node("t")] if timeout_edge else []), edges)
    core = fresh(wf)
    [first] = starts(core.decide(Begin(at=T0)))
    after = core.decide(
        finished(first, 1, "TIMED_OUT", error={"code": "TIMEOUT", "message": "late"})
    )
    assert [c.node for c in starts(after)] == [taken]


def test_an_end_with_its_done_folded_in_round_trips_and_replays_like_the_two() -> None:
    folded = {
        "t": "end",
        "v": 2,
        "node": "a",
        "attempt": 1,
        "status": "FAILED",
        "at": T0,
        "error": {"code": "E", "message": "no"},
        "done": {"error": {"code": "E", "message": "no"}, "not": [[0, "b"]], "unhandled": True},
    }
    entry = entry_from_dict({**folded, "seq": 3})
    assert isinstance(entry, End) and isinstance(entry.done, Done)
    assert (entry.done.node, entry.done.status, entry.done.at) == ("a", "FAILED", T0)
    assert entry.done.seq == 3 and entry.to_dict() == folded
    # The same transitions as an older journal wrote them: an end, then a done.
    older = [
        {k: v for k, v in folded.items() if k not in ("v", "done")} | {"seq": 3},
        {"t": "done", "node": "a", "status": "FAILED", "at": T0, "seq": 4}
        | {"error": {"code": "E", "message": "no"}, "not": [[0, "b"]], "unhandled": True},
    ]
    start = {"t": "start", "node": "a", "attempt": 1, "at": T0, "seq": 2}
    new, old = RunState(), RunState()
    for state, lines in ((new, [start, {**folded, "seq": 3}]), (old, [start, *older])):
        for line in lines:
            state.apply(line)
    for state in (new, old):
        assert state.node("a").status == "FAILED" and state.decisions == {(0, "b"): False}
        assert state.failure is not None and state.failure["node"] == "a"
    assert new.records == old.records


def test_an_entry_from_a_newer_osop_is_refused_and_an_unknown_kind_ignored() -> None:
    with pytest.raises(RunStoreError, match="newer osop"):
        entry_from_dict({"t": "end", "v": 3, "node": "a", "attempt": 1, "status": "X", "seq": 4})
    assert entry_from_dict({"t": "some-future-kind", "seq": 5}) is None
    state = RunState()
    state.apply({"t": "some-future-kind", "seq": 5})
    assert state.seq == 5


def test_memory_only_fields_never_reach_the_journal() -> None:
    entry = Run(meta={"inputs": {"token": "***"}}, plain_inputs={"token": "s3cret"})
    assert "s3cret" not in str(entry.to_dict())
    state = RunState()
    state.apply(entry)
    assert state.meta["inputs"] == {"token": "s3cret"}
    assert Finished(status="COMPLETED").to_dict() == {"t": "finished", "status": "COMPLETED"}


def test_events_and_commands_round_trip_as_plain_data() -> None:
    core = fresh(CHAIN)
    [first] = starts(core.decide(Begin(at=T0)))
    data = first.to_dict()
    assert "scope" not in data  # a local convenience, never carried
    again = command_from_dict(data)
    assert isinstance(again, StartAttempt) and again == first
    event = finished(first, 1, outputs={"x": 1})
    assert event_from_dict(event.to_dict()) == event
    for command in (Finish(status="FAILED"), Pause(), CancelTimer(timer_id="t")):
        assert command_from_dict(command.to_dict()) == command
    with pytest.raises(ValueError, match="unknown event"):
        event_from_dict({"type": "nope"})
    assert isinstance(first, Command)
