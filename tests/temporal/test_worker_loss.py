"""Two workers on one task queue run 200 runs; one is SIGKILLed mid-way.

Every run still completes (the other worker replays the interpreter from each
run's history and takes over the lost attempts), no node completes twice, and
every record validates.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from osop.engine import RunOptions
from osop.format.validate import validate_text
from osop.format.workflow import workflow_from_dict
from osop.temporal.connection import TemporalTarget

pytestmark = pytest.mark.slow

RUNS = 200
NODES = 5


def _workflow() -> tuple[Any, bytes]:
    doc = {
        "osop_version": "1.1",
        "id": "worker-loss",
        "name": "worker loss",
        "nodes": [
            {"id": f"s{i}", "type": "cli", "name": f"Step {i}", "x-simulate": {"duration_ms": 150}}
            for i in range(NODES)
        ],
        "edges": [{"from": f"s{i}", "to": f"s{i + 1}"} for i in range(NODES - 1)],
    }
    text = json.dumps(doc).encode()
    return workflow_from_dict(doc), text


def _worker(target: TemporalTarget, cwd: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "osop", "worker", "--temporal", target.address,
            "--task-queue", target.task_queue, "--concurrency", "50",
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    assert "osop worker ready" in line, line
    return process


async def _count_closed(client: Any, run_ids: list[str]) -> int:
    closed = 0
    for rid in run_ids:
        described = await client.get_workflow_handle(rid).describe()
        closed += described.close_time is not None
    return closed


def test_two_workers_one_killed_every_run_completes_once(
    target: TemporalTarget, tmp_path: Path
) -> None:
    from osop.temporal.connection import connect
    from osop.temporal.runs import read_temporal_record, start_temporal_run

    workflow, source = _workflow()
    doomed = _worker(target, tmp_path)
    survivor = _worker(target, tmp_path)
    try:

        async def scenario() -> list[Any]:
            client = await connect(target)
            options = RunOptions(mode="simulated", seed=1)
            run_ids = await asyncio.gather(
                *(
                    start_temporal_run(
                        target, workflow, source=source, options=options, client=client
                    )
                    for _ in range(RUNS)
                )
            )
            # Mid-way: some runs are done, most are not.
            for _ in range(600):
                done = await _count_closed(client, run_ids[:40])
                if done >= 5:
                    break
                await asyncio.sleep(0.2)
            doomed.send_signal(signal.SIGKILL)
            closed_at_kill = await _count_closed(client, run_ids)
            assert closed_at_kill < RUNS, "every run ended before the kill: nothing was tested"
            results = await asyncio.wait_for(
                asyncio.gather(*(client.get_workflow_handle(r).result() for r in run_ids)), 600
            )
            assert all(r["status"] == "COMPLETED" for r in results), results
            return [await read_temporal_record(target, rid, client=client) for rid in run_ids]

        records = asyncio.run(scenario())
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)
    assert len({r.run_id for r in records}) == RUNS
    for record in records:
        assert record.status == "COMPLETED"
        completed = [r.node_id for r in record.node_records if r.status == "COMPLETED"]
        assert sorted(completed) == sorted(f"s{i}" for i in range(NODES)), completed
        report = validate_text(
            json.dumps(record.to_dict()), "record.osoplog.json", kind="log", max_bytes=None
        )
        assert report.ok(), [i.format() for i in report.issues if i.is_error]
