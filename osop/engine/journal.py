"""The run journal: append-only JSON lines, the source of truth for a run.

Every transition is appended BEFORE the engine acts on it; in a durable journal
the ones whose loss could repeat a side effect are on disk (fsync'd) first, the
others are re-derivable and ride along with the next fsync.  So a crash at any
instant leaves a journal from which the exact frontier can be rebuilt.  A torn
last line (the crash hit mid-write) is ignored on reading: the transition it
described was never acted upon.  Before anyone appends again (under the run's
lock), :func:`recover_tail` cuts that fragment off — appending after it would
turn a harmless torn tail into corruption in the middle of the file.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from osop.errors import RunStoreError

__all__ = ["Journal", "TailRecovery", "read_journal", "recover_tail"]


class Journal:
    """Appends transitions to ``path``.

    ``durable=True`` fsyncs every entry (live runs: side effects must never be
    repeated after a crash).  ``durable=False`` is group commit: entries are
    buffered and written + fsync'd at :meth:`sync` points (pause, end, or every
    ``batch`` entries) — used for simulated and dry runs, which have no side
    effects to protect, so that rehearsing a 10,000-node process stays fast.
    """

    def __init__(self, path: Path, *, durable: bool = True, batch: int = 512) -> None:
        self.path = path
        self.durable = durable
        self.batch = batch
        self._pending: list[str] = []
        self._seq = 0
        self._dirty = False
        self._commit: asyncio.Future[None] | None = None
        try:
            self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise RunStoreError(f"cannot open the run journal {path}: {exc}") from exc

    def set_seq(self, seq: int) -> None:
        """Continue numbering after the entries already in the file (resume)."""
        self._seq = seq

    def append(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        """Add ``entry``; with ``sync`` (and a durable journal) it is on disk on return.

        An entry appended with ``sync=False`` becomes durable with the next synced
        one (they share the file, in order): the engine uses that for transitions
        it can re-derive after a crash, such as edge decisions.
        """
        self._seq += 1
        entry["seq"] = self._seq
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
        self._pending.append(line)
        if (self.durable and sync) or len(self._pending) >= self.batch:
            self.sync()

    def mark(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` to be made durable by the next :meth:`commit` (group commit)."""
        self.append(entry, sync=False)
        if self.durable:
            self._dirty = True

    async def commit(self) -> None:
        """Make every entry so far durable, sharing one fsync among concurrent callers.

        Nodes starting (or ending) in the same turn of the event loop all append
        first, then wait here; a single fsync, scheduled once, releases them all:
        a 200-wide fan-out costs one fsync per wave instead of 200.
        """
        if not self._dirty:
            return
        if self._commit is None:
            loop = asyncio.get_running_loop()
            self._commit = loop.create_future()
            loop.call_soon(self._flush_commit)
        await asyncio.shield(self._commit)

    def _flush_commit(self) -> None:
        waiter, self._commit = self._commit, None
        self._dirty = False
        try:
            self.sync()
        except OSError as exc:
            if waiter is not None and not waiter.done():
                waiter.set_exception(RunStoreError(f"cannot write the journal: {exc}"))
            return
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def sync(self) -> None:
        """Write and fsync whatever is buffered."""
        if self._pending:
            self._file.write("\n".join(self._pending) + "\n")
            self._pending.clear()
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()


@dataclass(frozen=True)
class TailRecovery:
    """What :func:`recover_tail` did to a journal whose last write was torn."""

    #: Byte offset where the fragment started (the journal now ends there).
    offset: int
    #: Bytes of the fragment cut off.
    dropped_bytes: int

    def describe(self) -> str:
        return (
            f"the journal ended in a torn entry ({self.dropped_bytes} bytes at byte "
            f"{self.offset}) left by a crash mid-write; it was cut off (the transition "
            "it described never took effect)"
        )


def recover_tail(path: Path) -> TailRecovery | None:
    """Cut a torn last entry off ``path``; None when the journal ends cleanly.

    Only the holder of the run's lock may call this (it rewrites the end of the
    file).  A last line that is a whole entry missing only its newline gets the
    newline; anything else after the last newline is a fragment and is removed.
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunStoreError(f"cannot open the run journal {path}: {exc}") from exc
    try:
        size = os.fstat(fd).st_size
        # Find the last newline, reading backwards in chunks (entries can be large).
        end = size
        tail = b""
        start = size
        while start > 0:
            step = min(1 << 16, start)
            start -= step
            chunk = os.pread(fd, step, start)
            tail = chunk + tail
            if b"\n" in chunk:
                break
        cut = tail.rfind(b"\n")
        offset = start + cut + 1 if cut >= 0 else 0
        if offset == end:
            return None
        fragment = tail[cut + 1 :]
        if _whole_entry(fragment):
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, b"\n")
            os.fsync(fd)
            return None
        os.ftruncate(fd, offset)
        os.fsync(fd)
        return TailRecovery(offset, end - offset)
    except OSError as exc:
        raise RunStoreError(f"cannot repair the run journal {path}: {exc}") from exc
    finally:
        os.close(fd)


def _whole_entry(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError):
        return False


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete entry of a journal, in order (a torn last line is dropped).

    A line that is not a JSON object anywhere but at the end is corruption (a
    torn write is only ever the last thing in the file): a clear error naming the
    line and byte offset, never a guess at what the run did.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise RunStoreError(f"no journal at {path}") from exc
    except OSError as exc:
        raise RunStoreError(f"cannot read the journal {path}: {exc}") from exc
    entries: list[dict[str, Any]] = []
    lines = raw.split(b"\n")
    last = len(lines) - 1 if lines[-1].strip() else len(lines) - 2
    offset = 0
    for index, line in enumerate(lines):
        here, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            if index >= last:  # torn tail: never acted upon
                break
            raise RunStoreError(
                f"{path}:{index + 1}: corrupt journal entry at byte {here} "
                f"({_reason(exc)}); a crash only ever tears the last entry, so the "
                "journal was damaged in the middle and the run cannot be rebuilt "
                "from it safely"
            ) from exc
        if not isinstance(entry, dict):
            if index >= last:
                break
            raise RunStoreError(
                f"{path}:{index + 1}: corrupt journal entry at byte {here} (not an object)"
            )
        entries.append(entry)
    return entries


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return "not UTF-8 text"
