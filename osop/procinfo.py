"""Who a process is: pid + start time (+ boot id), read from /proc.

A pid alone is reused by the system; a pid with the process's start time, within
one boot, names one process for good.  The run store uses this to tell the owner
of a run from an unrelated process that inherited its pid, and the engine to
tell a crashed attempt's process group from someone else's.  Where /proc is
missing nothing can be proven, and callers must then never send a signal.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

__all__ = [
    "boot_id",
    "environ_has",
    "group_members",
    "pid_alive",
    "process_start",
    "same_process",
    "signal_process",
]

_PROC = Path("/proc")


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None.

    Together with the pid this names one process for good: a pid is reused,
    a (pid, start time) pair within one boot is not.
    """
    # Read with os.open/os.read: the engine asks this once per child process it
    # starts, and ``Path.read_text`` (a text wrapper, path objects) was ~4x the
    # cost (72 -> ~15 µs a call).
    try:
        fd = os.open(f"{_PROC}/{pid}/stat", os.O_RDONLY)
    except (OSError, ValueError):
        return None
    try:
        stat = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[19].decode("ascii") if len(fields) > 19 else None


#: This boot's id once read: it cannot change while this process lives.
_boot_id: list[str | None] = []


def boot_id() -> str | None:
    """This boot's id (Linux), so a start time is never compared across reboots."""
    if _boot_id:
        return _boot_id[0]
    try:
        found = (_PROC / "sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None
    _boot_id.append(found)
    return found


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def same_process(pid: int, started: str | None, boot: str | None) -> bool:
    """Whether ``pid`` is still the process that was recorded with ``started``/``boot``.

    Without /proc (no start time to compare) nothing can be proven: False.
    """
    if started is None or not pid_alive(pid):
        return False
    if boot is not None and boot_id() not in (None, boot):
        return False
    return process_start(pid) == started


def group_members(pgid: int) -> list[int] | None:
    """Live (non-zombie) processes of process group ``pgid``; None without /proc."""
    if not _PROC.is_dir():
        return None
    members: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def environ_has(pid: int, marker: bytes) -> bool:
    """Whether ``marker`` (``NAME=value``) is in the environment ``pid`` started with."""
    try:
        data = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return marker in data.split(b"\0")


def signal_process(pid: int, started: str | None, sig: int) -> None:
    """Send ``sig`` to ``pid`` only if it still is the process that started at ``started``.

    With a pidfd (Linux >= 5.3) the check and the signal address the same
    process, so a pid reused in between is never hit.  Raises ``OSError``
    (``ProcessLookupError`` when it is gone or is not that process any more).
    """
    pidfd_open = getattr(os, "pidfd_open", None)
    send = getattr(signal, "pidfd_send_signal", None)
    if pidfd_open is None or send is None:
        if process_start(pid) != started:
            raise ProcessLookupError(f"process {pid} is not the one recorded")
        os.kill(pid, sig)
        return
    fd = pidfd_open(pid)
    try:
        if process_start(pid) != started:
            raise ProcessLookupError(f"process {pid} is not the one recorded")
        send(fd, sig)
    finally:
        os.close(fd)
