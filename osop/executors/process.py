"""Running a child process for an executor: bounded capture, no orphans.

The child starts in its own session (so it leads a new process group).  When
the attempt is cancelled (the engine's timeout, Ctrl-C) the whole group gets
SIGTERM, then SIGKILL after a short grace, and is reaped before the
cancellation propagates.  When the child exits normally, anything it left
running in its group (``cmd &``) is terminated the same way: a step's
processes never outlive the step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from osop.executors.base import NodeFailure

__all__ = [
    "DEFAULT_OUTPUT_LIMIT",
    "KILL_GRACE_SEC",
    "ProcessResult",
    "run_process",
    "terminate_group",
]

#: Bytes kept per stream (the tail: the end of a log says why it failed).
DEFAULT_OUTPUT_LIMIT: Final = 256 * 1024
KILL_GRACE_SEC: Final = 0.5
_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProcessResult:
    exit_code: int
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool


class _Tail:
    """Keeps the last ``limit`` bytes of a stream."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        self.data.extend(chunk)
        if len(self.data) > self.limit:
            del self.data[: len(self.data) - self.limit]
            self.truncated = True

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


async def _drain(stream: asyncio.StreamReader | None, tail: _Tail) -> None:
    if stream is None:
        return
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return
        tail.add(chunk)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when no process of it is left."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process of the group remains.

    Zombies count as gone: where PID 1 does not reap orphans (some container
    inits), they linger and would otherwise cost the full grace period.
    """
    if not _signal_group(pgid, 0):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


async def terminate_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``grace`` seconds."""
    pgid = proc.pid
    if not _signal_group(pgid, signal.SIGTERM):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline:
        if proc.returncode is not None and not _group_alive(pgid):
            return
        await asyncio.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    # SIGKILL cannot be ignored, but dying takes a moment: wait for it (bounded).
    deadline = loop.time() + grace
    while loop.time() < deadline and _group_alive(pgid):
        await asyncio.sleep(0.01)


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    kill_grace: float = KILL_GRACE_SEC,
) -> ProcessResult:
    """Run ``argv``; ``NodeFailure`` when it cannot start (``NO_TOOL``/``CANNOT_START``)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd),
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise NodeFailure(
            "NO_TOOL",
            f"{argv[0]!r} was not found: install it or put it on PATH",
            retryable=False,
        ) from exc
    except OSError as exc:
        raise NodeFailure(
            "CANNOT_START", f"cannot start {argv[0]!r}: {exc.strerror or exc}", retryable=False
        ) from exc
    out, err = _Tail(output_limit), _Tail(output_limit)
    readers = asyncio.gather(_drain(proc.stdout, out), _drain(proc.stderr, err))
    waiter = asyncio.ensure_future(proc.wait())
    try:
        # ``wait()`` also waits for the pipes to close, which a background child
        # (``cmd &``) keeps open: watch the exit status itself as well.
        delay = 0.001
        while proc.returncode is None and not waiter.done():
            await asyncio.wait({waiter}, timeout=delay)
            delay = min(delay * 2, 0.05)
        if _group_alive(proc.pid):
            await terminate_group(proc, kill_grace)
        exit_code = await waiter
        await readers
    except asyncio.CancelledError:
        await asyncio.shield(_cleanup(proc, readers, kill_grace))
        waiter.cancel()
        raise
    return ProcessResult(exit_code, out.text(), err.text(), out.truncated, err.truncated)


async def _cleanup(
    proc: asyncio.subprocess.Process, readers: asyncio.Future[Any], grace: float
) -> None:
    await terminate_group(proc, grace)
    with contextlib.suppress(ProcessLookupError):
        if proc.returncode is None:
            proc.kill()
    await proc.wait()
    readers.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await readers
