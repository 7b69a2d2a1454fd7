"""Start, resume, answer, signal and cancel runs: the engine's public entry points.

These tie the scheduler to the run store: each session claims the run folder,
replays the journal into a :class:`RunState`, schedules until the run ends or
pauses, and leaves a materialised ``.osoplog`` behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hashlib
import itertools
import json
import os
import platform
import random
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from osop import __version__
from osop.engine.clock import iso
from osop.engine.core import Core, CoreSettings
from osop.engine.entries import Finished, Paused, Recovered, Resumed, Run
from osop.engine.inputs import check_inputs
from osop.engine.journal import Journal, read_journal, recover_tail
from osop.engine.options import RunOptions, RunResult
from osop.engine.protocol import Abort, AnswerArrived, ChildStarted, SignalDelivered
from osop.engine.recording import RecordText, build_record, node_outputs, run_status
from osop.engine.scheduler import Engine, NullJournal
from osop.engine.state import RunState
from osop.engine.store import Owner, RunHandle, RunStore
from osop.engine.values import Redactor
from osop.errors import ExecutionError, OsopError, RunRefusedError, RunStoreError
from osop.executors.base import NodeFailure
from osop.format.limits import MAX_CHILD_DEPTH
from osop.format.workflow import Node, Workflow, derived_id, workflow_from_dict
from osop.procinfo import signal_process
from osop.record.model import RunRecord
from osop.record.writer import atomic_write_text, write_record
from osop.security.fingerprints import fingerprint_secrets, mask_fingerprinted

__all__ = [
    "cancel_run",
    "deliver_answer",
    "deliver_event",
    "deliver_in_session",
    "describe_run",
    "load_run_state",
    "materialise_record",
    "refuse_blocked_commands",
    "resume_run",
    "run_meta",
    "run_workflow",
    "start_run",
    "workflow_hash",
]


def workflow_hash(source: bytes) -> str:
    """``sha256:`` + hex digest of the ``.osop`` bytes that ran."""
    return "sha256:" + hashlib.sha256(source).hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def load_run_state(handle: RunHandle) -> RunState:
    """Replay a run's journal (plus nothing else: the journal is the truth)."""
    if handle.imported:
        raise RunStoreError(
            f"run {handle.run_id} is an imported record (osop import): it has no journal "
            "and cannot be resumed, answered or cancelled"
        )
    state = RunState()
    for entry in read_journal(handle.journal_path):
        state.apply(entry)
    if not state.meta:
        raise RunStoreError(f"run {handle.run_id}: the journal has no start entry")
    return state


