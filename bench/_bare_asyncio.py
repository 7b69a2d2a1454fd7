"""The bare asyncio baselines the engine benches set themselves against.

A module of its own, with no import of ``osop`` and no ``sys.path`` change, so that a
bench measuring another checkout (``bench_core.py --tree``) can share it.
"""

from __future__ import annotations

import asyncio
import time


async def noop() -> dict[str, int]:
    return {"n": 1}


def bare_chain(n: int) -> float:
    """CPU seconds of ``n`` awaits of a no-op task, one after the other."""

    async def main() -> None:
        for _ in range(n):
            await asyncio.ensure_future(noop())

    start = time.process_time()
    asyncio.run(main())
    return time.process_time() - start


def bare_fan(width: int) -> float:
    """CPU seconds of a no-op, ``width`` no-op tasks gathered, then a no-op."""

    async def main() -> None:
        await noop()
        await asyncio.gather(*(asyncio.ensure_future(noop()) for _ in range(width)))
        await noop()

    start = time.process_time()
    asyncio.run(main())
    return time.process_time() - start
