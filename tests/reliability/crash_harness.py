"""Kill -9 and race harness for the run store: forked engines, checked invariants.

Each engine session runs in a forked child (the package is already imported, so
a session costs milliseconds, not an interpreter start) and is killed with
SIGKILL at a chosen instant.  After every kill and every session the parent
checks what a person would rely on:

* the journal reads (a torn last entry is allowed: the next writer cuts it off);
  every sequence number appears once, in order;
* every record on disk validates, and so does the one ``osop status`` rebuilds;
* no node whose COMPLETED end was in the journal ran again afterwards;
* in the end the run is not wedged: it either ended (and its record says so)
  or ``osop resume`` takes it to the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from osop.cli.run_support import run_engine
from osop.engine import RunOptions, RunStore, cancel_run, deliver_answer, resume_run, start_run
from osop.engine.journal import read_journal
from osop.engine.runner import load_run_state, materialise_record
from osop.errors import OsopError
from osop.executors import cli as _cli  # noqa: F401  (imported once, before the forks)
from osop.executors.base import Executor, NodeContext, NodeResult
from osop.executors.registry import get_executor
from osop.format.api import load_workflow
from osop.format.validate import validate_path

#: Trials per test (``OSOP_RELIABILITY_TRIALS``).
TRIALS = int(os.environ.get("OSOP_RELIABILITY_TRIALS", "100"))


def seed() -> int:
    """The trials' seed (``OSOP_RELIABILITY_SEED``, else random), printed to repeat a run."""
    value = int(os.environ.get("OSOP_RELIABILITY_SEED") or random.SystemRandom().randrange(10**6))
    print(f"\nreliability seed: {value} (OSOP_RELIABILITY_SEED={value} to repeat)")
    return value


#: Exit codes of a forked session (besides the run's own 0/1/3).
EXIT_REFUSED = 40  # an OsopError: refused (lock held, already ended ...)
EXIT_CRASH = 41  # anything else: a bug


