"""Running a child process for an executor: bounded capture, no orphans.

The child starts in its own session (so it leads a new process group).  When
the attempt is cancelled (the engine's timeout, Ctrl-C) the whole group gets
SIGTERM, then SIGKILL after a short grace, and is reaped before the
cancellation propagates.  When the child exits normally, anything it left
running in its group (``cmd &``) is terminated the same way: a step's
processes never outlive the step.

With ``on_start``, the child is held at a gate (a ``sh`` that waits on a pipe
before it ``exec``s the command, or runs it when it is a ``/bin/sh -c`` script) until ``on_start(pid)`` returned: the engine
journals the process group there, so a crash at any instant leaves a journal
naming every group that may still be running.  If the engine dies before it
opens the gate, the pipe closes and the child exits without running anything.
:func:`stop_stale_group` is what a resumed run does with such a group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from osop.executors.base import NodeFailure
from osop.procinfo import environ_has, group_members, same_process

__all__ = [
    "DEFAULT_OUTPUT_LIMIT",
    "KILL_GRACE_SEC",
    "ProcessResult",
    "run_process",
    "stop_attempt_processes",
    "stop_stale_group",
    "terminate_group",
]

#: Bytes kept per stream (the tail: the end of a log says why it failed).
DEFAULT_OUTPUT_LIMIT: Final = 256 * 1024
KILL_GRACE_SEC: Final = 0.5
#: Grace a crashed run's leftover process group gets between SIGTERM and SIGKILL.
STALE_GRACE_SEC: Final = 2.0
_CHUNK: Final = 64 * 1024
#: Waits on stdin (a pipe) for the go-ahead, then becomes the command with stdin
#: from /dev/null as usual (same pid, same process group).
_GATE = 'IFS= read -r _ || exit 125; exec </dev/null; exec "$@"'
#: The same gate ahead of a ``/bin/sh -c`` script, in the shell that runs it: one
#: exec instead of two (a shell's start-up is most of a short command's CPU: a
#: 200-wide fan-out of ``true`` spent ~2x a direct spawn's in its children,
#: bench/bench_engine.py).  On the script's own first line, so its line numbers,
#: ``$0`` and ``$@`` are those of ``sh -c`` (and no gate variable is left set).
_INLINE_GATE = "IFS= read -r osop_gate || exit 125; unset osop_gate; exec </dev/null; "


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


class _Child(Protocol):
    """What :func:`terminate_group` needs of a child (``asyncio.subprocess.Process``)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...


