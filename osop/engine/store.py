"""The run store: one folder per run under ``.osop/runs`` (or ``$OSOP_HOME/runs``).

Layout of ``<root>/runs/<run_id>/``::

    meta.json          what started the run (workflow path, mode, inputs, seed ...)
    workflow.osop      the exact bytes that ran (resume never reads a changed file)
    journal.jsonl      append-only transitions, the source of truth
    inbox.jsonl        answers, events and cancel requests delivered from outside
    record.osoplog.json  the materialised record (atomically replaced)
    outputs.json       each node's latest outputs, whole (the record truncates large ones)
    owner              pid of the process running the run (absent when idle)
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osop.errors import RunStoreError
from osop.record.writer import atomic_write_text

__all__ = ["RunHandle", "RunStore", "default_store_root"]

_ENV_HOME = "OSOP_HOME"


def default_store_root(workdir: Path | None = None) -> Path:
    """``$OSOP_HOME`` when set, else ``.osop`` under the working directory."""
    home = os.environ.get(_ENV_HOME)
    if home:
        return Path(home).expanduser()
    return (workdir or Path.cwd()) / ".osop"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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

    def owner_pid(self) -> int | None:
        """The pid running this run now, or None (a stale owner file is ignored)."""
        try:
            pid = int(self.owner_path.read_text().strip() or 0)
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def acquire(self) -> None:
        """Claim the run for this process; refuses when another live process has it.

        The check and the claim happen under an exclusive lock on ``owner.lock``, and
        the pid is written atomically, so two processes resuming the same run at the
        same instant cannot both win, and nobody ever reads a half-written owner file.
        A file left by a dead process is taken over.
        """
        try:
            with (self.path / "owner.lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    pid = self.owner_pid()
                    if pid == os.getpid():
                        return
                    if pid is not None:
                        raise RunStoreError(f"run {self.run_id} is being executed by process {pid}")
                    atomic_write_text(self.owner_path, str(os.getpid()))
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        except OSError as exc:
            raise RunStoreError(f"cannot claim run {self.run_id}: {exc}") from exc

    def release(self) -> None:
        if self.owner_pid() == os.getpid():
            self.owner_path.unlink(missing_ok=True)


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
