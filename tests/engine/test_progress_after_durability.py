"""Nothing is announced before it is on disk.

A progress listener (``RunOptions.progress``: the live view, ``--json``, MCP) and
an observer (``RunOptions.observers``: tracing) check, at every event, that the
journal already holds the entry the event announces: within what has been
fsync'd in a live run, within what has been written to the file in a rehearsal
(which promises no fsync).  Each executor checks the same of its attempt's
``start`` before it does anything.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from osop.engine import RunOptions, RunStore, VirtualClock, start_run
from osop.engine import journal as journal_module
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.format.workflow import Workflow, workflow_from_dict

#: Progress event → the journal entry kind it announces.
ANNOUNCES = {
    "run_started": "run",
    "node_started": "start",
    "attempt_finished": "end",
    "node_finished": "done",
    "node_skipped": "skip",
    "node_waiting": "wait",
    "run_paused": "paused",
    "run_finished": "finished",
}


def workflow() -> Workflow:
    def node(node_id: str, **extra: Any) -> dict[str, Any]:
        return {"id": node_id, "type": "cli", "runtime": {"command": "true"}, **extra}

    nodes = [
        node("first"),
        node("flaky", retry={"max_attempts": 3, "backoff": {"initial_delay": 1}}),
        node("left"),
        node("right"),
        node("never"),
        node("join"),
        node("gate", approval_gate={"required": True}),
    ]
    edges = [
        {"from": "first", "to": "flaky"},
        {"from": "flaky", "to": "left", "mode": "parallel"},
        {"from": "flaky", "to": "right", "mode": "parallel"},
        {"from": "flaky", "to": "never", "mode": "conditional", "when": "false"},
        {"from": "left", "to": "join"},
        {"from": "right", "to": "join"},
        {"from": "join", "to": "gate"},
    ]
    return workflow_from_dict(
        {"osop_version": "1.1", "id": "p", "name": "p", "nodes": nodes, "edges": edges}
    )


class Disk:
    """What each journal holds on disk: the bytes covered by its last fsync, or (for
    a rehearsal) the bytes written to the file."""

    def __init__(self, store: Path, *, fsynced: bool) -> None:
        self.store = store
        self.fsynced = fsynced
        self.synced: dict[int, int] = {}  # inode → size at its last fsync
        self.problems: list[str] = []

    def fsync(self, real: Any) -> Any:
        def wrapped(fd: int) -> None:
            real(fd)
            info = os.fstat(fd)
            self.synced[info.st_ino] = info.st_size

        return wrapped

    def entries(self, run_id: str) -> list[dict[str, Any]]:
        path = self.store / "runs" / run_id / "journal.jsonl"
        data = path.read_bytes()
        if self.fsynced:
            data = data[: self.synced.get(path.stat().st_ino, 0)]
        out = []
        for line in data.splitlines():
            entry = orjson.loads(line)
            out.append(entry)
            if entry["t"] == "end" and isinstance(entry.get("done"), dict):
                out.append({"t": "done", "node": entry["node"]})  # folded into its end
        return out

    def holds(self, run_id: str, kind: str, node: Any, attempt: Any, iteration: Any) -> int:
        """How many entries of that kind (for that node attempt) the disk holds."""
        return sum(
            1
            for e in self.entries(run_id)
            if e["t"] == kind
            and (node is None or e.get("node") == node)
            and (attempt is None or e.get("attempt") == attempt)
            and (iteration is None or e.get("iteration") == iteration)
        )


class Checked:
    """An executor that checks its start is on disk before it runs; ``flaky`` fails once."""

    def __init__(self, disk: Disk) -> None:
        self.disk = disk

    async def execute(self, ctx: NodeContext) -> NodeResult:
        if not self.disk.holds(ctx.run_id, "start", ctx.node.id, ctx.attempt, ctx.iteration):
            self.disk.problems.append(f"{ctx.node.id} ran before its start was on disk")
        await asyncio.sleep(0)
        if ctx.node.id == "flaky" and ctx.attempt == 1:
            raise NodeFailure("EXIT_1", "first attempt fails")
        if ctx.node.requires_approval and not (ctx.answer or {}).get("approved"):
            raise NodeFailure("NEEDS_APPROVAL", "the gate needs an approval", retryable=False)
        return NodeResult(outputs={"node": ctx.node.id})


@pytest.mark.parametrize("mode", ["live", "simulated"])
def test_every_event_follows_the_write_of_what_it_announces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    disk = Disk(tmp_path, fsynced=mode == "live")
    monkeypatch.setattr(journal_module.os, "fsync", disk.fsync(os.fsync))
    seen: Counter[tuple[Any, ...]] = Counter()
    heard: Counter[tuple[Any, ...]] = Counter()
    events: list[str] = []

    def progress(event: dict[str, Any]) -> None:
        events.append(event["event"])
        kind = ANNOUNCES.get(event["event"])
        if kind is None:
            return
        node = event.get("node")
        attempt = event.get("attempt") if kind in ("start", "end") else None
        key = (kind, node, attempt, event.get("iteration"))
        seen[key] += 1
        if disk.holds(event["run_id"], *key) < seen[key]:
            disk.problems.append(f"{event['event']} {node} came before its {kind} was on disk")

    def observer(run_id: str, state: Any) -> Any:
        def observe(entry: dict[str, Any]) -> None:
            if entry["t"] == "run":  # told before it is written: it may add trace ids
                return
            key = (entry["t"], entry.get("node"), entry.get("attempt"), entry.get("iteration"))
            heard[key] += 1
            if disk.holds(run_id, *key) < heard[key]:
                disk.problems.append(f"the observer heard of {key} before it was on disk")

        return observe

    options = RunOptions(
        mode=mode,  # type: ignore[arg-type]
        executors=lambda node_type, mode: Checked(disk),
        clock=VirtualClock(),
        workdir=tmp_path,
        seed=1,
        progress=progress,
        observers=[observer],
    )
    result = asyncio.run(start_run(workflow(), store=RunStore(tmp_path), options=options))
    if mode == "live":
        assert result.status == "PAUSED"  # the gate waits for its approval
        assert events[-1] == "run_paused" and "node_waiting" in events
    else:
        assert result.status == "COMPLETED"  # a rehearsal approves the gate
        assert events[-1] == "run_finished"
    for expected in ("run_started", "node_started", "attempt_finished", "node_finished"):
        assert expected in events
    assert "node_skipped" in events  # `never`: its edge is false
    assert seen[("start", "flaky", 2, None)] == 1  # the retry was announced too
    assert sum(heard.values()) > 10
    assert disk.problems == []


def test_an_observer_that_fails_is_dropped_and_the_run_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str] = []

    def observer(run_id: str, state: Any) -> Any:
        def observe(entry: dict[str, Any]) -> None:
            heard.append(entry["t"])
            if entry["t"] == "start":
                raise RuntimeError("the exporter is down")

        return observe

    disk = Disk(tmp_path, fsynced=False)
    options = RunOptions(
        mode="simulated",
        executors=lambda node_type, mode: Checked(disk),
        clock=VirtualClock(),
        workdir=tmp_path,
        observers=[observer],
    )
    result = asyncio.run(start_run(workflow(), store=RunStore(tmp_path), options=options))
    assert result.status == "COMPLETED"
    assert heard == ["run", "start"]  # dropped at its first failure
    assert "an observer of run" in caplog.text and "the exporter is down" in caplog.text
