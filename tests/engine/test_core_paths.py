"""The core's short paths decide exactly what its general ones do.

A plain node (its edges taken by their mode alone, no loop around it, nothing to
gather) completes through ``Core._after_plain``, its scope is assembled from parts
made once per run, and a join of one slot reads its slot's decision instead of a
count.  Each test drives the same events through a core as built and through one
told to take the general paths, and compares entries, commands and state.
"""

from __future__ import annotations

from typing import Any

import pytest

from osop.engine.core import Core, CoreSettings, Decision
from osop.engine.entries import Run
from osop.engine.protocol import AttemptFinished, Begin, StartAttempt
from osop.engine.state import RunState
from osop.expr.scope import make_scope
from osop.format.workflow import Workflow, workflow_from_dict

T0 = "2026-01-01T00:00:00.000Z"


def workflow(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **extra: Any) -> Workflow:
    return workflow_from_dict(
        {"osop_version": "1.1", "id": "wf", "name": "wf", "nodes": nodes, "edges": edges, **extra}
    )


def node(node_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "cli", "runtime": {"command": "true"}, **extra}


def fresh(wf: Workflow, state: RunState | None = None, *, inputs: Any = None) -> Core:
    state = state if state is not None else RunState()
    core = Core(wf, state, CoreSettings(run_id="r1", mode="simulated", seed=3))
    if not state.meta:
        meta = {"run_id": "r1", "workflow_id": wf.id, "mode": "simulated", "started_at": T0}
        if inputs is not None:
            meta["inputs"] = inputs
        core.note(Run(meta={**meta, "seed": 3}))
    return core


def general(core: Core) -> Core:
    """The same core told that every node needs the general paths."""
    core._ruled = frozenset(n.id for n in core.wf.nodes)
    core._counted = frozenset(n.id for n in core.wf.nodes)
    core._decided = dict.fromkeys(core.topo.control_in, 0)
    core._taken = dict.fromkeys(core.topo.control_in, 0)
    return core


def drive(core: Core, outcome: dict[str, str] | None = None) -> list[Any]:
    """Every started attempt reported at once (status by node, COMPLETED unless told)."""
    outcome = outcome or {}
    decisions: list[Decision] = [core.decide(Begin(at=T0))]
    pending = [c for c in decisions[0].commands if isinstance(c, StartAttempt)]
    second = 0
    while pending:
        cmd = pending.pop(0)
        second += 1
        status = outcome.get(cmd.node, "COMPLETED")
        decision = core.decide(
            AttemptFinished(
                node=cmd.node,
                attempt=cmd.attempt,
                iteration=cmd.iteration,
                at=f"2026-01-01T00:00:{second:02d}.000Z",
                status=status,
                duration_ms=1.0,
                outputs={"ok": status == "COMPLETED", "n": second},
                error=None if status == "COMPLETED" else {"code": "E", "message": "no"},
                returned=status == "COMPLETED",
            )
        )
        decisions.append(decision)
        pending += [c for c in decision.commands if isinstance(c, StartAttempt)]
    wire = [
        ([e.to_dict() for e in d.entries], [c.to_dict() for c in d.commands]) for d in decisions
    ]
    statuses = {nid: st.status for nid, st in core.state.nodes.items()}
    return [wire, statuses, {k: v for k, v in core.state.decisions.items()}]


