"""The baseline of bench_temporal.py: a bare Temporal workflow calling no-op activities.

    python bench/_bare_temporal.py worker HOST:PORT TASK_QUEUE

One workflow type (``bare.chain``): ``n`` no-op activities one after the other,
with the same activity options the OSOP interpreter uses (heartbeat timeout, no
retries of failures), on a worker with the same concurrency and sandbox.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy


@activity.defn(name="bare.noop")
async def noop(index: int) -> int:
    return index


@workflow.defn(name="bare.chain")
class BareChain:
    @workflow.run
    async def run(self, nodes: int) -> int:
        done = 0
        for i in range(nodes):
            await workflow.execute_activity(
                "bare.noop",
                i,
                start_to_close_timeout=timedelta(days=3650),
                heartbeat_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
            done += 1
        return done


async def serve(address: str, task_queue: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from osop.temporal.worker import sandbox_runner

    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[BareChain],
        activities=[noop],
        max_concurrent_activities=200,
        max_concurrent_workflow_tasks=100,
        workflow_runner=sandbox_runner(),
    )
    async with worker:
        print("bare worker ready", file=sys.stderr, flush=True)
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "worker":
        sys.exit(__doc__)
    asyncio.run(serve(sys.argv[2], sys.argv[3]))
    import os

    os._exit(0)  # the SDK's native threads must not outlive Python's teardown
