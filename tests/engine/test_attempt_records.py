"""A run's attempt records (``RunState.records``): slotted ``Attempt`` objects that read
and write like the dicts they replaced, and encode as the same plain dicts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from osop.engine.entries import End, Start
from osop.engine.state import Attempt, RunState


def test_an_attempt_reads_and_writes_like_its_dict() -> None:
    plain = {
        "node_id": "a",
        "node_type": "cli",
        "attempt": 1,
        "status": "RUNNING",
        "started_at": "2026-01-01T00:00:00.000Z",
        "iteration": 2,
        "x-waiting-for": {"kind": "approval"},
    }
    attempt = Attempt.of(plain)
    assert attempt == plain and plain == attempt
    assert dict(attempt) == plain == attempt.as_dict()
    assert len(attempt) == len(plain)
    assert "iteration" in attempt and "outputs" not in attempt and "error" not in attempt
    assert attempt["status"] == "RUNNING" and attempt.get("outputs") is None
    assert attempt.get("missing", 5) == 5
    with pytest.raises(KeyError):
        attempt["outputs"]
    with pytest.raises(KeyError):
        attempt["nothing"]
    assert attempt.pop("x-waiting-for") == {"kind": "approval"}
    assert attempt.pop("x-waiting-for", None) is None
    attempt["outputs"] = {"n": 1}
    attempt["error"] = {"code": "E"}
    del attempt["iteration"]
    plain.pop("x-waiting-for")
    plain.pop("iteration")
    plain.update(outputs={"n": 1}, error={"code": "E"})
    assert attempt == plain
    # Its keys: the slots' in their order, then the others in the order they were set.
    assert list(attempt) == [
        "node_id",
        "node_type",
        "attempt",
        "status",
        "started_at",
        "outputs",
        "error",
    ]
    del attempt["outputs"]
    assert "outputs" not in attempt
    with pytest.raises(KeyError):
        del attempt["outputs"]


def test_the_usual_attempt_is_the_row_the_record_encodes() -> None:
    state = RunState()
    state.apply(Start(node="a", attempt=1, at="t0", node_type="cli"))
    state.apply(
        End(
            node="a",
            attempt=1,
            status="COMPLETED",
            at="t1",
            ended_at="t1",
            duration_ms=1.5,
            outputs={"n": 1},
        )
    )
    (record,) = state.records
    assert type(record) is Attempt and record.more is None
    row = record.as_dict()
    assert type(row) is dict
    assert list(row.items()) == [
        ("node_id", "a"),
        ("node_type", "cli"),
        ("attempt", 1),
        ("status", "COMPLETED"),
        ("started_at", "t0"),
        ("ended_at", "t1"),
        ("duration_ms", 1.5),
        ("outputs", {"n": 1}),
    ]
    assert state.last_record("a") is record


def test_an_attempt_is_smaller_than_its_dict() -> None:
    """The reason it exists: a finished run keeps one per attempt (its memory peak)."""
    attempt = Attempt("a", "cli", 1, "COMPLETED", "t0")
    attempt.ended_at, attempt.duration_ms, attempt.outputs = "t1", 1.0, {}
    assert sys.getsizeof(attempt) * 2 < sys.getsizeof(attempt.as_dict())


def test_a_result_builds_its_outputs_once_when_first_read() -> None:

    from osop.engine.options import RunResult
    from osop.record.model import RunRecord

    built: list[dict[str, object]] = []

    def outputs() -> dict[str, object]:
        built.append({"a": {"n": 1}})
        return built[-1]

    def record() -> RunRecord:
        raise AssertionError("the record is not read here")

    result = RunResult.built_later(record, outputs=outputs, run_id="r", status="COMPLETED")
    assert built == [] and result.exit_code == 0
    assert result.outputs == {"a": {"n": 1}} and len(built) == 1
    assert result.outputs is built[0] and len(built) == 1
    assert RunResult.built_later(record, run_id="r", status="COMPLETED").outputs == {}


def test_a_finished_run_gives_its_outputs(tmp_path: Path) -> None:
    import asyncio

    from osop.engine import RunOptions, RunStore, start_run
    from osop.executors.base import NodeContext, NodeResult
    from osop.format.workflow import workflow_from_dict

    class Echo:
        node_type = "*"

        async def execute(self, ctx: NodeContext) -> NodeResult:
            return NodeResult(outputs={"node": ctx.node.id} if ctx.node.id != "c" else {})

    workflow = workflow_from_dict(
        {
            "id": "w",
            "name": "w",
            "nodes": [{"id": n, "type": "cli"} for n in "abc"],
            "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
        }
    )
    options = RunOptions(
        mode="simulated",
        executors=lambda node_type, mode: Echo(),
        seed=1,
        workdir=tmp_path,
        env={"PATH": "/bin"},
    )
    result = asyncio.run(start_run(workflow, store=RunStore(tmp_path), options=options))
    assert result.status == "COMPLETED"
    assert result.outputs == {"a": {"node": "a"}, "b": {"node": "b"}}  # none for c
    assert result.handle is not None
    assert result.outputs == json.loads(result.handle.outputs_path.read_text())
