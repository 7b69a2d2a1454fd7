"""Time as the engine sees it: injected, so retries and timeouts are testable without sleeping."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

__all__ = ["Clock", "SystemClock", "VirtualClock", "iso", "within"]

T = TypeVar("T")


class Clock(Protocol):
    """Wall time for records, monotonic time for durations, and a sleep the engine awaits."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a ``Z`` (what records carry)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class VirtualClock:
    """Virtual time for rehearsals and tests: sleeping takes no real time.

    Time advances only when every task is blocked, straight to the earliest
    pending sleep, so retries, backoff, timeouts and simulated durations keep
    their order and their recorded lengths without waiting.  Only for runs
    whose executors do no real I/O (simulated mode).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._now = 0.0
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = 0
        self._driver: asyncio.Task[None] | None = None
        #: Every sleep requested, in seconds (tests read the backoff from it).
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._now)

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        loop = asyncio.get_running_loop()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = loop.create_future()
        self._counter += 1
        heapq.heappush(self._heap, (self._now + seconds, self._counter, future))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await future

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while self._heap:
            for _ in range(10_000):  # let every runnable callback run first
                await asyncio.sleep(0)
                if not getattr(loop, "_ready", ()):
                    break
            while self._heap and self._heap[0][2].done():
                heapq.heappop(self._heap)
            if not self._heap:
                break
            when, _, future = heapq.heappop(self._heap)
            self._now = max(self._now, when)
            future.set_result(None)


async def within(clock: Clock, seconds: float, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``, or cancel it after ``seconds`` of ``clock`` time.

    Raises :class:`TimeoutError` when the time ran out, *after* the cancelled task
    has finished cleaning up (an executor kills what it started when cancelled).
    Cancelling the caller cancels both the work and the timer.
    """
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        done, _ = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        timer.cancel()
        await asyncio.gather(task, timer, return_exceptions=True)
        raise
    if task in done:
        timer.cancel()
        await asyncio.gather(timer, return_exceptions=True)
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise TimeoutError
