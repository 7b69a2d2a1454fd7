"""The local asyncio host of the engine core: one task per running attempt.

:class:`~osop.engine.core.Core` decides (which node runs, which edge is taken,
whether to retry, wait, compensate, pause or finish); this host carries its
commands out in one process: it journals the core's entries before acting on
them, runs each attempt's executor (with its timeout, its approvals and its
waits), keeps the retry and deadline timers on the run's clock, takes deliveries
in from the run's inbox, and aborts the run on Ctrl-C or at its deadline.
See ``docs/architecture.md`` (core and hosts) and ``docs/semantics.md``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from osop.engine.clock import SystemClock, iso, within
from osop.engine.core import CALLER_WAIT, DEADLINE, Core, CoreSettings, Decision, Outcome
from osop.engine.entries import Entry, Run, entry_from_dict
from osop.engine.options import RunOptions
from osop.engine.protocol import (
    Abort,
    AttemptFinished,
    Begin,
    CancelTimer,
    ContinueAttempt,
    EngineEvent,
    Finish,
    Pause,
    ProcessStarted,
    ReportArrived,
    StartAttempt,
    StartTimer,
    TimerFired,
    WaitFor,
    WaitRequested,
)
from osop.engine.protocol import ApprovalUsed as ApprovalUsedEvent
from osop.engine.state import RunState
from osop.engine.values import Redactor
from osop.errors import ExecutionError, OsopError
from osop.executors.approval import APPROVED_SUBJECT
from osop.executors.base import Executor, NodeContext, NodeFailure, NodeResult
from osop.executors.simulator import SimulatedExecutor, plain_outputs
from osop.format.workflow import Node, Workflow

__all__ = ["CALLER_WAIT", "Engine", "NullJournal", "Outcome"]

#: How often a run with a waiting node and running branches looks for deliveries.
INBOX_POLL_SEC = 1.0
#: At most this many attempts in a row go on without a turn of the event loop between
#: them (when nothing else is ready to run: see :meth:`Engine._attempt_task`).
_TURNS_SKIPPED = 15
#: Of the durable entries, the ones an attempt commits as a group (see :meth:`Journal.commit`).
#: A ``proc`` is awaited by its process hook: the children started in one turn share an fsync.
_GROUP_COMMITTED = frozenset({"start", "end", "proc"})
_AUTO_APPROVAL = {"decision": "approved", "actor": "--yes"}
_PROGRESS_NAMES = {
    "start": "node_started",
    "end": "attempt_finished",
    "done": "node_finished",
    "skip": "node_skipped",
    "wait": "node_waiting",
    "paused": "run_paused",
    "finished": "run_finished",
    "run": "run_started",
    "resumed": "run_resumed",
    "compensate": "compensation_started",
}
_PROGRESS_KEYS = (
    "node",
    "node_type",
    "attempt",
    "iteration",
    "status",
    "at",
    "kind",
    "name",
    "prompt",
)


def _answer_is_spent(answer: Mapping[str, Any] | None) -> bool:
    return bool(answer) and APPROVED_SUBJECT in answer  # type: ignore[operator]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _SystemNow:
    """``iso(SystemClock().now())``, its text made once per millisecond.

    ``datetime.now`` floors the system clock to microseconds, and ``iso`` those to
    milliseconds: the same as ``time.time_ns() // 1_000_000``.  Formatting the
    datetime was about 1.7 µs of every attempt.
    """

    __slots__ = ("_ms", "_prefix", "_second", "_text")

    def __init__(self) -> None:
        self._ms = self._second = -1
        self._prefix = self._text = ""

    def __call__(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms != self._ms:
            second, fraction = divmod(ms, 1000)
            if second != self._second:
                self._second = second
                moment = _EPOCH + timedelta(seconds=second)
                self._prefix = moment.isoformat(timespec="seconds").removesuffix("+00:00")
            self._ms = ms
            self._text = f"{self._prefix}.{fraction:03d}Z"
        return self._text


class _ChildWaiting(Exception):
    """Internal: a sub-workflow or spawned child run paused (it waits for someone)."""

    def __init__(self, run_id: str, waiting: list[dict[str, Any]]) -> None:
        super().__init__(run_id)
        self.run_id = run_id
        self.waiting = waiting


class NullJournal:
    """A journal that keeps nothing (in-memory runs: sub-runs without a store, tests)."""

    durable = False
    failure = None
    on_failure = None

    def append(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        pass

    def mark(self, entry: dict[str, Any]) -> None:
        pass

    def when_written(self, callback: Callable[[], None]) -> None:
        callback()

    def holds(self) -> bool:
        return False

    async def commit(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


class Engine:
    """Runs one workflow (a fresh run or a resumed one) until it ends or pauses."""

    def __init__(
        self,
        workflow: Workflow,
        state: RunState,
        journal: Any,
        options: RunOptions,
        *,
        run_id: str,
        redactor: Redactor,
        child_runner: Callable[..., Any] | None = None,
        on_checkpoint: Callable[[], None] | None = None,
        poll_inbox: Callable[[], bool] | None = None,
    ) -> None:
        self.wf = workflow
        self.state = state
        self.journal = journal
        self.opt = options
        self.mode = options.mode
        self.clock = options.clock
        self.run_id = run_id
        self.redact = redactor
        self.env: Mapping[str, str] = options.env if options.env is not None else dict(os.environ)
        seed = int(state.meta.get("seed", options.seed or 0))
        settings = CoreSettings.from_options(options, run_id, seed=seed, env=self.env)
        self.core = Core(workflow, state, settings, redactor)
        self.child_runner = child_runner
        self.on_checkpoint = on_checkpoint
        #: Reads new deliveries into the run (``deliver``); True when there were any.
        self.poll_inbox = poll_inbox
        self._journaled = not isinstance(journal, NullJournal)
        #: The running attempt of each node: its command and its task.
        self._attempts: dict[str, tuple[StartAttempt, asyncio.Task[None]]] = {}
        #: Every attempt task not yet returned, by ``id`` of its command.
        self._live: dict[int, asyncio.Task[None]] = {}
        #: While an attempt task decides what follows its attempt: the attempt it
        #: runs next (the decision's last), instead of a task of its own.
        self._held: list[StartAttempt] | None = None
        #: The attempt task that holds them (``asyncio.current_task()``, known).
        self._held_by: asyncio.Task[None] | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._now: Callable[[], str] = (
            # Not a method of the engine's own: no cycle (see let_go).
            _SystemNow() if type(self.clock) is SystemClock else partial(_clock_now, self.clock)
        )
        #: The clock's monotonic time: the system's read directly (two frames less a node).
        self._monotonic: Callable[[], float] = (
            time.monotonic if type(self.clock) is SystemClock else self.clock.monotonic
        )
        #: What every attempt's ``ctx.services`` starts from (then its own wait).
        self._services: dict[str, Any] = {
            "sleep": self.clock.sleep,
            "simulation": options.simulation,
            # A guided run's caller step reads the clock and the wait it resumes.
            "clock": self.clock,
            "waiting": None,
            "compensating": False,
            **options.services,
        }
        self._sets_waiting = not {"waiting", "compensating"} & set(options.services)
        #: Whether a node is started by a ``spawn`` edge (by node id; the graph is fixed).
        self._spawn_started: dict[str, bool] = {}
        self._spawns = any(edge.mode == "spawn" for edge in workflow.edges)
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._deadline: asyncio.Task[None] | None = None
        self._deadline_passed = False
        self._wakeup: asyncio.Event | None = None
        self._result: str | None = None
        self._abort_status: str | None = None
        self._executors: dict[str, Executor] = {}
        self._observers = [factory(run_id, state) for factory in options.observers]
        #: Why the journal can no longer be written (the session stops with it).
        self._journal_error: Exception | None = None
        if self._journaled:
            journal.on_failure = self._journal_failed

    def now(self) -> str:
        return self._now()

    def let_go(self) -> None:
        """Drop what ties the engine to its session (the session is over).

        The session holds the engine and the engine the session's methods: a
        cycle, so a finished run's whole state (four objects a node) waited for
        a full collection of the cyclic garbage collector, which came in the
        middle of whatever ran next (~100 ms for a 10,000-node run, 10–13 µs a
        node of the next run's, bench/bench_engine.py).  Without the cycles it
        is freed when its result is.
        """
        self.child_runner = self.on_checkpoint = self.poll_inbox = None
        if self._journaled:
            self.journal.on_failure = None
        self.core.let_go()

    # -- the core's decisions, journaled and carried out ---------------------------------

    def decide(self, event: EngineEvent) -> Decision:
        """Hand ``event`` to the core; journal what it decided, then carry it out.

        The commands are carried out once the decision's durable entries are on
        disk: at once after an fsync of its own (a wait, a child process ...),
        or, for attempts starting and ending, after the group commit that ends
        this turn of the event loop (an attempt's end and its successor's start
        share it).  A decision with nothing durable queues behind one that waits.
        """
        decision = self.core.decide(event)
        self._record(decision.entries, decision.commands)
        return decision

    def note(self, entry: Entry) -> None:
        """Journal a host-level fact (run started/resumed/paused/finished ...) and apply it."""
        if isinstance(entry, Run) and self._observers:
            # An observer may add to the run's metadata (trace ids): before it is written.
            data = entry.to_dict()
            for observe in self._observers:
                try:
                    observe(data)
                except Exception:
                    self._drop_observer(observe)
            entry.meta = {k: v for k, v in data.items() if k != "t"}
        self.core.note(entry)
        self._record([entry], [])

    def _record(self, entries: list[Entry], commands: list[Any]) -> None:
        journal = self.journal
        durable = at_once = False
        announce: list[dict[str, Any]] = []
        listening = self.opt.progress is not None or bool(self._observers)
        for entry in entries:
            if not entry.JOURNALED:
                continue
            data = entry.to_dict()
            journal.append(data, sync=False)
            if entry.DURABLE:
                durable = True
                at_once = at_once or entry.KIND not in _GROUP_COMMITTED
            if listening:
                announce.append(data)
        if announce:
            # Progress events and observers hear of an entry only once it is written.
            journal.when_written(lambda: self._announce(announce))
        if durable and journal.durable:
            if not at_once:  # group commit: written at the end of this turn
                journal.when_written(lambda: self._carry_all(commands))
                return
            journal.sync()  # on disk now: the caller goes on (a process, a wait ...)
        if commands:
            if journal.holds():  # never overtake commands that wait for the disk
                journal.when_written(lambda: self._carry_all(commands))
            else:
                for command in commands:
                    self._carry(command)

    def _carry_all(self, commands: list[Any]) -> None:
        for command in commands:
            self._carry(command)

    def deliver(self, data: dict[str, Any]) -> None:
        """Take in an entry a delivery checked under the run's lock (a guided report)."""
        if data.get("t") == "report":
            self.decide(
                ReportArrived(
                    node=str(data["node"]), report=dict(data.get("report") or {}), at=data.get("at")
                )
            )
            return
        entry = entry_from_dict(data)
        if entry is not None:
            self.note(entry)

    def _announce(self, entries: list[dict[str, Any]]) -> None:
        for data in entries:
            if data["t"] != "run":  # the run's observers were told before it was written
                for observe in self._observers:
                    try:
                        observe(data)
                    except Exception:  # an observer must never stop or stall the run
                        self._drop_observer(observe)
            if self.opt.progress is not None and data["t"] in _PROGRESS_NAMES:
                self._emit(data)
            folded = data.get("done")
            if self.opt.progress is not None and isinstance(folded, dict):
                # An end that also ends its node (``done`` folded in): node_finished too.
                self._emit({"t": "done", "node": data["node"], **_unfold(data, folded)})

    def _drop_observer(self, observe: Callable[[dict[str, Any]], None]) -> None:
        logging.getLogger("osop.engine").warning(
            "an observer of run %s failed; it hears nothing more of this run",
            self.run_id,
            exc_info=True,
        )
        self._observers = [o for o in self._observers if o is not observe]

    def _emit(self, entry: dict[str, Any]) -> None:
        kind = entry["t"]
        if self.opt.progress is None:
            return
        event: dict[str, Any] = {"event": _PROGRESS_NAMES[kind], "run_id": self.run_id}
        for key in _PROGRESS_KEYS:
            if entry.get(key) is not None:
                event[key] = entry[key]
        if kind == "end" and entry.get("error"):
            event["error"] = entry["error"]
        if kind == "end" and entry.get("duration_ms") is not None:
            event["duration_ms"] = entry["duration_ms"]
        if kind == "finished":
            event["status"] = entry["status"]
        try:
            self.opt.progress(event)
        except Exception:  # a broken viewer (closed pipe ...) must never break the run
            self.opt.progress = None

    def _carry(self, command: Any) -> None:
        if isinstance(command, StartAttempt):
            held = self._held
            if held is None:
                self._start_task(command)
            else:
                # The attempt task deciding now is free once it has: it runs the
                # decision's last attempt itself, next (see _attempt_task), so the
                # attempts still start in the order they were decided.
                if held:
                    self._start_task(held.pop())
                held.append(command)
                task = self._held_by
                assert task is not None
                self._attempts[command.node] = (command, task)
                self._live[id(command)] = task
        elif isinstance(command, StartTimer):
            if command.timer_id == DEADLINE:
                self._deadline = asyncio.ensure_future(self._deadline_timer(command.seconds))
            else:
                self._timers[command.timer_id] = asyncio.ensure_future(
                    self._timer(command.timer_id, command.seconds)
                )
        elif isinstance(command, CancelTimer):
            timer = self._deadline if command.timer_id == DEADLINE else None
            timer = timer or self._timers.pop(command.timer_id, None)
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()
        elif isinstance(command, Finish):
            self._end(command.status)
        elif isinstance(command, Pause):
            self._end("PAUSED")
        elif isinstance(command, WaitFor) and self._wakeup is not None:
            self._wakeup.set()  # the loop now watches the inbox while other branches run
        # ContinueAttempt goes to the attempt that asked (see _run_attempt).

    def _start_task(self, command: StartAttempt) -> None:
        loop = self._event_loop or asyncio.get_running_loop()
        task = loop.create_task(self._attempt_task(command))
        self._attempts[command.node] = (command, task)
        self._live[id(command)] = task

    def _journal_failed(self, exc: Exception) -> None:
        """A scheduled journal write failed: nothing it covered may be acted upon."""
        self._journal_error = exc
        if self._wakeup is not None:
            self._wakeup.set()

    def _end(self, result: str) -> None:
        self._result = result
        if self._wakeup is not None:
            self._wakeup.set()

    async def _timer(self, timer_id: str, seconds: float) -> None:
        await self.clock.sleep(seconds)
        if self._timers.get(timer_id) is asyncio.current_task():
            del self._timers[timer_id]
        self.decide(TimerFired(timer_id=timer_id, at=self.now()))

    async def _deadline_timer(self, seconds: float) -> None:
        await self.clock.sleep(seconds)
        self._deadline_passed = True
        if self._wakeup is not None:
            self._wakeup.set()

    # -- the session --------------------------------------------------------------------

    async def run(self) -> str:
        """Schedule until nothing can progress; returns COMPLETED/FAILED/... or ``PAUSED``."""
        self._wakeup = asyncio.Event()
        self._event_loop = asyncio.get_running_loop()
        stale = await self._stop_stale_processes()
        try:
            self.decide(Begin(at=self.now(), stale=stale))
            await self._loop()
            await self._settle()
        except asyncio.CancelledError:
            await self._abort("CANCELLED")
            await self._loop()
            await self._settle()
        finally:
            if self._deadline is not None:
                self._deadline.cancel()
        return self._result or "CANCELLED"

    async def _settle(self) -> None:
        """Let the attempts that decided the end finish committing it (the session closes
        the journal next)."""
        tasks = [t for t in self._live.values() if t is not asyncio.current_task()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self) -> None:
        assert self._wakeup is not None
        while self._result is None:
            if self._journal_error is not None:
                raise self._journal_error
            if self._deadline_passed:
                self._deadline_passed = False
                await self._abort("TIMED_OUT")
                continue
            if self.poll_inbox is not None and (self.state.waits or self.state.edge_waits):
                # Something waits while other branches run: answers and events
                # delivered meanwhile (`osop approve`/`signal`) are picked up live.
                try:
                    await asyncio.wait_for(self._wakeup.wait(), INBOX_POLL_SEC)
                except TimeoutError:
                    self.poll_inbox()
                    continue
            else:
                await self._wakeup.wait()
            self._wakeup.clear()

    async def _abort(self, status: str) -> None:
        """Cancel what runs (each attempt records its end), then let the core conclude."""
        self._abort_status = status
        # Attempts whose start waits for the disk are started first, so that they
        # are cancelled with the others (never started after the run stopped).
        self.journal.sync()
        tasks = [*(task for _, task in self._attempts.values()), *self._timers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._attempts.clear()
        self._timers.clear()
        self._abort_status = None
        if self._result is None:
            self.decide(Abort(status=status, at=self.now()))

    async def _stop_stale_processes(self) -> dict[str, list[dict[str, Any]]]:
        """Before re-running an interrupted attempt, make sure its processes are gone.

        A child process runs in its own process group, so it survives the engine's
        ``kill -9`` and may still be at work.  Each group the attempt journaled is
        terminated (only if provably the attempt's: see ``stop_stale_group``);
        what was found goes into the attempt's record.  A group that cannot be
        stopped stops the resume: running the step again beside it would repeat
        its side effects.
        """
        from osop.executors.process import stop_attempt_processes

        stale: dict[str, list[dict[str, Any]]] = {}
        for nid, attempt, iteration in self.core.crashed_attempts():
            procs = self.state.attempt_processes(nid, attempt, iteration)
            if not procs:
                continue
            verdicts = await asyncio.to_thread(stop_attempt_processes, procs)
            stale[nid] = verdicts
            for verdict in verdicts:
                if verdict["outcome"] == "running":
                    raise ExecutionError(
                        f"node {nid!r} attempt {attempt}: {verdict['message']}; "
                        "stop it, then resume again"
                    )
        return stale

    # -- one attempt ------------------------------------------------------------------------

    async def _attempt_task(self, cmd: StartAttempt) -> None:
        """One attempt (started once its ``start`` is on disk); what follows from its
        end is carried out once the end is on disk (see :meth:`decide`).

        The task then runs the next attempt its decision started, if any (a chain's
        next node), rather than ending and leaving it to a new task: a task per
        attempt was ~3 µs of a simulated chain's ~55 µs per node
        (bench/bench_engine.py).  It is still the attempt's own task while it runs
        it (``_attempts``: cancelled on abort, ``asyncio.current_task()`` to the
        executor).  Between two attempts it lets the event loop turn, unless
        nothing else is ready to run (at most ``_TURNS_SKIPPED`` times in a row).
        """
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        skipped = 0  # turns of the event loop not taken since the last one taken
        next_cmd: StartAttempt | None = cmd
        while next_cmd is not None:
            cmd, next_cmd = next_cmd, None
            try:
                start_mono = self._monotonic()
                report: AttemptFinished | None
                try:
                    report = await self._run_attempt(self.wf.node(cmd.node), cmd, start_mono)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug or misconfiguration: recorded, never a hang
                    report = self._report(
                        cmd,
                        start_mono,
                        "FAILED",
                        error={
                            "code": "ENGINE_ERROR",
                            "message": f"{type(exc).__name__}: {exc}",
                            "_retryable": False,
                        },
                    )
                running = self._attempts.get(cmd.node)
                if running is not None and running[0] is cmd:
                    del self._attempts[cmd.node]
                if report is not None:
                    held: list[StartAttempt] = []
                    self._held, self._held_by = held, task
                    try:
                        self.decide(report)
                    except BaseException:
                        for command in held:  # started as any other would have been
                            self._start_task(command)
                        raise
                    finally:
                        self._held = self._held_by = None
                    next_cmd = held[0] if held else None
                if self.on_checkpoint is not None:  # the session's chance to write the record
                    self.on_checkpoint()
            finally:
                del self._live[id(cmd)]
            if next_cmd is not None:
                if (
                    skipped < _TURNS_SKIPPED
                    and not getattr(loop, "_ready", True)
                    and not task.cancelling()
                ):
                    # Nothing else is ready to run: a turn of the loop now would only
                    # poll for I/O and come straight back (~10 % of a simulated
                    # chain's node, bench/bench_engine.py).  Taken at least every
                    # _TURNS_SKIPPED + 1 attempts, so timers, deliveries and Ctrl-C
                    # are heard within a few attempts; never skipped while another
                    # task or callback is ready (a fan-out's attempts, a virtual
                    # clock's driver, a write scheduled for the end of the turn).
                    skipped += 1
                    continue
                skipped = 0
                # One turn of the event loop, as a new task's first step would take
                # (timers, deliveries and Ctrl-C are heard between two attempts).
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError:  # cancelled before it began, as a task can be
                    self._live.pop(id(next_cmd), None)
                    raise

    def _report(
        self, cmd: StartAttempt, start_mono: float, status: str, **fields: Any
    ) -> AttemptFinished:
        return AttemptFinished(
            node=cmd.node,
            attempt=cmd.attempt,
            iteration=cmd.iteration,
            at=self._now(),
            status=status,
            duration_ms=round((self._monotonic() - start_mono) * 1000.0, 3),
            **fields,
        )

    def _wait(
        self,
        cmd: StartAttempt,
        kind: str,
        name: str,
        prompt: str | None,
        *,
        settle: bool,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
    ) -> Decision:
        return self.decide(
            WaitRequested(
                node=cmd.node,
                attempt=cmd.attempt,
                iteration=cmd.iteration,
                at=self.now(),
                kind=kind,
                name=name,
                prompt=prompt,
                details=details,
                settle=settle,
            )
        )

    def _note_approval(self, node: Node, ctx: NodeContext) -> None:
        if ctx.approved_subject:
            self.decide(ApprovalUsedEvent(node=node.id, subject=ctx.approved_subject))

    async def _run_attempt(
        self, node: Node, cmd: StartAttempt, start_mono: float
    ) -> AttemptFinished | None:
        """Execute the attempt; its report, or None when it now waits."""
        outputs = self._simulated_plainly(node)
        if outputs is not None:
            return AttemptFinished(
                node=cmd.node,
                attempt=cmd.attempt,
                iteration=cmd.iteration,
                at=self._now(),
                status="COMPLETED",
                duration_ms=round((self._monotonic() - start_mono) * 1000.0, 3),
                outputs=outputs,
                returned=True,  # no tools nor children: the core reads None as empty
            )
        env = self.env
        on_process = None
        if self.mode == "live" and self._journaled:
            # Every child process is journaled before it runs, and carries a
            # token that proves it is this attempt's after a crash.
            token = f"{self.run_id}:{node.id}:{cmd.attempt}:{cmd.iteration or 0}"
            env = {**self.env, "OSOP_ATTEMPT": token}
            on_process = self._process_hook(cmd, token)
        scope = (
            cmd.scope
            if cmd.scope is not None
            else self.core.node_scope(node.id, cmd.loop_vars, cmd.inputs)
        )
        services = self._services.copy()
        if self._sets_waiting:  # unless the run's own services say otherwise
            services["waiting"] = cmd.waiting
            services["compensating"] = cmd.compensating
        else:
            services = {
                **self._services,
                "waiting": cmd.waiting,
                "compensating": cmd.compensating,
                **self.opt.services,
            }
        ctx = NodeContext(
            run_id=self.run_id,
            workflow=self.wf,
            node=node,
            attempt=cmd.attempt,
            mode=self.mode,
            runtime=cmd.runtime,
            resolve=scope.resolve,
            inputs=cmd.inputs,
            workdir=self.opt.workdir,
            env=env,
            secret_values=self.redact.values,
            answer=cmd.answer,
            delivered=None,
            iteration=cmd.iteration,
            timeout_sec=node.timeout_sec,
            interactive=self.opt.interactive,
            progress=self.opt.progress,
            services=services,
            run_child=None,
            scope=scope,
            on_process=on_process,
        )
        extra: dict[str, Any] = {}
        while True:
            try:
                result = await self._invoke(node, ctx, extra, cmd.resume_child)
            except NodeFailure as failure:
                self._note_approval(node, ctx)
                if failure.code == "NEEDS_APPROVAL" and _answer_is_spent(ctx.answer):
                    # The answer approved another command (an earlier for_each item,
                    # a different retry): this one waits for its own approval.
                    if cmd.rehearsal_approves:
                        ctx.answer = dict(_AUTO_APPROVAL)
                        continue
                    self._wait(cmd, "approval", node.id, failure.message, settle=False)
                    return None
                if failure.code == "NEEDS_APPROVAL" and not (ctx.answer or {}).get("approved"):
                    if cmd.approval == "wait":
                        self._wait(cmd, "approval", node.id, failure.message, settle=False)
                        return None
                    if cmd.approval == "rejected":
                        return self._report(cmd, start_mono, "FAILED", rejected=True)
                    ctx.answer = {"approved": True, **(cmd.answer or _AUTO_APPROVAL)}
                    continue
                return self._report(
                    cmd,
                    start_mono,
                    "FAILED",
                    error=_failure_dict(failure),
                    outputs=failure.outputs or None,
                )
            except _ChildWaiting as child:
                # The parent node waits for as long as its child run does.
                self._wait(
                    cmd,
                    "child",
                    child.run_id,
                    f"child run {child.run_id} is waiting",
                    settle=False,
                    details=child.waiting,
                )
                return None
            except OsopError as exc:  # e.g. a sub-workflow that cannot be loaded
                return self._report(
                    cmd,
                    start_mono,
                    "FAILED",
                    error={"code": "EXECUTION_ERROR", "message": str(exc), "_retryable": False},
                )
            except TimeoutError:
                return self._report(
                    cmd,
                    start_mono,
                    "TIMED_OUT",
                    error={
                        "code": "TIMEOUT",
                        "message": f"node did not finish within {node.timeout_sec:g}s",
                    },
                )
            except asyncio.CancelledError:
                status = self._abort_status or "CANCELLED"
                error = {
                    "code": "TIMEOUT" if status == "TIMED_OUT" else "CANCELLED",
                    "message": "the workflow deadline passed"
                    if status == "TIMED_OUT"
                    else "the run was cancelled",
                }
                self.decide(self._report(cmd, start_mono, status, error=error, aborted=True))
                self.journal.sync()  # awaiting is impossible while being cancelled
                raise
            except Exception as exc:  # a broken executor: recorded, the run goes on
                return self._report(
                    cmd,
                    start_mono,
                    "FAILED",
                    error={
                        "code": "EXECUTOR_ERROR",
                        "message": f"{type(exc).__name__}: {exc}",
                        "_retryable": False,
                    },
                )
            self._note_approval(node, ctx)
            if result.wait is not None:
                decision = self._wait(
                    cmd,
                    result.wait.kind,
                    result.wait.name,
                    result.wait.prompt,
                    settle=True,
                    # A caller's step journals what it was handed (guided runs).
                    details=dict(result.wait.details) if result.wait.kind == CALLER_WAIT else None,
                )
                going_on = next(
                    (c for c in decision.commands if isinstance(c, ContinueAttempt)), None
                )
                if going_on is None:
                    return None
                if going_on.answer is not None:
                    ctx.answer = going_on.answer
                else:
                    ctx.delivered = going_on.delivered
                continue
            break
        return self._report(
            cmd,
            start_mono,
            "COMPLETED",
            outputs=result.outputs,
            returned=True,
            ai_metadata=result.ai_metadata,
            human_metadata=result.human_metadata,
            tools_used=result.tools_used,
            cost_usd=result.cost_usd,
            children=result.children,
            child_run_id=extra.get("child_run_id"),
        )

    def _simulated_plainly(self, node: Node) -> dict[str, Any] | None:
        """The outputs of an attempt the built-in simulator would run plainly (no
        settings, nothing it reads from the context: :func:`plain_outputs`), else None.

        Its report is then made without a context, a coroutine or a result object
        (``execute`` would return at once, without suspending, all the same):
        what those cost was ~40 % of the host's share of a simulated chain's node
        (NodeContext's 22 fields, the services copy, the executor's settings
        mapping; bench/bench_engine.py, "built-in simulator").  Only an executor
        already made for the node's type is asked (making one may fail: that is
        the attempt's to report), and only the simulator itself, not a subclass
        or a wrapper (a guided run's) whose ``execute`` may do otherwise.
        """
        executor = self._executors.get(node.type)
        if (
            type(executor) is not SimulatedExecutor
            or node.timeout_sec is not None  # awaited under a timer: turns of the loop
            or node.workflow_ref
            or self._spawned(node)
        ):
            return None
        try:
            return plain_outputs(node, self._services["simulation"])
        except Exception:  # whatever went wrong, the executor's own path reports it
            return None

    def _process_hook(self, cmd: StartAttempt, token: str) -> Callable[[int], Any]:
        async def started(pid: int) -> None:
            from osop.procinfo import boot_id, process_start

            self.decide(
                ProcessStarted(
                    node=cmd.node,
                    attempt=cmd.attempt,
                    iteration=cmd.iteration,
                    pgid=pid,
                    started=process_start(pid),
                    boot_id=boot_id(),
                    token=token,
                )
            )
            # Group commit: the child waits at its gate until its entry is on disk;
            # the children started in one turn of the loop share that fsync (a
            # 200-wide fan-out of commands made ~200 fsyncs, ~0.27 ms of CPU and
            # ~2.7 ms of blocked loop each, bench/bench_engine.py).
            await self.journal.commit()

        return started

    async def _invoke(
        self, node: Node, ctx: NodeContext, extra: dict[str, Any], resume_child: str | None
    ) -> NodeResult:
        """Execute through the executor, a sub-workflow or a spawned child, under the timeout."""
        coro: Any
        if node.workflow_ref or self._spawned(node):
            coro = self._run_child_node(node, ctx, extra, resume_child)
        else:
            coro = self._executor(node.type).execute(ctx)
        if node.timeout_sec is None:
            result: NodeResult = await coro
            return result
        # On timeout the task is cancelled, which makes the executor kill what it
        # started (its contract), before TimeoutError reaches the attempt.
        finished: NodeResult = await within(self.clock, node.timeout_sec, coro)
        return finished

    def _spawned(self, node: Node) -> bool:
        if not self._spawns:
            return False
        spawned = self._spawn_started.get(node.id)
        if spawned is None:
            edges = self.wf.edges
            spawned = self._spawn_started[node.id] = any(
                edges[s[0]].mode == "spawn" for s in self.core.topo.control_in[node.id]
            )
        return spawned

    async def _run_child_node(
        self, node: Node, ctx: NodeContext, extra: dict[str, Any], resume_id: str | None
    ) -> NodeResult:
        if self.child_runner is None:
            raise NodeFailure("NO_CHILD_RUNS", "sub-workflows need a run context", retryable=False)
        # A child this node already started (it paused, or the process died while it
        # ran) is resumed, never started again: its completed steps must not repeat.
        status, outputs, child_id, error, waiting = await self.child_runner(
            node, dict(ctx.inputs), resume_id
        )
        extra["child_run_id"] = child_id
        if status == "PAUSED":
            raise _ChildWaiting(child_id, waiting)
        if status != "COMPLETED":
            raise NodeFailure(
                "CHILD_" + status,
                error or f"child run {child_id} ended {status}",
                details={"child_run_id": child_id},
            )
        return NodeResult(outputs=dict(outputs))

    def _executor(self, node_type: str) -> Executor:
        executor = self._executors.get(node_type)
        if executor is None:
            factory = self.opt.executors
            if factory is None:
                from osop.executors.registry import get_executor

                factory = get_executor
            executor = self._executors[node_type] = factory(node_type, self.mode)
        return executor


def _clock_now(clock: Any) -> str:
    return iso(clock.now())


def _unfold(end: dict[str, Any], folded: dict[str, Any]) -> dict[str, Any]:
    """The ``done`` folded into an ``end`` line, whole (status and time are the end's)."""
    return {"status": end.get("status"), "at": end.get("at"), **folded}


def _failure_dict(failure: NodeFailure) -> dict[str, Any]:
    out: dict[str, Any] = {"code": failure.code, "message": failure.message}
    if failure.details is not None:
        out["details"] = failure.details
    out["_retryable"] = failure.retryable
    return out
