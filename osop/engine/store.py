"""The run store: one folder per run under ``.osop/runs`` (or ``$OSOP_HOME/runs``).

Layout of ``<root>/runs/<run_id>/``::

    meta.json          what started the run (workflow path, mode, inputs, seed ...)
    workflow.osop      the exact bytes that ran (resume never reads a changed file)
    journal.jsonl      append-only transitions, the source of truth
    inbox.jsonl        answers, events and cancel requests delivered from outside
    record.osoplog.json  the materialised record (atomically replaced)
    outputs.json       each node's latest outputs, whole (the record truncates large ones)
    owner              pid and start time of the process running the run (absent when idle)
    owner.lock         locked (flock) by the process running the run, for as long as it runs
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osop.errors import RunStoreError
from osop.procinfo import boot_id, process_start, same_process
from osop.record.writer import atomic_write_text

__all__ = ["Owner", "RunHandle", "RunStore", "default_store_root"]

_ENV_HOME = "OSOP_HOME"


def default_store_root(workdir: Path | None = None) -> Path:
    """``$OSOP_HOME`` when set, else ``.osop`` under the working directory."""
    home = os.environ.get(_ENV_HOME)
    if home:
        return Path(home).expanduser()
    return (workdir or Path.cwd()) / ".osop"


@dataclass(frozen=True)
class Owner:
    """The process holding a run's lock, as its owner file describes it."""

    pid: int | None
    #: Start time of that process (``/proc/PID/stat``), when known.
    started: str | None
    #: True when ``pid`` provably is the process that took the lock (pid and start
    #: time match a live process); only then may anyone signal it.
    verified: bool

    def describe(self) -> str:
        if self.pid is None:
            return "a process that has not identified itself yet"
        return f"process {self.pid}" + ("" if self.verified else " (unverified)")


#: Lock files this process holds, by path: the open descriptor keeps the lock.
_HELD: dict[Path, int] = {}
#: How long a claim waits out probes (``osop runs``/``status`` hold the lock shared
#: for an instant) and an owner that has locked but not yet written its owner file.
_CLAIM_PATIENCE_SEC = 1.0


def _forget_locks_in_child() -> None:
    # A forked child shares the parent's lock descriptors but is not the run's
    # owner: it must neither think it holds the lock nor keep it alive.
    for fd in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks_in_child)