def describe_run(handle: RunHandle) -> dict[str, Any]:
    """Id, workflow, mode, status and times of a run, from its record file (cheap)."""
    try:
        meta = handle.read_meta()
    except RunStoreError as exc:
        # One damaged folder must not hide every other run from `osop runs`.
        return {
            "run_id": handle.run_id,
            "workflow_id": None,
            "mode": None,
            "started_at": None,
            "status": "UNREADABLE",
            "ended_at": None,
            "error": str(exc),
        }
    info: dict[str, Any] = {
        "run_id": handle.run_id,
        "workflow_id": meta.get("workflow_id"),
        "mode": meta.get("mode"),
        "started_at": meta.get("created_at"),
        "status": "UNKNOWN",
    }
    try:
        record = json.loads(handle.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    status = str(record.get("status") or "UNKNOWN")
    if status == "RUNNING":
        if handle.owner_pid() is not None:
            status = "RUNNING"
        elif record.get("x-waiting"):
            status = "PAUSED"
        else:
            status = "INTERRUPTED"  # the process died: `osop resume` continues it
    info["status"] = status
    info["ended_at"] = record.get("ended_at")
    if meta.get("parent_run_id"):
        info["parent_run_id"] = meta["parent_run_id"]
    return info


def materialise_record(handle: RunHandle, state: RunState | None = None) -> RunRecord:
    """Rebuild and rewrite ``record.osoplog.json`` (and ``outputs.json``) from the journal.

    An imported run (``osop import``) has no journal: its record file is the truth.
    """
    if state is None and handle.imported:
        return read_imported_record(handle)
    state = state or load_run_state(handle)
    record = build_record(state)
    _write_files(handle, state, record)
    return record


def read_imported_record(handle: RunHandle) -> RunRecord:
    """The record of an imported run, as written by ``osop import --store``."""
    from osop.record.model import record_from_dict

    try:
        data = json.loads(handle.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunStoreError(f"run {handle.run_id}: unreadable record: {exc}") from exc
    if not isinstance(data, dict):
        raise RunStoreError(f"run {handle.run_id}: the record is not an object")
    return record_from_dict(data)


def _write_files(
    handle: RunHandle,
    state: RunState,
    record: RunRecord | None = None,
    *,
    writer: RecordText | None = None,
) -> None:
    if record is None and writer is not None:
        # while the run goes on: only the attempts that changed are encoded again
        _write_texts(handle, writer.parts(state), writer.outputs_parts(state))
        return
    write_record(record or build_record(state), handle.record_path, compact=True)
    text = json.dumps(node_outputs(state), ensure_ascii=False, default=str)
    atomic_write_text(handle.outputs_path, text + "\n")


def _write_texts(
    handle: RunHandle, record_text: Iterable[str], outputs_text: Iterable[str]
) -> None:
    atomic_write_text(handle.record_path, record_text)
    # In parts: the joined text and its copies on the way were ~33 B/node at a run's end.
    atomic_write_text(handle.outputs_path, itertools.chain(outputs_text, ("\n",)))


def _write_quietly(handle: RunHandle, texts: tuple[Iterable[str], Iterable[str]]) -> None:
    """A rewrite while the run goes on; a disk that refuses it refuses the final
    write too, and that one says so."""
    with contextlib.suppress(OsopError):
        _write_texts(handle, *texts)


#: A rewrite of the record while the run goes on takes at most about 1/this of the
#: loop's time: the next one waits this many times as long as encoding the last took.
_RECORD_WRITE_SHARE = 20


_writers: ThreadPoolExecutor | None = None


def _forget_writers() -> None:
    # A forked child has none of its parent's threads: a pool inherited from the
    # parent would take jobs and never run them.
    global _writers
    _writers = None


os.register_at_fork(after_in_child=_forget_writers)


def _in_thread(func: Callable[..., None], *args: Any) -> Future[None]:
    """Start ``func`` (file writes and their fsyncs) in a thread, so that the other
    runs and branches of this process go on meanwhile."""
    global _writers
    if _writers is None:
        _writers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="osop-record")
    return _writers.submit(_call_and_forget, [func, args])


def _call_and_forget(job: list[Any]) -> None:
    """Call the job, letting go of it first: the pool's work item outlives the call
    (until the worker takes the next one), and a session's bound method there kept
    a finished run's whole state alive after its result was set."""
    func, args = job
    job.clear()
    func(*args)


async def _off_the_loop(func: Callable[..., None], *args: Any) -> None:
    """Run ``func`` in a thread and wait for it.  Cancelled meanwhile, it still waits
    for the write to end: a session leaves its files written before it lets go of
    the run's lock, as it always did."""
    job = _in_thread(func, *args)
    try:
        await asyncio.shield(asyncio.wrap_future(job))
    except asyncio.CancelledError:
        futures_wait([job])
        job.result()
        raise


class _Session:
    """One process's turn at a run: claim it, schedule, leave a record."""

    def __init__(
        self,
        workflow: Workflow,
        state: RunState,
        options: RunOptions,
        handle: RunHandle | None,
        *,
        workflow_path: Path | None,
        store: RunStore | None,
        run_id: str,
    ) -> None:
        self.workflow = workflow
        self.state = state
        self.opt = options
        self.handle = handle
        self.workflow_path = workflow_path
        self.store = store
        durable = options.durable if options.durable is not None else options.mode == "live"
        self.journal: Journal | NullJournal = NullJournal()
        if handle is not None:
            # Nothing writes a run's files without its lock (the caller took it).
            if not handle.holds_lock():
                raise RunStoreError(f"run {handle.run_id}: its lock is not held")
            self.journal = Journal(handle.journal_path, durable=durable)
            self.journal.set_seq(state.seq)
        self.redactor = Redactor(options.secrets.all_values())
        engine_options = options
        if options.guided or state.meta.get("guided"):
            # The caller carries out the steps: a guided run is a host of the same engine.
            from osop.engine.guided import caller_executors

            engine_options = replace(options, executors=caller_executors(options.executors))
        self.engine = Engine(
            workflow,
            state,
            self.journal,
            engine_options,
            run_id=run_id,
            redactor=self.redactor,
            child_runner=self._run_child,
            on_checkpoint=self._maybe_write_record,
            poll_inbox=self._ingest_inbox if handle is not None else None,
        )
        self.record_writer = RecordText()
        self._next_write = options.clock.monotonic() + options.record_interval
        #: The record being written in a thread while the run goes on (one at a time).
        self._write_job: Future[None] | None = None
        self._start_mono = options.clock.monotonic()

    def _maybe_write_record(self) -> None:
        """Rewrite the record while the run goes on: encoded here (the state is the
        loop's), written and fsync'd in a thread, so the run goes on meanwhile."""
        if self.handle is None or self.opt.clock.monotonic() < self._next_write:
            return  # the time first: asking a write job if it is done takes a lock
        if self._write_job is not None and not self._write_job.done():
            return
        began = time.perf_counter()
        self.journal.sync()  # the record never runs ahead of the journal
        texts = (self.record_writer.parts(self.state), self.record_writer.outputs_parts(self.state))
        cost = time.perf_counter() - began
        self._write_job = _in_thread(_write_quietly, self.handle, texts)
        # At least _RECORD_WRITE_SHARE times what encoding it cost: a long run's
        # record (it grows with the run) is rewritten ever less often, so the run
        # stays linear; timed from now, when the write has just begun.
        self._next_write = self.opt.clock.monotonic() + max(
            self.opt.record_interval, _RECORD_WRITE_SHARE * cost
        )

    def _sync_and_write(
        self, handle: RunHandle, texts: tuple[Iterable[str], Iterable[str]]
    ) -> None:
        self.journal.sync()
        _write_texts(handle, *texts)

    def _close_and_write(
        self, handle: RunHandle, texts: tuple[Iterable[str], Iterable[str]]
    ) -> None:
        if self._write_job is not None:
            futures_wait([self._write_job])  # an older text must not land after this one
        self.journal.close()
        _write_texts(handle, *texts)

    async def run(self) -> RunResult:
        """Schedule until the run ends or pauses (the caller holds and releases the lock)."""
        try:
            self._ingest_inbox()
            if self.handle is not None:
                texts: tuple[Iterable[str], Iterable[str]] = (
                    self.record_writer.parts(self.state),
                    self.record_writer.outputs_parts(self.state),
                )
                await _off_the_loop(self._sync_and_write, self.handle, texts)
            try:
                outcome = await self.engine.run()
            except asyncio.CancelledError:  # cancelled while concluding: still leave a record
                outcome = "CANCELLED"
            active = self.state.active_ms + (self.opt.clock.monotonic() - self._start_mono) * 1000
            if outcome == "PAUSED":
                self.engine.note(
                    Paused(
                        at=self.engine.now(), waiting=self._waiting(), active_ms=round(active, 3)
                    )
                )
            else:
                self.engine.note(
                    Finished(status=outcome, at=self.engine.now(), active_ms=round(active, 3))
                )
            if self.handle is not None:
                texts = (
                    RecordText.final_parts_of(self.state),
                    self.record_writer.outputs_parts(self.state),
                )
                await _off_the_loop(self._close_and_write, self.handle, texts)
            else:
                self.journal.close()
            # The state no longer changes: the record and the outputs are built from it
            # if asked for.
            return RunResult.built_later(
                partial(build_record, self.state),
                run_id=str(self.state.meta.get("run_id", "")),
                status=run_status(self.state),
                paused=outcome == "PAUSED",
                waiting=self._waiting() if outcome == "PAUSED" else [],
                handle=self.handle,
                outputs=partial(_outputs_of, self.state),
            )
        finally:
            if self._write_job is not None:
                futures_wait([self._write_job])  # nothing is written after the lock goes
            self.journal.close()
            self.engine.let_go()

    def _waiting(self) -> list[dict[str, Any]]:
        return self.state.waiting(str(self.state.meta.get("run_id", "")))

    def _ingest_inbox(self) -> bool:
        """Journal what was delivered from outside since last time; True if anything was."""
        if self.handle is None:
            return False
        found = False
        for item in self.handle.read_inbox():
            if item["id"] in self.state.inbox_seen:
                continue
            found = True
            kind = item.get("kind")
            if kind == "answer":
                self.engine.decide(
                    AnswerArrived(
                        node=str(item.get("node")),
                        answer=self.redactor(item.get("answer") or {}),
                        inbox=item["id"],
                        at=self.engine.now(),
                    )
                )
            elif kind == "event":
                self.engine.decide(
                    SignalDelivered(
                        id=item["id"],
                        name=item.get("name"),
                        data=self.redactor(item.get("data")),
                        inbox=item["id"],
                        at=self.engine.now(),
                    )
                )
        return found

    async def _run_child(
        self, node: Node, inputs: dict[str, Any], resume_id: str | None = None
    ) -> tuple[str, dict[str, Any], str, str | None, list[dict[str, Any]]]:
        """A sub-workflow (``workflow_ref``) or a spawned node, as an isolated child run.

        ``resume_id``: the child run this node already started and that paused;
        it is resumed (it takes its own answers and events) instead of started again.
        """
        if self.opt.child_depth >= MAX_CHILD_DEPTH:
            # An import cycle the validator could not see (or an unvalidated run):
            # stop before child runs exhaust processes and file handles.
            raise NodeFailure(
                "CHILD_TOO_DEEP",
                f"sub-workflows nest deeper than {MAX_CHILD_DEPTH} levels "
                "(does the workflow import itself?)",
                retryable=False,
            )
        child_path: Path | None
        if node.workflow_ref:
            child_wf, child_path, source = _resolve_ref(
                self.workflow, self.workflow_path, node.workflow_ref
            )
        else:
            raw = {k: v for k, v in node.raw.items()}
            child_wf = workflow_from_dict(
                {
                    "osop_version": self.workflow.osop_version,
                    "id": f"{self.workflow.id}-{node.id}".lower().replace("_", "-"),
                    "name": f"{node.label} (spawned)",
                    "nodes": [raw],
                    "edges": [],
                }
            )
            child_path, source = self.workflow_path, repr(raw).encode()
        child_options = replace(
            self.opt,
            inputs=dict(inputs),
            answers={},
            events=[],
            trigger={"type": "api", "source": "parent-run", "actor": "osop"},
            child_depth=self.opt.child_depth + 1,
            guided=False,  # a sub-workflow runs as a child run, executed
        )
        result: RunResult | None = None
        if resume_id is not None and self.store is not None:
            result = await _resume_or_reread(resume_id, self.store, child_options)
        if result is None:
            child_id = str(uuid.uuid4())
            # Journaled (durably) before the child exists, so a crash can find it again.
            self.engine.decide(ChildStarted(node=node.id, run_id=child_id))
            result = await start_run(
                child_wf,
                source=source,
                workflow_path=child_path,
                store=self.store,
                options=child_options,
                run_id=child_id,
                parent=(str(self.state.meta.get("run_id")), node.id),
            )
        outputs, error = child_outcome(child_wf, result.record, result.outputs)
        status = "PAUSED" if result.paused else result.status
        waiting = [{**w, "run_id": w.get("run_id") or result.run_id} for w in result.waiting]
        return status, outputs, result.run_id, error, waiting


async def _resume_or_reread(run_id: str, store: RunStore, options: RunOptions) -> RunResult | None:
    """Resume a paused or interrupted child run, or read its result if it already
    ended (a crash can fall between the child's end and the parent's record of it).
    None when the crash came before the child run was even created."""
    try:
        handle = store.get(run_id)
        state = load_run_state(handle)
    except RunStoreError:
        return None
    if state.finished is None:
        return await resume_run(run_id, store=store, options=options)
    record = build_record(state)
    return RunResult(
        run_id=run_id,
        status=record.status,
        record=record,
        handle=handle,
        outputs=_outputs_of(state),
    )


def _outputs_of(state: RunState) -> dict[str, Any]:
    """Each node's outputs, for a result (nodes without any left out)."""
    return {nid: st.outputs for nid, st in state.nodes.items() if st.outputs}


def child_outcome(
    workflow: Workflow, record: RunRecord, outputs: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], str | None]:
    """What the parent node of a child run gets: every completed node's outputs, then
    the outputs the child workflow declares; and why the child did not complete."""
    merged: dict[str, Any] = {}
    for node_record in record.node_records:
        if node_record.status == "COMPLETED" and isinstance(node_record.outputs, Mapping):
            merged.update(node_record.outputs)
    merged.update(_declared_workflow_outputs(workflow, outputs))
    error = None
    if record.status != "COMPLETED":
        failure = record.extra.get("x-failure") or {}
        error = str((failure.get("error") or {}).get("message") or "") or None
    return merged, error