SHAPES = {
    "chain": workflow(
        [node("a"), node("b"), node("c")],
        [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
    ),
    "fallback and error edges": workflow(
        [node("a"), node("b"), node("undo"), node("report"), node("c")],
        [
            {"from": "a", "to": "b"},
            {"from": "a", "to": "undo", "mode": "fallback"},
            {"from": "b", "to": "report", "mode": "error"},
            {"from": "b", "to": "c"},
        ],
    ),
    "fan-out and join": workflow(
        [node("s"), node("x"), node("y"), node("z"), node("join")],
        [
            {"from": "s", "to": "x", "mode": "parallel"},
            {"from": "s", "to": "y", "mode": "parallel"},
            {"from": "s", "to": "z", "mode": "parallel"},
            {"from": "x", "to": "join"},
            {"from": "y", "to": "join"},
            {"from": "z", "to": "join", "mode": "fallback"},
        ],
    ),
    "conditions and named joins of one slot": workflow(
        [node("a"), node("any"), node("n"), node("all"), node("after")],
        [
            {"from": "a", "to": "any", "mode": "conditional", "when": "false"},
            {"from": "a", "to": "n", "when": "true", "join_mode": "wait_n", "join_count": 3},
            {"from": "a", "to": "all", "when": "ok", "join_mode": "wait_all"},
            {"from": "any", "to": "after", "join_mode": "wait_any"},
        ],
    ),
    "dataflow and compensation": workflow(
        [node("a"), node("b"), node("c"), node("undo_a")],
        [
            {"from": "a", "to": "b"},
            {"from": "a", "to": "c", "mode": "dataflow"},
            {"from": "b", "to": "c"},
            {"from": "a", "to": "undo_a", "mode": "compensation"},
        ],
    ),
    "a loop": workflow(
        [node("a"), node("b"), node("done")],
        [
            {"from": "a", "to": "b"},
            {"from": "b", "to": "done"},
            {"from": "b", "to": "a", "mode": "loop", "when": "n < 4"},
        ],
    ),
}


@pytest.mark.parametrize("failing", [None, "a", "b", "x"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_short_paths_decide_what_the_general_ones_do(shape: str, failing: str | None) -> None:
    wf = SHAPES[shape]
    outcome = {failing: "FAILED"} if failing else {}
    assert drive(fresh(wf), outcome) == drive(general(fresh(wf)), outcome)


def test_a_chain_keeps_no_join_counts_and_one_tuple_per_slot() -> None:
    core = fresh(SHAPES["chain"])
    assert core._counted == frozenset() and core._decided == {}
    # b's one incoming slot is a's one outgoing slot, in the same tuple.
    assert core.topo.control_in["b"] is core.topo.out_slots["a"]
    assert core.topo.out_slots["c"] == () and core.topo.control_in["a"] == ()
    fan = fresh(SHAPES["fan-out and join"])
    assert fan._counted == frozenset({"join"})


def completed(cmd: StartAttempt) -> AttemptFinished:
    return AttemptFinished(
        node=cmd.node,
        attempt=cmd.attempt,
        iteration=cmd.iteration,
        at=T0,
        status="COMPLETED",
        duration_ms=1.0,
        outputs={},
        returned=True,
    )


def test_a_resumed_join_counts_what_was_decided_before() -> None:
    wf = SHAPES["fan-out and join"]
    first = fresh(wf)
    begin = first.decide(Begin(at=T0))
    [start] = [c for c in begin.commands if isinstance(c, StartAttempt)]
    branches = first.decide(completed(start))
    x = next(c for c in branches.commands if isinstance(c, StartAttempt) and c.node == "x")
    first.decide(completed(x))
    # A new core on the same state (a resumed session) counts x's slot into the join.
    resumed = fresh(wf, first.state)
    assert resumed._decided == {"join": 1} and resumed._taken == {"join": 1}


def test_a_plain_nodes_scope_is_what_make_scope_builds() -> None:
    wf = workflow([node("a"), node("b")], [{"from": "a", "to": "b"}], variables={"v": 2})
    for inputs in (None, {"x": 1}):
        core = fresh(wf, inputs=inputs)
        [cmd] = [c for c in core.decide(Begin(at=T0)).commands if isinstance(c, StartAttempt)]
        # Nothing to interpolate: the core leaves the scope to the host, which builds
        # it with node_scope when the executor needs one.
        assert cmd.scope is None
        scope = core.node_scope(cmd.node, cmd.loop_vars, cmd.inputs)
        expected = make_scope(
            own=None,
            inputs=inputs or {},
            outputs=core._outputs,
            variables={"v": 2},
            metadata={},
            env=core.env,
        )
        assert list(scope) == list(expected)
        assert scope["inputs"] == (inputs or {}) and scope["variables"] == {"v": 2}
        assert scope["metadata"]["node_id"] == "a" and scope["metadata"]["timestamp"] == T0
        assert [scope.where(name) for name in ("x", "v", "a", "nope")] == [
            expected.where(name) for name in ("x", "v", "a", "nope")
        ]
        assert scope.rehearsal is True
        # The next plain node's scope is its own: only its metadata differs.
        core.note(Run(meta=dict(core.state.meta)))
        second = core._scope_of(wf.node("b"), {})
        assert second["metadata"]["node_id"] == "b" and scope["metadata"]["node_id"] == "a"
