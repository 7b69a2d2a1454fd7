"""OSOP on Temporal vs the local host vs a bare Temporal workflow, in the same run.

    python bench/bench_temporal.py [--quick | --smoke] [--repeat N]

Starts its own Temporal dev server (the `temporal` CLI from the dev extra) on
127.0.0.1 and worker processes, then times, per scenario:

1. a 1,000-node chain of no-op nodes (simulated mode) — per-node overhead;
2. 200 concurrent runs of a 10-node chain;

on (a) the local host (one process, run store on disk, group commit), (b) the
Temporal host with 1 and 2 `osop worker` processes, (c) a bare Temporal workflow
that calls one no-op activity per node with the same worker settings — the floor
any Temporal-hosted interpreter pays.  Prints medians and ratios, and where the
time goes: (b) − (c) is what OSOP's interpreter adds on Temporal, (c) is Temporal's
own round trip per step (a workflow task + an activity task through the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from temporal_server import TemporalDevServer  # noqa: E402

from osop.engine import RunOptions, RunStore, start_run  # noqa: E402
from osop.format.workflow import workflow_from_dict  # noqa: E402
from osop.temporal.connection import TemporalTarget, connect  # noqa: E402
from osop.temporal.runs import start_temporal_run  # noqa: E402

BARE = Path(__file__).resolve().parent / "_bare_temporal.py"


def chain_doc(n: int) -> dict[str, Any]:
    return {
        "osop_version": "1.1",
        "id": f"chain-{n}",
        "name": "chain",
        "nodes": [{"id": f"n{i}", "type": "cli", "name": f"n{i}"} for i in range(n)],
        "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(n - 1)],
    }


def timed(func: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


# -- local host ------------------------------------------------------------------


def local(nodes: int, runs: int) -> None:
    doc = chain_doc(nodes)
    workflow = workflow_from_dict(doc)
    folder = Path(tempfile.mkdtemp())
    try:
        store = RunStore(folder)

        async def go() -> None:
            results = await asyncio.gather(
                *(
                    start_run(
                        workflow,
                        source=json.dumps(doc).encode(),
                        store=store,
                        options=RunOptions(mode="simulated", seed=1),
                    )
                    for _ in range(runs)
                )
            )
            assert all(r.status == "COMPLETED" for r in results)

        asyncio.run(go())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- workers -----------------------------------------------------------------------


def start_workers(kind: str, target: TemporalTarget, count: int) -> list[subprocess.Popen[str]]:
    procs = []
    for _ in range(count):
        if kind == "osop":
            args = [sys.executable, "-m", "osop", "worker", "--temporal", target.address,
                    "--task-queue", target.task_queue, "--concurrency", "200"]  # fmt: skip
        else:
            args = [sys.executable, str(BARE), "worker", target.address, target.task_queue]
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "ready" in line, line
        procs.append(proc)
    return procs


def stop_workers(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def on_temporal(target: TemporalTarget, nodes: int, runs: int) -> None:
    doc = chain_doc(nodes)
    workflow = workflow_from_dict(doc)

    async def go() -> None:
        client = await connect(target)
        ids = await asyncio.gather(
            *(
                start_temporal_run(
                    target,
                    workflow,
                    source=json.dumps(doc).encode(),
                    options=RunOptions(mode="simulated", seed=1),
                    client=client,
                )
                for _ in range(runs)
            )
        )
        results = await asyncio.gather(*(client.get_workflow_handle(i).result() for i in ids))
        assert all(r["status"] == "COMPLETED" for r in results), results[:3]

    asyncio.run(go())


def bare(target: TemporalTarget, nodes: int, runs: int) -> None:
    async def go() -> None:
        client = await connect(target)
        handles = await asyncio.gather(
            *(
                client.start_workflow(
                    "bare.chain", nodes, id=str(uuid.uuid4()), task_queue=target.task_queue
                )
                for _ in range(runs)
            )
        )
        results = await asyncio.gather(*(h.result() for h in handles))
        assert all(r == nodes for r in results)

    asyncio.run(go())


def breakdown(target: TemporalTarget, nodes: int, *, bare_run: bool = False) -> dict[str, float]:
    """Medians (ms) of each leg of a step, read from one run's Temporal history."""
    from temporalio.api.enums.v1 import EventType

    doc = chain_doc(nodes)

    async def go() -> dict[str, float]:
        client = await connect(target)
        if bare_run:
            run_id = str(uuid.uuid4())
            await client.start_workflow(
                "bare.chain", nodes, id=run_id, task_queue=target.task_queue
            )
        else:
            run_id = await start_temporal_run(
                target,
                workflow_from_dict(doc),
                source=json.dumps(doc).encode(),
                options=RunOptions(mode="simulated", seed=1),
                client=client,
            )
        handle = client.get_workflow_handle(run_id)
        await handle.result()
        history = await handle.fetch_history()
        legs: dict[str, list[float]] = {
            "workflow task queued (server -> worker)": [],
            "workflow task run (the interpreter decides)": [],
            "activity queued (server -> worker)": [],
            "activity run (the attempt, no-op)": [],
            "activity done -> next workflow task": [],
        }
        when = {e.event_id: e.event_time.ToMilliseconds() for e in history.events}
        last_done: float | None = None
        scheduled_wt: float | None = None
        for event in history.events:
            at = when[event.event_id]
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                scheduled_wt = at
                if last_done is not None:
                    legs["activity done -> next workflow task"].append(at - last_done)
                    last_done = None
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and scheduled_wt is not None:
                legs["workflow task queued (server -> worker)"].append(at - scheduled_wt)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                started = event.workflow_task_completed_event_attributes.started_event_id
                legs["workflow task run (the interpreter decides)"].append(at - when[started])
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                sched = event.activity_task_started_event_attributes.scheduled_event_id
                legs["activity queued (server -> worker)"].append(at - when[sched])
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                started = event.activity_task_completed_event_attributes.started_event_id
                legs["activity run (the attempt, no-op)"].append(at - when[started])
                last_done = at
        return {k: statistics.median(v) for k, v in legs.items() if v}

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: does it still run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = 1 if args.quick or args.smoke else args.repeat
    scenarios = [("1,000-node chain", 1000, 1), ("200 runs x 10 nodes", 10, 200)]
    if args.quick:
        scenarios = [("200-node chain", 200, 1), ("50 runs x 10 nodes", 10, 50)]
    if args.smoke:
        scenarios = [("20-node chain", 20, 1), ("5 runs x 3 nodes", 3, 5)]
    with tempfile.TemporaryDirectory() as folder, TemporalDevServer(Path(folder)) as server:
        print(f"temporal dev server {server.address}; {os.cpu_count()} cpus; median of {repeat}")
        for title, nodes, runs in scenarios:
            total_nodes = nodes * runs
            rows: list[tuple[str, float]] = []
            rows.append(("local host", timed(lambda n=nodes, r=runs: local(n, r), repeat)))
            for kind, label in (("osop", "OSOP on Temporal"), ("bare", "bare Temporal")):
                for workers in (1, 2):
                    target = TemporalTarget(
                        address=server.address, task_queue=f"b-{uuid.uuid4().hex[:8]}"
                    )
                    procs = start_workers(kind, target, workers)
                    try:
                        runner = on_temporal if kind == "osop" else bare
                        on_temporal(target, 3, 1) if kind == "osop" else bare(target, 3, 1)
                        seconds = timed(
                            lambda t=target, n=nodes, r=runs, f=runner: f(t, n, r), repeat
                        )
                    finally:
                        stop_workers(procs)
                    rows.append((f"{label}, {workers} worker{'s' if workers > 1 else ''}", seconds))
            print(f"\n{title} ({total_nodes} nodes)")
            base = dict(rows)
            floor = base["bare Temporal, 1 worker"]
            for label, seconds in rows:
                per_node = seconds / total_nodes * 1000
                print(
                    f"  {label:<28} {seconds:8.2f} s  {per_node:8.3f} ms/node  "
                    f"x{seconds / floor:5.2f} of bare Temporal (1 worker)"
                )
            osop1 = base["OSOP on Temporal, 1 worker"]
            if runs == 1:
                legs = {}
                for kind in ("osop", "bare"):
                    target = TemporalTarget(
                        address=server.address, task_queue=f"b-{uuid.uuid4().hex[:8]}"
                    )
                    procs = start_workers(kind, target, 1)
                    try:
                        legs[kind] = breakdown(target, nodes, bare_run=kind == "bare")
                    finally:
                        stop_workers(procs)
                print("  one step, from each run's Temporal history (medians): OSOP | bare")
                for leg, ms in legs["osop"].items():
                    print(f"    {leg:<46} {ms:7.1f} ms | {legs['bare'].get(leg, 0.0):7.1f} ms")
            print(
                f"  where the time goes (1 worker, per node): Temporal round trip "
                f"{floor / total_nodes * 1000:.3f} ms; OSOP interpreter on Temporal "
                f"{(osop1 - floor) / total_nodes * 1000:.3f} ms; "
                f"the core + local host alone {base['local host'] / total_nodes * 1000:.3f} ms"
            )


if __name__ == "__main__":
    main()
