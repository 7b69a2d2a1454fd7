"""The run journal: append-only JSON lines, the source of truth for a run.

Every transition is appended BEFORE the engine acts on it; in a durable journal
the ones whose loss could repeat a side effect are on disk (fsync'd) first, the
others are re-derivable and ride along with the next fsync.  So a crash at any
instant leaves a journal from which the exact frontier can be rebuilt.  A torn
last line (the crash hit mid-write) is ignored on reading: the transition it
described was never acted upon.  Before anyone appends again (under the run's
lock), :func:`recover_tail` cuts that fragment off — appending after it would
turn a harmless torn tail into corruption in the middle of the file.

What waits for the disk — an attempt's go-ahead, a progress event — is handed
to :meth:`Journal.when_written`: it runs right after the write that covers every
entry appended so far (after its fsync in a durable journal), never before.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from osop.errors import RunStoreError

__all__ = ["Journal", "TailRecovery", "encode_entry", "read_journal", "recover_tail"]

#: Options of the journal's encoder: compact UTF-8 like ``json.dumps(ensure_ascii=False,
#: separators=(",", ":"))``; datetimes and dataclasses go to ``str`` as they always did.
_ORJSON = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def encode_entry(entry: dict[str, Any]) -> bytes:
    """One journal line (without its newline).

    orjson writes the same compact JSON as ``json.dumps`` ten times faster; the
    standard encoder is the fallback for what orjson refuses (integers beyond
    64 bits), so every value that could be journaled before still can be.
    """
    try:
        return orjson.dumps(entry, default=str, option=_ORJSON)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode("utf-8", "surrogatepass")


class Journal:
    """Appends transitions to ``path``.

    ``durable=True`` (live runs) makes entries durable before the engine acts on
    them: an entry appended with ``sync`` is fsync'd at once; the starts and ends
    of attempts are group-committed (:meth:`when_written`): the entries every
    task appended in one turn of the event loop share one write and one fsync,
    so a 200-wide fan-out costs one fsync per wave, and a chain one per node
    (an attempt's end and its successor's start).  ``durable=False`` (simulated
    and dry runs, which have no side effects to protect) buffers entries and
    writes them to the file every ``batch`` entries and fsyncs at :meth:`sync` points
    (pause, end, each record written), so that rehearsing a 10,000-node process
    stays fast.
    """

    def __init__(self, path: Path, *, durable: bool = True, batch: int = 512) -> None:
        self.path = path
        self.durable = durable
        self.batch = batch
        self._pending: list[bytes] = []
        #: Bytes written since the last fsync (a group-commit journal writes without one).
        self._unsynced = False
        self._seq = 0
        #: What waits for the entries appended so far to be written (in order).
        self._waiting: list[Callable[[], None]] = []
        self._scheduled = False
        self._commit: asyncio.Future[None] | None = None
        #: Why the journal cannot be written any more (then nothing else is run).
        self.failure: RunStoreError | None = None
        #: Told when a scheduled write fails (the engine stops the run).
        self.on_failure: Callable[[RunStoreError], None] | None = None
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise RunStoreError(f"cannot open the run journal {path}: {exc}") from exc
        self.closed = False

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
        pending = self._pending
        try:  # encode_entry, one call less an entry
            pending.append(orjson.dumps(entry, default=str, option=_ORJSON))
        except (TypeError, orjson.JSONEncodeError):
            pending.append(encode_entry(entry))
        if self.durable:
            if sync or len(pending) >= self.batch:
                self.sync()
        elif len(pending) >= self.batch:
            # A rehearsal's batch goes to the file without an fsync (one per 512
            # entries was ~1 % of a simulated chain's CPU, bench/bench_engine.py):
            # the operating system keeps it through a crash of the process, and
            # the sync points (pause, end, each record written) fsync it.
            self.flush()

    def mark(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` to be made durable by the next commit (group commit)."""
        self.append(entry, sync=False)
        if self.durable:
            self._schedule()

    def when_written(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once every entry appended so far is written.

        Written means fsync'd in a durable journal, in the file (the operating
        system's) in a group-commit one.  With nothing outstanding it runs now;
        otherwise after the next write, which is scheduled for the end of this
        turn of the event loop (every task ready in this turn appends first), or
        made at once when nothing else is ready to run in this turn.
        """
        if not self._pending and not self._waiting and not (self.durable and self._unsynced):
            callback()
            return
        self._waiting.append(callback)
        self._schedule(now_if_alone=True)

    def holds(self) -> bool:
        """Whether something waits for a write (what comes next must queue behind it)."""
        return bool(self._waiting)

    def _schedule(self, *, now_if_alone: bool = False) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (closing a run): write now
            self._write_scheduled()
            return
        if now_if_alone and not getattr(loop, "_ready", True):
            # Nothing else is ready to run in this turn of the loop, so no other
            # task can join this write: made now, not one loop turn later (a
            # chain's node costs one turn of the loop instead of two).
            self._write_scheduled()
            return
        self._scheduled = True
        loop.call_soon(self._write_scheduled)

    async def commit(self) -> None:
        """Wait until every entry so far is written (one fsync shared by every waiter)."""
        if not self._pending and not self._waiting and not (self.durable and self._unsynced):
            return
        if self._commit is None:
            self._commit = asyncio.get_running_loop().create_future()
        waiter = self._commit
        self._schedule()
        await asyncio.shield(waiter)

    def _write_scheduled(self) -> None:
        self._scheduled = False
        waiter, self._commit = self._commit, None
        try:
            if self.durable:
                self.sync()
            else:
                self.flush()
        except RunStoreError as exc:
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
            if self.on_failure is not None:
                self.on_failure(exc)
            return
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _write(self) -> None:
        if self.failure is not None:
            raise self.failure
        if self._pending:
            data = b"\n".join(self._pending) + b"\n"
            self._pending.clear()
            try:
                while data:  # a regular file takes it all at once; a signal may cut it
                    data = data[os.write(self._fd, data) :]
            except OSError as exc:
                self.failure = RunStoreError(f"cannot write the journal {self.path}: {exc}")
                raise self.failure from exc
            self._unsynced = True

    def flush(self) -> None:
        """Write what is buffered (no fsync) and run what waited for it."""
        self._write()
        self._release()

    def sync(self) -> None:
        """Write and fsync whatever is buffered, then run what waited for it."""
        self._write()
        if self._unsynced:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self.failure = RunStoreError(f"cannot write the journal {self.path}: {exc}")
                raise self.failure from exc
            self._unsynced = False
        self._release()

    def _release(self) -> None:
        while self._waiting:  # a callback may queue another: run those too, in order
            waiting, self._waiting = self._waiting, []
            for callback in waiting:
                callback()

    def close(self) -> None:
        if not self.closed:
            try:
                if self.failure is None:
                    self.sync()
            finally:
                self.closed = True
                os.close(self._fd)


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


#: bytes → b"0" for an ASCII digit, b" " otherwise (digit runs found in C).
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_DIGITS = b"0" * 19


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
    # orjson reads a line as json.loads does, except integers of 19 digits and more
    # (beyond 64 bits it gives floats): a journal with such a digit run anywhere is
    # read by json alone.  What orjson refuses (NaN, a lone surrogate, an overflowing
    # float, a torn line) goes to json too, which reads it or says why not.
    fast = _LONG_DIGITS not in raw.translate(_DIGITS)
    offset = 0
    for index, line in enumerate(lines):
        here, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        if fast:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                pass
            else:
                if type(entry) is dict:
                    entries.append(entry)
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
