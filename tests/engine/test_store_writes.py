"""The run store's files are written in threads (so many runs in one process do not
wait for each other's disk): what that must never change."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest
from engine_helpers import Runner

from osop.engine import RunOptions, RunStore, VirtualClock, start_run
from osop.format.workflow import workflow_from_dict

CHAIN = {
    "id": "chain",
    "nodes": [
        {
            "id": f"n{i}",
            "type": "cli",
            "runtime": {"command": "true"},
            "x-simulate": {"outputs": {"i": i}},
        }
        for i in range(5)
    ],
    "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(4)],
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork")
def test_a_forked_child_writes_its_runs(runner: Runner, tmp_path: Path) -> None:
    """A child forked after runs wrote files (the writer threads exist) still writes
    its own run's files: it does not inherit a pool whose threads it does not have."""
    assert runner.run(CHAIN).status == "COMPLETED"  # the parent has writer threads now
    store = RunStore(tmp_path / "child-store")
    pid = os.fork()
    if pid == 0:  # the child: one run, then out without running the parent's cleanup
        code = 1
        try:
            result = asyncio.run(
                start_run(
                    workflow_from_dict(CHAIN),
                    store=store,
                    options=RunOptions(mode="simulated", clock=VirtualClock(), workdir=tmp_path),
                )
            )
            code = 0 if result.status == "COMPLETED" else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child never finished writing its run")
        time.sleep(0.01)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    (folder,) = [p for p in store.runs.iterdir() if p.is_dir()]
    record = json.loads((folder / "record.osoplog.json").read_text())
    assert record["status"] == "COMPLETED" and len(record["node_records"]) == 5


def test_many_runs_in_one_process_each_leave_their_record(tmp_path: Path) -> None:
    store = RunStore(tmp_path / ".osop")
    workflow = workflow_from_dict(CHAIN)

    async def go() -> list[str]:
        results = await asyncio.gather(
            *(
                start_run(
                    workflow,
                    store=store,
                    options=RunOptions(mode="simulated", clock=VirtualClock(), workdir=tmp_path),
                )
                for _ in range(20)
            )
        )
        return [r.run_id for r in results]

    for run_id in asyncio.run(go()):
        handle = store.get(run_id)
        record = json.loads(handle.record_path.read_text())
        assert record["status"] == "COMPLETED"
        assert [r["node_id"] for r in record["node_records"]] == [f"n{i}" for i in range(5)]
        outputs = json.loads(handle.outputs_path.read_text())
        assert outputs == {f"n{i}": {"i": i} for i in range(5)}
        assert not handle.holds_lock()


def test_a_cancelled_run_leaves_its_record_before_letting_go(tmp_path: Path) -> None:
    """Cancelled while its files are being written, a run still leaves them whole."""
    store = RunStore(tmp_path / ".osop")
    workflow = workflow_from_dict(
        {
            "id": "slow",
            "nodes": [
                {"id": "a", "type": "cli", "runtime": {"command": "true"}},
                {
                    "id": "b",
                    "type": "cli",
                    "runtime": {"command": "true"},
                    "x-simulate": {"duration_ms": 60000},
                },
            ],
            "edges": [{"from": "a", "to": "b"}],
        }
    )

    async def go() -> str:
        task = asyncio.ensure_future(
            start_run(workflow, store=store, options=RunOptions(mode="simulated", workdir=tmp_path))
        )
        await asyncio.sleep(0.5)
        task.cancel()
        result = await task
        return result.run_id

    run_id = asyncio.run(go())
    handle = store.get(run_id)
    record = json.loads(handle.record_path.read_text())
    assert record["status"] == "CANCELLED"
    assert not handle.holds_lock()
