"""Child runs on Temporal (sub-workflows, spawns): failures, timeouts, cancel, depth.

The conformance cases (tests/temporal/test_temporal_conformance.py) show the
common paths equal to the local host, children included; here the ways a child
run ends badly, each compared with the local host where both can run it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporal_server import in_process_worker

from osop.engine import RunOptions, RunStore, start_run
from osop.engine.runner import materialise_record
from osop.format.workflow import Workflow, workflow_from_dict
from osop.record.model import RunRecord, record_from_dict
from osop.temporal.connection import TemporalTarget

pytestmark = pytest.mark.slow

ENV = {"PATH": "/usr/bin:/bin"}


def _parent(node: dict[str, Any], *, imports: list[str] | None = None) -> dict[str, Any]:
    return {
        "osop_version": "1.1",
        "id": "parent",
        "name": "parent",
        "imports": imports or ["./child.osop.yaml"],
        "nodes": [
            {"id": "call", "type": "system", "name": "Call", "workflow_ref": "child", **node},
            {"id": "after", "type": "cli", "name": "After", "runtime": {"command": "true"}},
        ],
        "edges": [{"from": "call", "to": "after"}],
    }


def _child(command: str) -> dict[str, Any]:
    return {
        "osop_version": "1.1",
        "id": "child",
        "name": "child",
        "nodes": [{"id": "work", "type": "cli", "name": "Work", "runtime": {"command": command}}],
        "edges": [],
    }


def _write(folder: Path, parent: dict[str, Any], child: dict[str, Any] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if child is not None:
        (folder / "child.osop.yaml").write_text(yaml.safe_dump(child))
    path = folder / "parent.osop.yaml"
    path.write_text(yaml.safe_dump(parent))
    return path


def _load(path: Path) -> Workflow:
    # Not validated: the validator would refuse these workflows before any run
    # (a missing import, an import cycle); the hosts must still agree at run time.
    return workflow_from_dict(yaml.safe_load(path.read_text()))


def _trace(record: RunRecord) -> list[tuple[Any, ...]]:
    return [
        (r.node_id, r.attempt, r.status, r.error.code if r.error is not None else None)
        for r in record.node_records
    ]


def _local(path: Path) -> tuple[RunRecord, list[RunRecord]]:
    store = RunStore(path.parent / ".osop")
    result = asyncio.run(
        start_run(
            _load(path),
            source=path.read_bytes(),
            workflow_path=path,
            store=store,
            options=RunOptions(env=ENV, workdir=path.parent),
        )
    )
    assert result.handle is not None
    journal = [json.loads(line) for line in result.handle.journal_path.read_text().splitlines()]
    children = [
        materialise_record(store.get(e["run_id"])) for e in journal if e.get("t") == "child"
    ]
    return result.record, children


async def _remote(
    target: TemporalTarget, path: Path, *, cancel_when_child_runs: bool = False
) -> tuple[RunRecord, list[RunRecord]]:
    """The run's record and the records of every child run it started."""
    from osop.temporal.runs import (
        cancel_temporal_run,
        list_temporal_runs,
        start_temporal_run,
        wait_for_run,
    )

    async with in_process_worker(target, path.parent, env=ENV) as client:
        run_id = await start_temporal_run(
            target,
            _load(path),
            source=path.read_bytes(),
            options=RunOptions(),
            workflow_path=path,
            client=client,
        )
        handle = client.get_workflow_handle(run_id)
        if cancel_when_child_runs:
            while not any(e.get("t") == "child" for e in await handle.query("journal")):
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # the child's step is running
            await cancel_temporal_run(target, run_id, client=client)
        result = await wait_for_run(target, run_id, client=client)
        started = [e["run_id"] for e in await handle.query("journal") if e.get("t") == "child"]
        children = [
            record_from_dict(await client.get_workflow_handle(c).query("record")) for c in started
        ]
        listed = {row["run_id"]: row for row in await list_temporal_runs(target, client=client)}
    # `osop runs` shows child runs with --all only: it knows them by their parent.
    assert listed[run_id]["parent_run_id"] is None
    for child in children:
        assert listed[child.run_id]["parent_run_id"] == run_id
    return result.record, children


def test_a_failed_child_fails_its_node_as_locally(tmp_path: Path, target: TemporalTarget) -> None:
    path = _write(tmp_path / "t", _parent({}), _child("exit 3"))
    record, children = asyncio.run(_remote(target, path))
    local, local_children = _local(_write(tmp_path / "l", _parent({}), _child("exit 3")))
    assert record.status == local.status == "FAILED"
    assert _trace(record) == _trace(local)
    assert ("call", 1, "FAILED", "CHILD_FAILED") in _trace(record)
    assert [_trace(c) for c in children] == [_trace(c) for c in local_children]


def test_a_sub_workflow_past_its_timeout_is_cut_short_with_its_child(
    tmp_path: Path, target: TemporalTarget
) -> None:
    parent = _parent({"timeout_sec": 1})
    path = _write(tmp_path / "t", parent, _child("sleep 30"))
    record, children = asyncio.run(_remote(target, path))
    local, _ = _local(_write(tmp_path / "l", parent, _child("sleep 30")))
    assert _trace(record) == _trace(local)
    assert ("call", 1, "TIMED_OUT", "TIMEOUT") in _trace(record)
    # The child run was stopped with its node, and closed its own record.
    assert [c.status for c in children] == ["CANCELLED"]
    assert children[0].extra.get("x-parent-run") == {"run_id": record.run_id, "node_id": "call"}


def test_cancelling_a_run_cancels_the_child_run_it_waits_for(
    tmp_path: Path, target: TemporalTarget
) -> None:
    path = _write(tmp_path, _parent({}), _child("sleep 30"))
    record, children = asyncio.run(_remote(target, path, cancel_when_child_runs=True))
    assert record.status == "CANCELLED"
    assert [c.status for c in children] == ["CANCELLED"]
    assert [(r.node_id, r.status) for r in children[0].node_records] == [("work", "CANCELLED")]


def test_a_reference_that_cannot_be_read_fails_the_node_as_locally(
    tmp_path: Path, target: TemporalTarget
) -> None:
    parent = _parent({}, imports=["./absent.osop.yaml"])
    record, children = asyncio.run(_remote(target, _write(tmp_path / "t", parent, None)))
    local, _ = _local(_write(tmp_path / "l", parent, None))
    assert _trace(record) == _trace(local)
    assert ("call", 1, "FAILED", "EXECUTION_ERROR") in _trace(record)
    assert children == []


def test_a_workflow_that_calls_itself_is_refused_at_its_node_as_locally(
    tmp_path: Path, target: TemporalTarget
) -> None:
    looping = {
        "osop_version": "1.1",
        "id": "again",
        "name": "again",
        "imports": ["./again.osop.yaml"],
        "nodes": [{"id": "deeper", "type": "system", "name": "Deeper", "workflow_ref": "again"}],
        "edges": [],
    }
    folder = tmp_path / "t"
    folder.mkdir()
    path = folder / "again.osop.yaml"
    path.write_text(json.dumps(looping))
    record, children = asyncio.run(_remote(target, path))
    local_folder = tmp_path / "l"
    local_folder.mkdir()
    (local_folder / "again.osop.yaml").write_text(json.dumps(looping))
    local, _ = _local(local_folder / "again.osop.yaml")
    assert record.status == local.status == "FAILED"
    assert _trace(record) == _trace(local) == [("deeper", 1, "FAILED", "EXECUTION_ERROR")]
    # The import cycle is found when the import is read, before any child run exists.
    error = record.node_records[0].error
    assert error is not None and "import-cycle" in error.message
    assert children == []