def _declared_workflow_outputs(
    workflow: Workflow, outputs: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """``outputs: {name: "${outputs.node.key}"}`` declared by a sub-workflow."""
    from osop.expr.scope import NodeOutputs, make_scope

    declared = workflow.outputs
    if not isinstance(declared, Mapping):
        return {}
    scope = make_scope(outputs=NodeOutputs.of(outputs))
    out: dict[str, Any] = {}
    for key, value in declared.items():
        if isinstance(value, str) and "${" in value:
            try:
                out[str(key)] = scope.interpolate(value)
            except OsopError:
                continue
    return out


def _resolve_ref(
    workflow: Workflow, workflow_path: Path | None, ref: str
) -> tuple[Workflow, Path, bytes]:
    from osop.format.api import load_workflow

    base = workflow_path.parent if workflow_path is not None else Path.cwd()
    candidates: list[tuple[list[str], Path]] = []
    for item in workflow.imports:
        if isinstance(item, str):
            path, aliases = item, []
        elif isinstance(item, Mapping):
            path = str(item.get("path") or item.get("file") or item.get("source") or "")
            aliases = [str(item[k]) for k in ("id", "as", "name", "alias", "ref") if item.get(k)]
        else:
            continue
        if not path:
            continue
        full = (base / path).resolve()
        stem = full.name.split(".")[0]
        candidates.append(([*aliases, path, stem, stem.replace("_", "-")], full))
    for names, full in candidates:
        if ref in names:
            return _load_child(full, load_workflow)
    for _, full in candidates:  # match on the id inside the file
        child, child_path, source = _load_child(full, load_workflow)
        if child.id == ref:
            return child, child_path, source
    raise ExecutionError(
        f"workflow_ref {ref!r} matches none of the imports "
        f"({', '.join(str(c[1]) for c in candidates) or 'no imports declared'})"
    )


def _load_child(path: Path, loader: Any) -> tuple[Workflow, Path, bytes]:
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise ExecutionError(f"cannot read imported workflow {path}: {exc}") from exc
    child: Workflow = loader(path)
    return child, path, source


def with_workflow_id(workflow: Workflow) -> Workflow:
    """``workflow``, with the id derived from its name when the file has none.

    Files from early editors have no ``id``; the validator accepts them (with a
    warning saying the id is derived from the name) and a record needs one.
    """
    if workflow.id:
        return workflow
    return replace(workflow, id=derived_id(workflow.name or ""))


def refuse_blocked_commands(workflow: Workflow, mode: str) -> None:
    """A live run never starts when a node's command is blocked whatever happens:
    refusing it only when that node is reached would come after the earlier steps'
    side effects.  Dry and simulated runs execute no command, so they may go on."""
    if mode != "live":
        return
    from osop.security.preflight import blocked_commands

    found = [str(b) for b in blocked_commands(workflow)]
    if found:
        raise RunRefusedError(
            f"workflow {workflow.id!r} runs a blocked command; nothing was run "
            "(a dry run or a simulated run may still rehearse it)",
            found,
        )


def _runtime(options: RunOptions, seed: int) -> dict[str, Any]:
    runtime: dict[str, Any] = {
        "agent": "osop",
        "agent_version": __version__,
        "platform": f"{platform.system().lower()}-{platform.release()}",
        "python": platform.python_version(),
        "pid": os.getpid(),
        "seed": seed,
    }
    if options.guided:
        # The agent that carried the steps out is the run's agent; osop decided.
        runtime.update({"agent": "caller", "agent_version": None, "engine": "osop"})
        runtime["engine_version"] = __version__
        runtime.update({k: v for k, v in (options.agent or {}).items() if v is not None})
        runtime = {k: v for k, v in runtime.items() if v is not None}
    return runtime


async def start_run(
    workflow: Workflow,
    *,
    source: bytes | None = None,
    workflow_path: Path | None = None,
    store: RunStore | None = None,
    options: RunOptions | None = None,
    run_id: str | None = None,
    parent: tuple[str, str] | None = None,
) -> RunResult:
    """Run ``workflow`` from the start; with a ``store`` it is durable and resumable."""
    from osop.engine.answers import check_preset_answers

    workflow = with_workflow_id(workflow)
    options = options or RunOptions()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    # Everything that would refuse the run is checked before the run folder exists.
    inputs = check_inputs(workflow, options.inputs, rehearsal=options.mode != "live")
    refuse_blocked_commands(workflow, options.mode)
    check_preset_answers(workflow, options.answers)
    options = replace(options, seed=seed, inputs=inputs)
    handle = store.create(run_id) if store is not None else None
    if handle is not None:
        # before anything is written into the folder; its owner file is fsync'd, in a
        # thread: many runs starting in one process do not wait for each other's disk
        try:
            await _off_the_loop(handle.acquire)
        except asyncio.CancelledError:
            handle.release()
            raise
    try:
        return await _start(workflow, options, handle, source, workflow_path, store, parent, run_id)
    finally:
        if handle is not None:
            handle.release()


def run_meta(
    workflow: Workflow,
    options: RunOptions,
    run_id: str,
    source: bytes | None,
    *,
    started: datetime,
    parent: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """What a run's ``run`` journal entry holds (every host starts a run with it)."""
    seed = int(options.seed or 0)
    redactor = Redactor(options.secrets.all_values())
    trigger = options.trigger or {"type": "manual", "actor": _user(), "timestamp": iso(started)}
    trigger.setdefault("timestamp", iso(started))
    meta: dict[str, Any] = {
        "run_id": run_id,
        "workflow_id": workflow.id,
        "workflow_version": workflow.version,
        "workflow_hash": workflow_hash(source) if source is not None else None,
        "mode": options.mode,
        "trigger": trigger,
        "started_at": iso(started),
        "runtime": _runtime(options, seed),
        "inputs": redactor(_plain(options.inputs)),
        "variables": redactor(_plain(workflow.variables)),
        "seed": seed,
        # Where the run begins, so that the record written before any node has
        # started still lists real nodes (PENDING) and validates.
        "entry": _entry_nodes(workflow),
    }
    if parent is not None:
        meta["parent_run_id"], meta["parent_node"] = parent
    return meta


async def _start(
    workflow: Workflow,
    options: RunOptions,
    handle: RunHandle | None,
    source: bytes | None,
    workflow_path: Path | None,
    store: RunStore | None,
    parent: tuple[str, str] | None,
    run_id: str | None,
) -> RunResult:
    seed = int(options.seed or 0)
    rid = handle.run_id if handle is not None else (run_id or str(uuid.uuid4()))
    redactor = Redactor(options.secrets.all_values())
    started = options.clock.now()
    meta = run_meta(workflow, options, rid, source, started=started, parent=parent)
    if options.guided:
        meta["guided"] = True
    if handle is not None:
        # Resume reads the workflow from the run folder: the exact bytes when given,
        # else the parsed document (a workflow built in Python can be resumed too).
        # (no local holds the copy: a long run does not keep it in memory)
        await _off_the_loop(
            _write_run_folder,
            handle,
            source if source is not None else _document_bytes(workflow),
            {
                "run_id": rid,
                "workflow_id": workflow.id,
                "workflow_file": str(workflow_path.resolve()) if workflow_path else None,
                "mode": options.mode,
                "seed": seed,
                "workdir": str(options.workdir),
                "parent_run_id": parent[0] if parent else None,
                "created_at": iso(started),
                # Lets `osop approve`/`osop signal` mask this run's secrets in what
                # they deliver, without the values ever being written.
                "secret_fingerprints": fingerprint_secrets(_known_secrets(workflow, options)),
            },
        )
    state = RunState()
    session = _Session(
        workflow, state, options, handle, workflow_path=workflow_path, store=store, run_id=rid
    )
    # Inputs are kept unredacted in memory (nodes need them); the journal gets the redacted copy.
    session.engine.note(Run(meta=meta, plain_inputs=_plain(options.inputs)))
    for node_id, answer in options.answers.items():
        session.engine.decide(
            AnswerArrived(node=node_id, answer=redactor(dict(answer)), plain=dict(answer))
        )
    for event in options.events:
        session.engine.decide(
            SignalDelivered(
                id=str(uuid.uuid4()), name=event.get("name"), data=redactor(event.get("data"))
            )
        )
    return await session.run()


def _write_run_folder(handle: RunHandle, copy: bytes, meta: dict[str, Any]) -> None:
    handle.workflow_path.write_bytes(copy)
    handle.write_meta(meta)


def _entry_nodes(workflow: Workflow) -> list[list[str]]:
    """``[id, type]`` of the nodes no edge leads to (where a run begins)."""
    targets = {edge.target for edge in workflow.edges}
    return [[n.id, n.type] for n in workflow.nodes if n.id not in targets]


def _document_bytes(workflow: Workflow) -> bytes:
    """The workflow document as JSON (a YAML document too), for the run folder."""
    data = dict(workflow.raw)
    data.setdefault("id", workflow.id)
    # compact: with ``indent`` json falls back to its pure-Python encoder (10x slower)
    return (json.dumps(data, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def resume_run(
    run_id: str, *, store: RunStore | None = None, options: RunOptions | None = None
) -> RunResult:
    """Continue a paused or crashed run from its exact frontier (default store: ``RunStore()``)."""
    store = store if store is not None else RunStore()
    handle = store.get(run_id)
    # The lock comes first: a refused resume writes nothing, and the state read
    # below cannot change under us.
    handle.acquire()
    try:
        return await _resume(handle, store, options)
    finally:
        handle.release()


def run_workflow(handle: RunHandle) -> Workflow:
    """The workflow a run executes (the copy in its folder)."""
    from osop.format.loader import load_document

    try:
        source = handle.workflow_path.read_bytes()
    except OSError as exc:
        raise RunStoreError(f"run {handle.run_id}: the workflow copy is missing") from exc
    return with_workflow_id(workflow_from_dict(load_document(source, "workflow.osop").data))


#: Checks a delivery against the run (under its lock) and returns the entries to journal.
Delivery = Callable[[Workflow, RunState], list[dict[str, Any]]]


async def deliver_in_session(
    run_id: str, deliver: Delivery, *, store: RunStore, options: RunOptions | None = None
) -> RunResult:
    """Resume a run with entries ``deliver`` makes from its current state (a guided
    run's report): checked and journaled under the run's lock, so a refused
    delivery changes nothing and two deliveries never race."""
    handle = store.get(run_id)
    handle.acquire()
    try:
        return await _resume(handle, store, options, deliver)
    finally:
        handle.release()


async def _resume(
    handle: RunHandle,
    store: RunStore,
    options: RunOptions | None,
    deliver: Delivery | None = None,
) -> RunResult:
    recovered = recover_tail(handle.journal_path)
    state = load_run_state(handle)
    if state.finished is not None:
        raise ExecutionError(f"run {handle.run_id} already ended {state.status}")
    meta = handle.read_meta()
    workflow = run_workflow(handle)
    # Checked before anything is journaled: a refused delivery changes nothing.
    deliveries = deliver(workflow, state) if deliver is not None else []
    base = options or RunOptions()
    workflow_file = meta.get("workflow_file")
    options = replace(
        base,
        mode=state.meta.get("mode", base.mode),
        seed=int(state.meta.get("seed", 0)),
        workdir=Path(meta.get("workdir") or base.workdir),
    )
    session = _Session(
        workflow,
        state,
        options,
        handle,
        workflow_path=Path(workflow_file) if workflow_file else None,
        store=store,
        run_id=handle.run_id,
    )
    if recovered is not None:
        session.engine.note(_recovered_entry(recovered, session.engine.now()))
    session.engine.note(Resumed(at=session.engine.now(), pid=os.getpid()))
    for data in deliveries:
        session.engine.deliver(session.redactor(data))
    result = await session.run()
    if recovered is not None:
        result.notes.append(recovered.describe())
    return result


def deliver_answer(
    store: RunStore,
    run_id: str,
    node_id: str,
    answer: Mapping[str, Any],
    *,
    replace: bool = False,
) -> str:
    """Record a person's answer (or an approval) for ``node_id``; ``osop resume`` uses it.

    Refused, saying why, when the node does not wait for a person, the decision is
    not one the node allows, or a different answer was already given (unless
    ``replace``): see :func:`osop.engine.answers.check_answer`.
    """
    from osop.engine.answers import check_answer, stamp_answer

    handle = store.get(run_id)
    state = load_run_state(handle)
    if state.finished is not None:
        raise ExecutionError(f"run {handle.run_id} already ended {state.status}")
    nodes = _workflow_nodes(handle)
    if node_id not in nodes:
        # A node of a sub-workflow the run waits on: the answer goes to that child run.
        for wait in state.waits.values():
            if wait.get("kind") != "child":
                continue  # only a child run's wait lists what it waits for
            for detail in wait.get("details") or ():
                if detail.get("node") == node_id and detail.get("run_id"):
                    return deliver_answer(
                        store, str(detail["run_id"]), node_id, answer, replace=replace
                    )
        raise ExecutionError(f"run {handle.run_id} has no node {node_id!r}")
    # The engine masks secret-named fields when it takes a delivery in; the inbox
    # is a file too, so it never holds them either.
    masked = _mask_delivery(handle, stamp_answer(answer))
    check_answer(handle, state, nodes[node_id], masked, replace=replace)
    return handle.post("answer", node=node_id, answer=masked)


def _known_secrets(workflow: Workflow, options: RunOptions) -> set[str]:
    """Every secret value the run may use: the store's, and each ``${secrets.X}`` it names."""
    values = set(options.secrets.all_values())
    for name in set(_SECRET_REFERENCE.findall(_searchable_text(workflow.raw))):
        if name in options.secrets:
            with contextlib.suppress(OsopError):
                values.add(options.secrets.get(name))
    return values


_SECRET_REFERENCE = re.compile(r"\$\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)")


def _searchable_text(document: Any) -> str:
    """The document as JSON text to search for references (an ASCII pattern finds the
    same names in orjson's text as in ``json.dumps``'s, several times sooner)."""
    try:
        return orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # nested past orjson's depth, huge ints ...
        return json.dumps(document, default=str)


def _mask_delivery(handle: RunHandle, value: Any) -> Any:
    """Key-named secrets and this run's secret values masked (what the inbox may hold)."""
    try:
        fingerprints = handle.read_meta().get("secret_fingerprints")
    except (OSError, ValueError, OsopError):
        fingerprints = None
    return mask_fingerprinted(Redactor()(value), fingerprints)


def deliver_event(store: RunStore, run_id: str, name: str, data: Any = None) -> str:
    """Deliver an event or signal named ``name`` (buffered until something waits for it)."""
    handle = store.get(run_id)
    state = load_run_state(handle)
    if state.finished is not None:
        raise ExecutionError(f"run {handle.run_id} already ended {state.status}")
    for wait in state.waits.values():  # a sub-workflow the run waits on expects it
        if wait.get("kind") != "child":
            continue
        for detail in wait.get("details") or ():
            if detail.get("name") == name and detail.get("kind") in ("event", "signal"):
                return deliver_event(store, str(detail["run_id"]), name, data)
    return handle.post("event", name=name, data=_mask_delivery(handle, data))


def _workflow_nodes(handle: RunHandle) -> dict[str, Node]:
    """Node id → node of the workflow the run executes (empty if unreadable)."""
    from osop.format.loader import load_document

    try:
        data = load_document(handle.workflow_path.read_bytes(), "workflow.osop").data
    except (OSError, OsopError):
        return {}
    return {n.id: n for n in workflow_from_dict(data).nodes}


def cancel_run(store: RunStore, run_id: str) -> str:
    """Cancel a run: interrupt the process running it, or close a paused/crashed run.

    Returns ``signalled`` (the process running it was asked to stop; it writes the
    record) or ``cancelled`` (the run was closed here, under its lock).  A process
    is signalled only when it provably holds the run (pid and start time match the
    lock's owner file): never a process that merely inherited a recorded pid.
    """
    handle = store.get(run_id)
    try:
        handle.acquire(brief=True)
    except RunStoreError:
        owner = handle.owner()
        if owner is None:  # it just ended: try once more to close it here
            handle.acquire(brief=True)
        else:
            return _signal_owner(handle, owner)
    try:
        return _close_cancelled(handle)
    finally:
        handle.release()


def _signal_owner(handle: RunHandle, owner: Owner) -> str:
    if owner.pid is None or not owner.verified or owner.pid == os.getpid():
        raise ExecutionError(
            f"run {handle.run_id} is held by {owner.describe()}, which cannot be proven "
            "to be the run's own process: nothing was signalled (try again in a moment)"
        )
    try:
        signal_process(owner.pid, owner.started, signal.SIGINT)
    except OSError as exc:
        raise ExecutionError(f"cannot signal process {owner.pid}: {exc}") from exc
    return "signalled"


def _recovered_entry(recovered: Any, now: str) -> Recovered:
    return Recovered(
        at=now,
        offset=recovered.offset,
        dropped_bytes=recovered.dropped_bytes,
        message=recovered.describe(),
    )


def _close_cancelled(handle: RunHandle) -> str:
    """Close a run nobody runs as CANCELLED (the caller holds its lock).

    The conclusion is the engine core's (what an aborted session concludes): the
    attempts a crash left RUNNING end CANCELLED (their processes stopped first),
    running and waiting nodes end CANCELLED, the rest is skipped.
    """
    recovered = recover_tail(handle.journal_path)
    state = load_run_state(handle)
    if state.finished is not None:
        raise ExecutionError(f"run {handle.run_id} already ended {state.status}")
    workflow = _run_workflow(handle, state)
    journal = Journal(handle.journal_path, durable=True)
    journal.set_seq(state.seq)
    from osop.engine.clock import SystemClock

    now = iso(SystemClock().now())
    core = Core(
        workflow,
        state,
        CoreSettings(run_id=handle.run_id, mode=str(state.meta.get("mode") or "live")),
    )
    try:
        if recovered is not None:
            journal.append(core.note(_recovered_entry(recovered, now)).to_dict())
        stopped: dict[str, list[dict[str, Any]]] = {}
        for nid, attempt, iteration in core.crashed_attempts():
            # What a crashed attempt left running is stopped with the run.
            procs = state.attempt_processes(nid, attempt, iteration)
            if procs:
                from osop.executors.process import stop_attempt_processes

                stopped[nid] = stop_attempt_processes(procs)
        decision = core.decide(Abort(status="CANCELLED", at=now, processes=stopped))
        for entry in decision.entries:
            if entry.JOURNALED:
                journal.append(entry.to_dict())
        closing = Finished(status="CANCELLED", at=now, by=_user())
        journal.append(core.note(closing).to_dict())
    finally:
        journal.close()
    _write_files(handle, state)
    return "cancelled"


def _run_workflow(handle: RunHandle, state: RunState) -> Workflow:
    """The workflow a run executes; unreadable, the nodes its journal names (no edges)."""
    try:
        return run_workflow(handle)
    except OsopError:
        pass
    types: dict[str, str] = {}
    for record in state.records:
        types.setdefault(str(record["node_id"]), str(record.get("node_type") or "system"))
    for entry in state.meta.get("entry") or ():
        types.setdefault(str(entry[0]), str(entry[1]))
    nodes = [{"id": nid, "type": node_type} for nid, node_type in types.items()]
    return workflow_from_dict(
        {"id": str(state.meta.get("workflow_id") or "run"), "name": "run", "nodes": nodes}
    )