class _Watched:
    """A started child as the event loop sees it: output tails, exit, end of pipes.

    Output goes straight into the tails as it arrives; the exit and the end of
    the pipes are futures.  No stream readers, reading tasks, gather or polling
    for the exit status (which were ~5 tasks and ~4 timers a process).
    """

    pid: int

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.loop = loop
        self.tails = {1: _Tail(limit), 2: _Tail(limit)}
        #: Set when the child has exited (its status is known; pipes may be open).
        self.exited: asyncio.Future[None] = loop.create_future()
        #: Set when it has exited and every pipe is closed (all output is in).
        self.finished: asyncio.Future[None] = loop.create_future()

    @property
    def returncode(self) -> int | None:
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL the child itself if it has not exited (its pid is still its own)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading its pipes (and kill it, if it is still running)."""
        raise NotImplementedError


class _ViaPidfd(_Watched):
    """A child watched through a pidfd and its pipes read by the event loop (Linux).

    asyncio (before Python 3.12) waits for each child in a thread of its own; a
    fan-out of commands held at their gates keeps hundreds of those threads
    alive, each started under the GIL while the loop waits for it.  A pidfd
    becomes readable when the child exits, so the loop itself notices, no thread
    at all: a 200-wide fan-out of ``true`` went from 269 to 199 ms of this
    process's CPU (~0.35 ms a process; bench/bench_engine.py --processes 200).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limit: int,
        popen: subprocess.Popen[bytes],
        pipes: dict[int, int],
    ) -> None:
        super().__init__(loop, limit)
        self.popen = popen
        self.pid = popen.pid
        self._code: int | None = None
        self._open = dict(pipes)  # read end -> the stream it carries (1, 2)
        for fd, stream in pipes.items():
            os.set_blocking(fd, False)
            loop.add_reader(fd, self._readable, fd, self.tails[stream])
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except OSError:  # out of descriptors: a thread waits for this one
            loop.run_in_executor(None, os.waitpid, self.pid, 0).add_done_callback(self._waited)
        else:
            loop.add_reader(self._pidfd, self._reap)

    @classmethod
    def start(
        cls,
        loop: asyncio.AbstractEventLoop,
        argv: Sequence[str],
        *,
        cwd: str,
        env: dict[str, str],
        stdin: int,
        limit: int,
    ) -> _ViaPidfd:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=stdin,
                stdout=out_w,
                stderr=err_w,
                start_new_session=True,
            )
        except BaseException:
            os.close(out_r)
            os.close(err_r)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        return cls(loop, limit, popen, {out_r: 1, err_r: 2})

    @property
    def returncode(self) -> int | None:
        return self._code

    def _readable(self, fd: int, tail: _Tail) -> None:
        try:
            data = os.read(fd, _CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            tail.add(data)
            return
        self._close_pipe(fd)
        self._maybe_finished()

    def _close_pipe(self, fd: int) -> None:
        self.loop.remove_reader(fd)
        os.close(fd)
        del self._open[fd]

    def _reap(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped by someone else: asyncio says 255 too
            pid, status = self.pid, 255 << 8
        if pid == 0:
            return
        assert self._pidfd is not None
        self.loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = None
        self._exit(os.waitstatus_to_exitcode(status))

    def _waited(self, future: asyncio.Future[tuple[int, int]]) -> None:
        try:
            status = future.result()[1]
        except ChildProcessError:
            status = 255 << 8
        self._exit(os.waitstatus_to_exitcode(status))

    def _exit(self, code: int) -> None:
        self._code = self.popen.returncode = code  # the Popen never waits for it itself
        if not self.exited.done():
            self.exited.set_result(None)
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if self._code is not None and not self._open and not self.finished.done():
            self.finished.set_result(None)

    def kill(self) -> None:
        if self._code is None:  # not reaped: the pid cannot be anyone else's yet
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        for fd in list(self._open):
            self._close_pipe(fd)
        self.kill()  # as asyncio's transport does; its pidfd still reaps it


class _ViaAsyncio(_Watched, asyncio.SubprocessProtocol):
    """A child started by asyncio's subprocess transport (where there is no pidfd)."""

    transport: asyncio.SubprocessTransport

    @classmethod
    async def start(
        cls,
        loop: asyncio.AbstractEventLoop,
        argv: Sequence[str],
        *,
        cwd: str,
        env: dict[str, str],
        stdin: int,
        limit: int,
    ) -> _ViaAsyncio:
        child = cls(loop, limit)
        transport, _ = await loop.subprocess_exec(
            lambda: child,
            *argv,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        child.transport = transport
        child.pid = transport.get_pid()
        return child

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.tails[fd].add(data)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)

    @property
    def returncode(self) -> int | None:
        return self.transport.get_returncode()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.transport.kill()

    def close(self) -> None:
        self.transport.close()


def _pidfd_usable() -> bool:
    """Whether children can be watched through pidfds here (Linux >= 5.3)."""
    if not _PIDFD:
        try:
            os.close(os.pidfd_open(os.getpid()))
        except (AttributeError, OSError):
            _PIDFD.append(False)
        else:
            _PIDFD.append(True)
    return _PIDFD[0]


_PIDFD: list[bool] = []


async def _start(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdin: int, limit: int
) -> _Watched:
    loop = asyncio.get_running_loop()
    if isinstance(loop, asyncio.SelectorEventLoop) and _pidfd_usable():
        return _ViaPidfd.start(loop, argv, cwd=str(cwd), env=dict(env), stdin=stdin, limit=limit)
    return await _ViaAsyncio.start(
        loop, argv, cwd=str(cwd), env=dict(env), stdin=stdin, limit=limit
    )


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
    members = group_members(pgid)
    return members is None or bool(members)


async def terminate_group(proc: _Child, grace: float) -> None:
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


def _check_startable(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    """What ``exec`` would refuse, said before the gate shell would hide it."""
    program = argv[0]
    if "/" in program:
        path = cwd / program
        if not path.exists():
            raise FileNotFoundError(program)
        if not os.access(path, os.X_OK) or path.is_dir():
            raise PermissionError(13, "Permission denied", program)
        return
    if shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise FileNotFoundError(program)


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    kill_grace: float = KILL_GRACE_SEC,
    on_start: Callable[[int], Awaitable[None]] | None = None,
) -> ProcessResult:
    """Run ``argv``; ``NodeFailure`` when it cannot start (``NO_TOOL``/``CANNOT_START``).

    ``on_start(pid)``: awaited after the child exists and before it may run the
    command (its pid is its process group); see the module docstring.
    """
    gate: tuple[int, int] | None = None
    try:
        if on_start is not None:
            gated = _inline_gate(argv)
            if gated is None:  # the gate shell execs the command, and would hide why not
                _check_startable(argv, cwd, env)
                gated = ["/bin/sh", "-c", _GATE, "osop-gate", *argv]
            gate = os.pipe()
            child = await _start(
                gated,
                cwd=cwd,
                env=env,
                stdin=gate[0],
                limit=output_limit,
            )
        else:
            child = await _start(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, limit=output_limit
            )
    except FileNotFoundError as exc:
        _close_gate(gate)
        raise NodeFailure(
            "NO_TOOL",
            f"{argv[0]!r} was not found: install it or put it on PATH",
            retryable=False,
        ) from exc
    except OSError as exc:
        _close_gate(gate)
        raise NodeFailure(
            "CANNOT_START", f"cannot start {argv[0]!r}: {exc.strerror or exc}", retryable=False
        ) from exc
    try:
        if gate is not None and on_start is not None:
            os.close(gate[0])
            try:
                await on_start(child.pid)
                with contextlib.suppress(BrokenPipeError):  # it exited (a syntax error)
                    os.write(gate[1], b"go\n")
            finally:
                os.close(gate[1])  # without the go-ahead the child exits unstarted
            gate = None
        # The exit status, not the end of the pipes, which a background child
        # (``cmd &``) keeps open: what it left running is stopped first.
        await child.exited
        if _group_alive(child.pid):
            await terminate_group(child, kill_grace)
        await child.finished
        exit_code = child.returncode
    except BaseException:
        await asyncio.shield(_cleanup(child, kill_grace))
        raise
    finally:
        child.close()
    assert exit_code is not None  # it exited: ``child.exited`` was set
    out, err = child.tails[1], child.tails[2]
    return ProcessResult(exit_code, out.text(), err.text(), out.truncated, err.truncated)


def _inline_gate(argv: Sequence[str]) -> list[str] | None:
    """A ``/bin/sh -c`` script with the gate ahead of it (what ``exec`` refuses, the
    spawn itself says); None for any other command."""
    if len(argv) == 3 and argv[0] == "/bin/sh" and argv[1] == "-c":
        return ["/bin/sh", "-c", _INLINE_GATE + argv[2]]
    return None


def _close_gate(gate: tuple[int, int] | None) -> None:
    for fd in gate or ():
        with contextlib.suppress(OSError):
            os.close(fd)


async def _cleanup(child: _Watched, grace: float) -> None:
    await terminate_group(child, grace)
    child.kill()
    await child.exited


def stop_stale_group(
    pgid: int,
    started: str | None,
    boot: str | None,
    token: str | None,
    *,
    grace: float = STALE_GRACE_SEC,
) -> dict[str, object]:
    """Make sure a crashed attempt's process group is gone; says what was done.

    Only processes provably the attempt's are signalled: the whole group when its
    leader is still the recorded process (pid + start time + boot), else each
    member whose environment carries the attempt's ``token``.  Anything else in
    a group with that number is left alone.  Returns ``{pgid, outcome, message}``
    with outcome ``gone`` (nothing was running), ``terminated`` (SIGTERM, then
    SIGKILL after ``grace``), ``not-ours`` or ``unknown`` (no /proc to check) —
    or ``running`` when a provably-ours process survived even SIGKILL.  Blocks
    for at most ``grace`` + max(``grace``, 1) seconds (run it in a thread from
    async code).
    """
    members = group_members(pgid)
    if members is None:
        return _verdict(pgid, "unknown", "its process group could not be inspected (no /proc)")
    leader = same_process(pgid, started, boot)
    marker = f"OSOP_ATTEMPT={token}".encode() if token else None

    def ours() -> list[int]:
        now = group_members(pgid) or []
        if leader and same_process(pgid, started, boot):
            return now
        return [pid for pid in now if marker is not None and environ_has(pid, marker)]

    targets = ours()
    if not targets:
        if members:
            return _verdict(
                pgid,
                "not-ours",
                f"process group {pgid} exists but cannot be proven to be this attempt's; "
                "it was left alone",
            )
        return _verdict(pgid, "gone", f"its process group {pgid} had already ended")
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, max(grace, 1.0))):
        if leader and same_process(pgid, started, boot):
            _signal_group(pgid, sig)
        else:
            for pid in targets:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            targets = ours()
            if not targets:
                how = "SIGTERM" if sig == signal.SIGTERM else "SIGTERM, then SIGKILL"
                return _verdict(
                    pgid,
                    "terminated",
                    f"its process group {pgid} was still running: stopped ({how})",
                )
            time.sleep(0.02)
    return _verdict(
        pgid, "running", f"its process group {pgid} is still running and could not be stopped"
    )


def stop_attempt_processes(processes: Sequence[Mapping[str, Any]]) -> list[dict[str, object]]:
    """:func:`stop_stale_group` for each process an attempt journaled (``proc`` entries)."""
    return [
        stop_stale_group(
            int(proc["pgid"]), proc.get("started"), proc.get("boot_id"), proc.get("token")
        )
        for proc in processes
    ]


def _verdict(pgid: int, outcome: str, message: str) -> dict[str, object]:
    return {"pgid": pgid, "outcome": outcome, "message": message}
