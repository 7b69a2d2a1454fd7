"""The run journal: append-only JSON lines, the source of truth for a run.

Every transition is appended BEFORE the engine acts on it; in a durable journal
the ones whose loss could repeat a side effect are on disk (fsync'd) first, the
others are re-derivable and ride along with the next fsync.  So a crash at any
instant leaves a journal from which the exact frontier can be rebuilt.  A torn
last line (the crash hit mid-write) is ignored on reading: the transition it
described was never acted upon.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import IO, Any

from osop.errors import RunStoreError

__all__ = ["Journal", "read_journal"]


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


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete entry of a journal, in order (a torn last line is dropped)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RunStoreError(f"no journal at {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RunStoreError(f"cannot read the journal {path}: {exc}") from exc
    entries: list[dict[str, Any]] = []
    lines = raw.split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            if number >= len(lines) - 1:  # torn tail: never acted upon
                break
            raise RunStoreError(f"{path}:{number}: corrupt journal entry") from exc
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