class TraceExecutor:
    """An in-process step: notes its start and end in a trace file, may return a lot.

    The trace is written with O_APPEND before and after the step's "side effect",
    so the parent can tell which sessions ran which node.
    """

    def __init__(self, node_type: str, trace: Path, big: int, pause: float) -> None:
        self.node_type = node_type
        self.trace = trace
        self.big = big
        self.pause = pause

    def _note(self, text: str) -> None:
        fd = os.open(self.trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{text} {os.getpid()}\n".encode())
        finally:
            os.close(fd)

    async def execute(self, ctx: NodeContext) -> NodeResult:
        self._note(f"start {ctx.node.id} {ctx.attempt}")
        await asyncio.sleep(random.uniform(0, self.pause))
        outputs: dict[str, Any] = {"node": ctx.node.id}
        if ctx.node.id.startswith("big"):
            outputs["blob"] = "x" * self.big  # a large end entry: a long write to tear
        self._note(f"done {ctx.node.id} {ctx.attempt}")
        return NodeResult(outputs=outputs)


def executors(trace: Path, big: int, pause: float) -> Callable[[str, str], Executor]:
    def factory(node_type: str, mode: str) -> Executor:
        if node_type == "api":
            return TraceExecutor(node_type, trace, big, pause)
        return get_executor(node_type, mode)

    return factory


def workflow(*, gated: bool = False, small: bool = False) -> dict[str, Any]:
    """A short live workflow: a fan-out, a large entry, a real child process
    (``small``: two steps, the second behind an approval when ``gated``)."""

    def api(node_id: str, **extra: Any) -> dict[str, Any]:
        return {"id": node_id, "type": "api", "name": node_id, **extra}

    nodes = [
        api("first"),
        api("left"),
        api("right"),
        api("big"),
        {
            "id": "shell",
            "type": "cli",
            "name": "shell",
            "runtime": {"command": "echo $$ >> shell.pids; sleep 0.05; echo ok"},
        },
        api("last", **({"approval_gate": {"required": True}} if gated else {})),
    ]
    if small:
        nodes = [nodes[0], nodes[-1]]
        edges = [{"from": "first", "to": "last"}]
        return {"osop_version": "1.1", "id": "race", "name": "Race", "nodes": nodes, "edges": edges}
    edges = [
        {"from": "first", "to": "left"},
        {"from": "first", "to": "right"},
        {"from": "left", "to": "big"},
        {"from": "right", "to": "big"},
        {"from": "big", "to": "shell"},
        {"from": "shell", "to": "last"},
    ]
    return {"osop_version": "1.1", "id": "trial", "name": "Trial", "nodes": nodes, "edges": edges}


@dataclass
class Trial:
    """One run's folder and the pieces needed to start, resume and check it."""

    root: Path
    big: int = 2 * 1024 * 1024
    pause: float = 0.02
    gated: bool = False
    small: bool = False
    #: Rewrite the record at every step (0) or every 2 s (fewer fsyncs: faster trials).
    record_interval: float = 2.0
    #: Whether a resume approves what waits for an approval (``auto_approve``).
    resume_approves: bool = True
    run_id: str = ""
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = RunStore(self.root / "store")
        self.trace = self.root / "trace"
        self.path = self.root / "trial.osop.yaml"
        self.path.write_text(
            yaml.safe_dump(workflow(gated=self.gated, small=self.small), sort_keys=False)
        )

    def options(self, **extra: Any) -> RunOptions:
        return RunOptions(
            mode="live",
            workdir=self.root,
            seed=1,
            executors=executors(self.trace, self.big, self.pause),
            record_interval=self.record_interval,
            **extra,
        )

    # -- sessions (run in forked children) -------------------------------------------------

    def arm(self) -> None:
        """Called first in every forked session (a test may set a trap there)."""

    def start(self) -> None:
        self.arm()
        wf = load_workflow(self.path)
        coro = start_run(
            wf,
            source=self.path.read_bytes(),
            workflow_path=self.path,
            store=self.store,
            options=self.options(),
            run_id=self.run_id,
        )
        os._exit(run_engine(coro).exit_code)

    def resume(self) -> None:
        self.arm()
        options = self.options(auto_approve=self.resume_approves)
        result = run_engine(resume_run(self.run_id, store=self.store, options=options))
        os._exit(result.exit_code)

    def cancel(self) -> None:
        cancel_run(self.store, self.run_id)
        os._exit(0)

    def status(self) -> None:
        """What `osop status` does: rebuild the record if the run is idle."""
        self.check_rebuilt_record("race status")
        os._exit(0)

    def approve(self) -> None:
        deliver_answer(self.store, self.run_id, "last", {"decision": "approved"})
        os._exit(0)

    # -- checks (in the parent) --------------------------------------------------------------

    @property
    def handle_path(self) -> Path:
        return self.store.runs / self.run_id

    def journal(self, where: str) -> list[dict[str, Any]] | None:
        path = self.handle_path / "journal.jsonl"
        if not path.exists():
            return []
        try:
            entries = read_journal(path)
        except OsopError as exc:
            self.problems.append(f"{where}: corrupt journal: {exc}")
            return None
        seqs = [int(e.get("seq", 0)) for e in entries]
        if seqs != list(range(1, len(seqs) + 1)):
            self.problems.append(f"{where}: sequence numbers out of order or repeated: {seqs}")
        return entries

    def check_record_file(self, where: str) -> None:
        path = self.handle_path / "record.osoplog.json"
        if not path.exists():
            return
        report = validate_path(path)
        if not report.valid:
            errors = "; ".join(f"{i.rule} {i.pointer}: {i.message}" for i in report.errors)
            self.problems.append(f"{where}: invalid record on disk: {errors}")
        if any(i.rule == "log/duplicate-attempt" for i in report.warnings):
            self.problems.append(f"{where}: record has duplicate attempts")

    def check_rebuilt_record(self, where: str) -> None:
        """What `osop status` does on an idle run: rebuild the record under the lock."""
        handle = self.store.get(self.run_id)
        try:
            handle.acquire(brief=True)
        except OsopError:
            return
        try:
            materialise_record(handle)
        except OsopError as exc:
            self.problems.append(f"{where}: cannot rebuild the record: {exc}")
            return
        finally:
            handle.release()
        self.check_record_file(f"{where} (rebuilt)")

    def completed_nodes(self, entries: list[dict[str, Any]]) -> set[str]:
        return {
            str(e["node"])
            for e in entries
            if e.get("t") == "end" and e.get("status") == "COMPLETED" and not e.get("iteration")
        }

    def trace_lines(self) -> list[list[str]]:
        if not self.trace.exists():
            return []
        return [line.split() for line in self.trace.read_text().splitlines() if line.strip()]

    def check_not_rerun(self, completed: set[str], seen_lines: int, where: str) -> None:
        """No node completed (journaled) before line ``seen_lines`` of the trace started again."""
        for words in self.trace_lines()[seen_lines:]:
            if words[0] == "start" and words[1] in completed:
                self.problems.append(f"{where}: completed node {words[1]} ran again")

    def stray_processes(self) -> list[int]:
        """Live processes carrying one of this run's attempt tokens."""
        marker = f"OSOP_ATTEMPT={self.run_id}:".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                env = (entry / "environ").read_bytes()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if marker in env and stat[stat.rfind(")") + 2] != "Z":
                found.append(int(entry.name))
        return found

    def finished_status(self) -> str | None:
        state = load_run_state(self.store.get(self.run_id))
        return state.status if state.finished is not None else None


def fork(target: Callable[[], None], errors: Path) -> int:
    """Run ``target`` in a forked child; returns its pid (never returns in the child)."""
    pid = os.fork()
    if pid != 0:
        return pid
    code = EXIT_CRASH
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        target()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except OsopError:
        code = EXIT_REFUSED
    except BaseException:
        with errors.open("a") as out:
            out.write(f"--- pid {os.getpid()}\n{traceback.format_exc()}")
    os._exit(code)


def reap(pid: int) -> int:
    """Wait for ``pid``; its exit code, or -signal."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def kill_at(pid: int, delay: float) -> int:
    """SIGKILL ``pid`` after ``delay`` seconds unless it ended first; its exit code."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        time.sleep(0.001)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return reap(pid)


def kill_after_trace(pid: int, trace: Path, line: str, delay: float, limit: float) -> int:
    """SIGKILL ``pid`` ``delay`` seconds after ``line`` appears in ``trace`` (just
    before the engine writes what that step returned); its exit code."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        try:
            seen = line in trace.read_text()
        except OSError:
            seen = False
        if seen:
            return kill_at(pid, delay)
        time.sleep(0.0005)
    return kill_at(pid, 0)


def tear_last_entry(journal: Path, rng: random.Random) -> bool:
    """Cut the journal inside its last entry, as a crash mid-write leaves it.

    Not when that entry names a child process: its go-ahead is given only after
    the entry is on disk, so a real crash cannot tear it and leave the child running.
    """
    data = journal.read_bytes()
    if not data.endswith(b"\n"):
        return False
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    if b'"t":"proc"' in data[start : start + 16] or len(data) - start < 4:
        return False
    cut = rng.randrange(start + 1, len(data) - 1)
    with journal.open("r+b") as handle:
        handle.truncate(cut)
    return True


def summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key}={value}" for key, value in counts.items())