@dataclass(frozen=True)
class RunHandle:
    """The folder of one run."""

    run_id: str
    path: Path

    @property
    def meta_path(self) -> Path:
        return self.path / "meta.json"

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def inbox_path(self) -> Path:
        return self.path / "inbox.jsonl"

    @property
    def record_path(self) -> Path:
        return self.path / "record.osoplog.json"

    @property
    def outputs_path(self) -> Path:
        return self.path / "outputs.json"

    @property
    def workflow_path(self) -> Path:
        return self.path / "workflow.osop"

    @property
    def owner_path(self) -> Path:
        return self.path / "owner"

    def read_meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RunStoreError(f"run {self.run_id} has no meta.json") from exc
        except (OSError, ValueError) as exc:
            raise RunStoreError(f"run {self.run_id}: unreadable meta.json: {exc}") from exc
        if not isinstance(data, dict):
            raise RunStoreError(f"run {self.run_id}: meta.json is not an object")
        return data

    @property
    def imported(self) -> bool:
        """Whether this run is an imported record (an agent session): no journal, no resume."""
        try:
            return bool(self.read_meta().get("imported"))
        except RunStoreError:
            return False

    def write_meta(self, meta: Mapping[str, Any]) -> None:
        atomic_write_text(self.meta_path, json.dumps(dict(meta), indent=2, default=str) + "\n")

    def post(self, kind: str, **payload: Any) -> str:
        """Append a delivery (answer, event, cancel) to the inbox; returns its id."""
        entry = {"id": str(uuid.uuid4()), "kind": kind, **payload}
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        # One write() on an O_APPEND descriptor: concurrent posts never interleave.
        fd = os.open(self.inbox_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return str(entry["id"])

    def read_inbox(self) -> list[dict[str, Any]]:
        try:
            text = self.inbox_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out: list[dict[str, Any]] = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                out.append(entry)
        return out

    @property
    def lock_path(self) -> Path:
        return self.path / "owner.lock"

    def _read_owner_file(self) -> tuple[int | None, str | None, str | None]:
        """(pid, start time, boot id) from the owner file; an old file holds just a pid."""
        try:
            text = self.owner_path.read_text(encoding="utf-8").strip()
        except OSError:
            return None, None, None
        try:
            data = json.loads(text) if text else None
        except ValueError:
            return None, None, None
        if isinstance(data, int) and not isinstance(data, bool):
            return data, None, None
        if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
            return None, None, None
        started, boot = data.get("started"), data.get("boot_id")
        return (
            int(data["pid"]),
            str(started) if started is not None else None,
            str(boot) if boot is not None else None,
        )

    def _owner_is_brief(self) -> bool:
        try:
            data = json.loads(self.owner_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("brief") is True

    def owner(self) -> Owner | None:
        """The process running this run now, or None when nobody holds its lock.

        The lock (``flock`` on ``owner.lock``) is released by the kernel when its
        holder dies, however it dies: a stale owner file, or a pid since reused by
        an unrelated process, never makes a run look busy.
        """
        if self.lock_path in _HELD:
            return Owner(os.getpid(), process_start(os.getpid()), True)
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RunStoreError(f"cannot read the lock of run {self.run_id}: {exc}") from exc
        try:
            try:
                # Shared: probes never conflict with each other, only with an owner.
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, started, boot = self._read_owner_file()
                if pid is None:
                    return Owner(None, None, False)
                verified = same_process(pid, started, boot)
                return Owner(pid, started, verified)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def owner_pid(self) -> int | None:
        """The pid running this run now, or None (idle: nobody holds the lock)."""
        owner = self.owner()
        return owner.pid if owner is not None else None

    def acquire(self, *, brief: bool = False) -> None:
        """Claim the run for this process; refuses when another process runs it.

        The claim is an exclusive ``flock`` on ``owner.lock``, held until
        :meth:`release` or this process's death (the kernel drops it then, so a
        crashed owner never blocks anyone).  The owner file then says who holds
        it (pid, start time, boot id) — for people, and for ``osop cancel``, which
        signals only a process it can prove is the owner.

        ``brief``: the lock is held for an instant (``osop status`` rewriting the
        record, ``osop cancel`` closing a run); a claim that meets a brief holder
        waits for it instead of refusing.
        """
        if self.lock_path in _HELD:
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise RunStoreError(f"cannot claim run {self.run_id}: {exc}") from exc
        deadline = time.monotonic() + _CLAIM_PATIENCE_SEC
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid, started, boot = self._read_owner_file()
                owned = pid is not None and pid != os.getpid() and same_process(pid, started, boot)
                if owned and self._owner_is_brief():
                    owned = False
                    deadline = max(deadline, time.monotonic() + 0.05)
                if owned or time.monotonic() >= deadline:
                    os.close(fd)
                    who = f"process {pid}" if owned else "another process"
                    raise RunStoreError(f"run {self.run_id} is being executed by {who}") from None
                time.sleep(0.005)  # a probe, or an owner that has not written its file yet
            except OSError as exc:
                os.close(fd)
                raise RunStoreError(f"cannot claim run {self.run_id}: {exc}") from exc
        _HELD[self.lock_path] = fd
        pid = os.getpid()
        owner = {"pid": pid, "started": process_start(pid), "boot_id": boot_id(), "brief": brief}
        try:
            atomic_write_text(self.owner_path, json.dumps(owner) + "\n")
        except OSError as exc:
            self.release()
            raise RunStoreError(f"cannot claim run {self.run_id}: {exc}") from exc

    def holds_lock(self) -> bool:
        """Whether this process holds the run's lock (it may write the journal)."""
        return self.lock_path in _HELD

    def release(self) -> None:
        fd = _HELD.pop(self.lock_path, None)
        if fd is None:
            return
        self.owner_path.unlink(missing_ok=True)
        os.close(fd)  # drops the lock


#: What a run id (or a prefix of one) may hold: a folder name, never a path.
_RUN_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is a valid run id or prefix, else :class:`RunStoreError`."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        shown = repr(run_id)[:80]
        raise RunStoreError(
            f"{shown} is not a run id (letters, digits, '-', '_' and '.'; no paths)"
        )
    return run_id


class RunStore:
    """Creates, finds and lists runs."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_store_root()
        self.runs = self.root / "runs"

    def create(self, run_id: str | None = None) -> RunHandle:
        run_id = check_run_id(run_id or str(uuid.uuid4()))
        path = self.runs / run_id
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError as exc:
            raise RunStoreError(f"run {run_id} already exists in {self.runs}") from exc
        except OSError as exc:
            raise RunStoreError(f"cannot create the run folder {path}: {exc}") from exc
        return RunHandle(run_id, path)

    def get(self, run_id: str) -> RunHandle:
        """A run by id, or by a unique prefix of its id (as git does for commits).

        A run id is a name, never a path: anything but letters, digits, ``-``, ``_``
        and ``.`` (not leading) is refused here, the one place ids become folders,
        so ``../..`` or ``/abs/dir`` can never reach files outside the store.
        """
        check_run_id(run_id)
        exact = self.runs / run_id
        if run_id and (exact / "meta.json").exists():
            return RunHandle(run_id, exact)
        matches = [h for h in self.iter_runs() if h.run_id.startswith(run_id)] if run_id else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RunStoreError(f"no run {run_id!r} in {self.runs}")
        raise RunStoreError(f"{run_id!r} is ambiguous: {len(matches)} runs start with it")

    def iter_runs(self) -> Iterator[RunHandle]:
        if not self.runs.is_dir():
            return
        for path in sorted(self.runs.iterdir()):
            if (path / "meta.json").is_file():
                yield RunHandle(path.name, path)
