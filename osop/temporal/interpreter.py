"""The OSOP interpreter as a Temporal workflow: the engine core, hosted by Temporal.

The deterministic core (:mod:`osop.engine.core`) decides; this workflow carries
its commands out the Temporal way — an attempt is an activity
(:mod:`osop.temporal.attempts`), a retry backoff or the workflow deadline is a
durable timer, a wait for a person or an event is a signal (a Temporal update,
checked before it is accepted).  The journal entries the core produces are
kept in the workflow's memory: Temporal rebuilds them by replaying the run's
history, so the ``.osoplog`` materialised from them (query ``record``) is the
document a local run would have written.

Determinism: the core reads no clock, no environment and no randomness; time
comes from :func:`temporalio.workflow.now`.  A change to the core that would make
an in-flight run take another path must be guarded with :func:`workflow.patched`
(see docs/temporal.md, "Upgrading workers"); tests replay recorded histories.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from osop.engine import protocol as p
    from osop.engine.answers import check_answer
    from osop.engine.clock import iso
    from osop.engine.core import DEADLINE, Core, CoreSettings
    from osop.engine.entries import Entry, Finished, Paused, Resumed, Run
    from osop.engine.inputs import check_inputs
    from osop.engine.options import RunOptions
    from osop.engine.recording import build_record, open_status
    from osop.engine.runner import (
        child_outcome,
        refuse_blocked_commands,
        run_meta,
        with_workflow_id,
    )
    from osop.engine.state import RunState
    from osop.engine.values import Redactor
    from osop.errors import ExecutionError, OsopError
    from osop.expr.interpolate import find_references
    from osop.format.limits import MAX_CHILD_DEPTH
    from osop.format.loader import load_document
    from osop.format.workflow import Node, Workflow, workflow_from_dict
    from osop.security import SecretStore
    from osop.temporal.attempts import (
        ACTIVITY_NAME,
        HEARTBEAT_SEC,
        attempt_request,
        node_workflow,
    )
    from osop.temporal.children import child_document, spawned_document
    from osop.temporal.references import (
        CONTEXT_ACTIVITY_NAME,
        SecretMarkers,
        env_names,
        secret_names,
    )

__all__ = ["INTERPRETER_VERSION", "WORKFLOW_NAME", "RunWorkflow"]

#: The workflow type every worker registers (part of the wire contract).
WORKFLOW_NAME = "osop.run"
#: Shown in the worker's health line and in each run's memo; bump with the core.
INTERPRETER_VERSION = 2
#: Patches (``workflow.patched``): what runs started by an older interpreter did not do.
PATCH_SECRETS = "osop-2-secrets-on-workers"
PATCH_CONTEXT = "osop-2-run-context"
PATCH_CHILDREN = "osop-2-child-workflows"
#: The signal a child run sends its parent when it pauses or goes on again.
CHILD_SIGNAL = "child"
#: A worker that stops heartbeating for this long is presumed dead: its attempt
#: is handed to another worker (the same attempt, see docs/temporal.md).
HEARTBEAT_TIMEOUT = timedelta(seconds=max(10.0, 5 * HEARTBEAT_SEC))
#: How often the same attempt is handed to another worker after losing its own.
WORKER_LOSSES = 5
#: No node timeout: an attempt may run this long (heartbeats catch dead workers).
_NO_TIMEOUT = timedelta(days=3650)
_ABORT_ERRORS = {
    "CANCELLED": {"code": "CANCELLED", "message": "the run was cancelled"},
    "TIMED_OUT": {"code": "TIMEOUT", "message": "the workflow deadline passed"},
}


class _NoInbox:
    """What :func:`check_answer` reads besides the state: a run id and a (here empty) inbox."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def read_inbox(self) -> list[dict[str, Any]]:
        return []


def _now() -> str:
    return iso(workflow.now())


@dataclass
class _ChildRun:
    """A child run this run started (a Temporal child workflow), as the parent knows it."""

    run_id: str
    node: str
    #: The Temporal child workflow (an asyncio task: cancelling it cancels the child).
    handle: Any = None
    #: Awaits the child's end and keeps its result.
    task: asyncio.Task[dict[str, Any]] | None = None
    #: The child's result once it ended: ``{run_id, status, outputs, error}``.
    result: dict[str, Any] | None = None
    paused: bool = False
    waiting: list[dict[str, Any]] = field(default_factory=list)
    pauses: int = 0
    #: The parent node's attempt ended waiting for this child (the node is WAITING).
    parked: bool = False

    @property
    def done(self) -> bool:
        return self.result is not None


class _TooDeep(Exception):
    """Child runs nested past the limit (a workflow that imports itself)."""


@workflow.defn(name=WORKFLOW_NAME)
class RunWorkflow:
    """One OSOP run.  Started with :func:`osop.temporal.runs.start_run`."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._state = RunState()
        self._workflow: Workflow | None = None
        self._core: Core | None = None
        self._run_id = ""
        self._request: dict[str, Any] = {}
        #: Events waiting for the core, in arrival order.
        self._inbox: deque[p.EngineEvent] = deque()
        self._attempts: dict[tuple[str, int, int | None], asyncio.Task[None]] = {}
        #: Each attempt's StartAttempt, for a ContinueAttempt of it after a wait.
        self._started: dict[tuple[str, int, int | None], p.StartAttempt] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._paused = False
        self._abort: str | None = None
        self._deliveries = 0
        self._session_began = 0.0
        #: When each running timer fires (workflow time), to stop the deadline while paused.
        self._due: dict[str, float] = {}
        #: Salted fingerprints of the run's secrets (osop approve/signal mask them).
        self._fingerprints: dict[str, Any] | None = None
        #: Child runs by run id.
        self._children: dict[str, _ChildRun] = {}
        #: A parked child ended or paused anew: the paused run takes it up (as a resume).
        self._child_news = False

    # -- the run --------------------------------------------------------------------

    @workflow.run
    async def run(self, request: dict[str, Any]) -> dict[str, Any]:
        self._request = request
        self._session_began = workflow.time()
        self._run_id = str(request["run_id"])
        source = str(request["source"]).encode("utf-8")
        wf = workflow_from_dict(load_document(source, "workflow.osop").data)
        if wf.id != request["workflow_id"]:
            wf = workflow_from_dict({**wf.raw, "id": request["workflow_id"]})
        self._workflow = wf
        settings = CoreSettings(
            run_id=self._run_id,
            mode=request["mode"],
            seed=int(request["seed"]),
            auto_approve=bool(request.get("auto_approve")),
            env=await self._context(wf),
            # ${secrets.X} is a marker here; the worker running the attempt puts the
            # value in, so no secret enters the history (osop.temporal.references).
            secrets=(
                SecretMarkers() if workflow.patched(PATCH_SECRETS) else SecretStore({}, environ={})
            ),
            simulation=request.get("simulation") or {},
        )
        self._core = Core(wf, self._state, settings, redactor=Redactor(()))
        self._note(Run(meta=dict(request["meta"]), plain_inputs=dict(request.get("inputs") or {})))
        for node_id, answer in (request.get("answers") or {}).items():
            self._decide(p.AnswerArrived(node=node_id, answer=dict(answer), plain=dict(answer)))
        for index, event in enumerate(request.get("events") or ()):
            self._decide(
                p.SignalDelivered(
                    id=f"preset-{index}", name=event.get("name"), data=event.get("data"), at=_now()
                )
            )
        self._inbox.append(p.Begin(at=_now()))
        status = await self._drive()
        if workflow.info().parent is None:
            return {"run_id": self._run_id, "status": status}
        # A child run: what its parent's node takes from it, as locally.
        outputs, error = child_outcome(
            wf,
            build_record(self._state),
            {nid: st.outputs for nid, st in self._state.nodes.items() if st.outputs},
        )
        return {"run_id": self._run_id, "status": status, "outputs": outputs, "error": error}

    async def _context(self, wf: Workflow) -> dict[str, str]:
        """What the run reads from a worker once, as it starts: the environment.

        Locally ``${env.X}`` reads the environment of the process that runs the
        steps; here that is a worker, and an activity keeps what it read in the
        history, so that every replay of the run decides the same.  The same
        activity gives the fingerprints of the run's secrets (for deliveries).
        """
        names = {"env": env_names(wf.raw), "secrets": secret_names(wf.raw)}
        if not (names["env"] or names["secrets"]) or not workflow.patched(PATCH_CONTEXT):
            return {}
        found: dict[str, Any] = await workflow.execute_activity(
            CONTEXT_ACTIVITY_NAME,
            names,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=WORKER_LOSSES),
            summary="run context",
        )
        self._fingerprints = found.get("fingerprints")
        return dict(found.get("env") or {})

    async def _drive(self) -> str:
        """Feed events to the core and carry its commands out until it finishes the run."""
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self._inbox))
            except asyncio.CancelledError:
                # `osop cancel` (a Temporal cancellation): stop what runs, let the core conclude.
                await self._abort_running("CANCELLED")
                continue
            event = self._inbox.popleft()
            for command in self._decide(event):
                outcome = await self._carry_out(command)
                if outcome is not None:
                    return outcome
            assert self._core is not None
            if self._core.phase == "paused" and not self._inbox and not self._attempts:
                # Still waiting (e.g. an event whose data its edge's `when` refused):
                # paused again, as a resumed local run that cannot move would be.
                await self._pause()

    def _decide(self, event: p.EngineEvent) -> list[p.Command]:
        assert self._core is not None
        decision = self._core.decide(event)
        for entry in decision.entries:
            if type(entry).JOURNALED:
                self._entries.append(entry.to_dict())
        return list(decision.commands)

    def _note(self, entry: Entry) -> None:
        assert self._core is not None
        self._core.note(entry)
        self._entries.append(entry.to_dict())

    def _active_ms(self) -> float:
        """Time the run was active (not paused), as the local host records it."""
        return round(self._state.active_ms + (workflow.time() - self._session_began) * 1000, 3)

    async def _carry_out(self, command: p.Command) -> str | None:
        """One command; the run's final status when it was :class:`Finish`."""
        if isinstance(command, p.StartAttempt):
            self._spawn_attempt(command, answer=command.answer, delivered=None, start=command)
        elif isinstance(command, p.ContinueAttempt):
            start = self._started.get((command.node, command.attempt, command.iteration))
            if start is None:
                raise ExecutionError(f"continue of an attempt never started: {command.node}")
            self._spawn_attempt(
                start, answer=command.answer, delivered=command.delivered, start=start
            )
        elif isinstance(command, p.StartTimer):
            self._start_timer(command.timer_id, command.seconds)
        elif isinstance(command, p.CancelTimer):
            timer = self._timers.pop(command.timer_id, None)
            if timer is not None:
                timer.cancel()
        elif isinstance(command, p.Pause):
            pass  # the drive loop pauses once this decision's commands are carried out
        elif isinstance(command, p.Finish):
            self._note(Finished(status=command.status, at=_now(), active_ms=self._active_ms()))
            for timer in self._timers.values():
                timer.cancel()
            return command.status
        # WaitFor is informational: the wait is in the journal, a signal ends it.
        return None

    # -- attempts -------------------------------------------------------------------

    def _spawn_attempt(
        self,
        command: p.StartAttempt,
        *,
        answer: dict[str, Any] | None,
        delivered: dict[str, Any] | None,
        start: p.StartAttempt,
    ) -> None:
        key = (command.node, command.attempt, command.iteration)
        self._started[key] = start
        if self._runs_a_child(command.node):
            if workflow.patched(PATCH_CHILDREN):
                self._attempts[key] = asyncio.ensure_future(self._child_attempt(key, command))
                return
            # Runs started by interpreter v1 keep the answer they had then.
            self._finished(
                command,
                "FAILED",
                {
                    "code": "NO_CHILD_RUNS",
                    "message": "sub-workflows and spawned runs do not run on Temporal yet",
                    "_retryable": False,
                },
            )
            return
        request = self._attempt_request(command, answer, delivered)
        self._attempts[key] = asyncio.ensure_future(self._attempt(key, request, command))

    def _finished(
        self,
        command: p.StartAttempt,
        status: str,
        error: dict[str, Any] | None = None,
        *,
        duration_ms: float = 0.0,
        **more: Any,
    ) -> None:
        """Report how an attempt ended that returned no report of its own (a child
        run's node, an attempt cut short or lost)."""
        self._inbox.append(
            p.AttemptFinished(
                node=command.node,
                attempt=command.attempt,
                iteration=command.iteration,
                at=_now(),
                status=status,
                duration_ms=round(duration_ms, 3),
                error=error,
                **more,
            )
        )

    def _runs_a_child(self, node_id: str) -> bool:
        assert self._workflow is not None
        if self._workflow.node(node_id).workflow_ref:
            return True
        return any(edge.mode == "spawn" and edge.target == node_id for edge in self._workflow.edges)

    def _attempt_request(
        self,
        command: p.StartAttempt,
        answer: dict[str, Any] | None,
        delivered: dict[str, Any] | None,
    ) -> dict[str, Any]:
        assert self._workflow is not None and self._core is not None
        node = self._workflow.node(command.node)
        scope = self._core.node_scope(command.node, command.loop_vars, command.inputs)
        # The cli executor re-renders its command from the raw template, quoting
        # each value: hand it every value its template names, resolved here.
        references: dict[str, Any] = {}
        for reference, _pointer in find_references(node.runtime):
            try:
                references[reference] = scope.resolve(reference)
            except OsopError:
                continue
        outputs: dict[str, Any] = {}
        if node.type in ("data", "gateway"):
            # Their executors evaluate CEL over other nodes' outputs at run time.
            for nid, st in self._state.nodes.items():
                if st.status == "COMPLETED" and st.outputs:
                    outputs[nid] = dict(st.outputs)
        return attempt_request(
            run_id=self._run_id,
            workflow=node_workflow(self._workflow.raw, command.node),
            node_id=command.node,
            attempt=command.attempt,
            iteration=command.iteration,
            mode=str(self._request["mode"]),
            runtime=command.runtime,
            inputs=command.inputs,
            answer=answer,
            delivered=delivered,
            timeout_sec=command.timeout_sec,
            approval=command.approval,
            rehearsal_approves=command.rehearsal_approves,
            references=references,
            scope={
                "inputs": self._state.meta.get("inputs") or {},
                "outputs": outputs,
                "loop": command.loop_vars or None,
                "metadata": {
                    "run_id": self._run_id,
                    "workflow_id": self._workflow.id,
                    "mode": self._request["mode"],
                    "started_at": self._state.meta.get("started_at"),
                    "timestamp": _now(),
                    "node_id": node.id,
                },
            },
            simulation=(self._request.get("simulation") or {}).get(command.node),
        )

    async def _attempt(
        self,
        key: tuple[str, int, int | None],
        request: dict[str, Any],
        command: p.StartAttempt,
    ) -> None:
        timeout = (
            timedelta(seconds=float(command.timeout_sec) + 60.0)
            if command.timeout_sec is not None
            else _NO_TIMEOUT
        )
        try:
            report: dict[str, Any] = await workflow.execute_activity(
                ACTIVITY_NAME,
                request,
                start_to_close_timeout=timeout,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                # Executor failures come back as data and OSOP's policy retries them;
                # Temporal only hands an attempt whose worker died to another one.
                retry_policy=RetryPolicy(
                    maximum_attempts=WORKER_LOSSES,
                    initial_interval=timedelta(seconds=1),
                    backoff_coefficient=1.0,
                ),
                summary=f"{command.node} attempt {command.attempt}",
            )
        except (ActivityError, asyncio.CancelledError, CancelledError) as exc:
            self._attempts.pop(key, None)
            status = self._abort or "FAILED"
            error: dict[str, Any]
            if self._abort is not None:
                error = dict[str, Any](_ABORT_ERRORS[self._abort])
            else:
                error = {
                    "code": "WORKER_ERROR",
                    "message": f"the attempt could not be run on a worker: {_cause(exc)}",
                    "_retryable": False,
                }
            self._finished(command, status, error, aborted=self._abort is not None)
            return
        self._attempts.pop(key, None)
        subject = report.pop("approved_subject", None)
        if subject:
            self._inbox.append(p.ApprovalUsed(node=command.node, subject=str(subject)))
        report["at"] = _now()
        self._inbox.append(p.event_from_dict(report))

    # -- child runs (sub-workflows, spawned nodes) --------------------------------------

    async def _child_attempt(
        self, key: tuple[str, int, int | None], command: p.StartAttempt
    ) -> None:
        """The node's attempt: start its child run (or take up the one it started), wait.

        It ends when the child run ends (its outputs, or ``CHILD_<STATUS>``), or when
        the child pauses: then the node waits for the child, as locally, and this run
        takes it up again once the child ends or pauses anew.
        """
        began = workflow.time()
        assert self._workflow is not None
        node = self._workflow.node(command.node)
        child = self._children.get(command.resume_child or "")
        try:
            if child is None:
                child = await self._start_child(node, command)
                if child is None:
                    return
            child.parked = False
            seen = child.pauses
            if not (child.done or child.paused):
                await workflow.wait_condition(
                    lambda: child.done or child.pauses > seen, timeout=command.timeout_sec
                )
        except TimeoutError:
            await self._stop_child(child)
            self._attempts.pop(key, None)
            self._finished(
                command,
                "TIMED_OUT",
                {
                    "code": "TIMEOUT",
                    "message": f"node did not finish within {command.timeout_sec:g}s",
                },
                duration_ms=(workflow.time() - began) * 1000,
            )
            return
        except asyncio.CancelledError:
            # The run is aborted (cancel, deadline): the child run stops with it.
            await self._stop_child(child)
            self._attempts.pop(key, None)
            status = self._abort or "CANCELLED"
            self._finished(
                command,
                status,
                dict(_ABORT_ERRORS[status]),
                duration_ms=(workflow.time() - began) * 1000,
                aborted=True,
            )
            return
        self._attempts.pop(key, None)
        duration = (workflow.time() - began) * 1000
        if child.result is None:
            # The child waits for someone: so does this node (its waits are listed).
            child.parked = True
            self._inbox.append(
                p.WaitRequested(
                    node=command.node,
                    attempt=command.attempt,
                    iteration=command.iteration,
                    at=_now(),
                    kind="child",
                    name=child.run_id,
                    prompt=f"child run {child.run_id} is waiting",
                    details=list(child.waiting),
                    settle=False,
                )
            )
            return
        result = child.result
        if result.get("status") == "COMPLETED":
            self._finished(
                command,
                "COMPLETED",
                None,
                duration_ms=duration,
                outputs=dict(result.get("outputs") or {}),
                returned=True,
                child_run_id=child.run_id,
            )
            return
        status = str(result.get("status") or "FAILED")
        self._finished(
            command,
            "FAILED",
            {
                "code": "CHILD_" + status,
                "message": result.get("error") or f"child run {child.run_id} ended {status}",
                "details": {"child_run_id": child.run_id},
                "_retryable": True,
            },
            duration_ms=duration,
        )

    async def _start_child(self, node: Node, command: p.StartAttempt) -> _ChildRun | None:
        """Start the node's child run; None when it cannot be (the attempt is reported)."""
        try:
            request = self._child_request(node, command.inputs)
        except OsopError as exc:
            self._finished(
                command,
                "FAILED",
                {"code": "EXECUTION_ERROR", "message": str(exc), "_retryable": False},
            )
            return None
        except _TooDeep as exc:
            self._finished(
                command,
                "FAILED",
                {"code": "CHILD_TOO_DEEP", "message": str(exc), "_retryable": False},
            )
            return None
        run_id = str(request["run_id"])
        # Journaled before the child exists, as locally.
        self._inbox.append(p.ChildStarted(node=node.id, run_id=run_id))
        child = self._children[run_id] = _ChildRun(run_id=run_id, node=node.id)
        handle = await workflow.start_child_workflow(
            WORKFLOW_NAME,
            request,
            id=run_id,
            task_queue=workflow.info().task_queue,
            # A child run does not outlive its parent's run.
            parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            memo={
                "workflow_id": request["workflow_id"],
                "mode": request["mode"],
                "interpreter": INTERPRETER_VERSION,
                "parent_run_id": self._run_id,
            },
            static_summary=f"{request['workflow_id']} ({request['mode']}), child of {node.id}",
        )
        child.handle = handle
        child.task = asyncio.ensure_future(self._watch_child(child))
        return child

    async def _watch_child(self, child: _ChildRun) -> dict[str, Any]:
        result: dict[str, Any]
        try:
            result = dict(await child.handle)
        except (ChildWorkflowError, asyncio.CancelledError) as exc:
            cancelled = isinstance(exc, asyncio.CancelledError) or isinstance(
                exc.cause, CancelledError
            )
            result = {
                "run_id": child.run_id,
                "status": "CANCELLED" if cancelled else "FAILED",
                "error": None if cancelled else f"child run {child.run_id}: {_cause(exc)}",
            }
        child.result = result
        if child.parked:
            self._child_news = True
        return result

    async def _stop_child(self, child: _ChildRun | None) -> None:
        if child is None or child.task is None or child.done:
            return
        # Asks Temporal to cancel the child run, which closes its own record, and
        # waits for that (the child's record is complete before this one's).
        child.handle.cancel()
        with contextlib.suppress(asyncio.CancelledError, ChildWorkflowError):
            await child.task

    def _child_request(self, node: Node, inputs: dict[str, Any]) -> dict[str, Any]:
        """What the child run is started with: the same request a run is started with."""
        assert self._workflow is not None
        depth = int(self._request.get("depth") or 0)
        if depth >= MAX_CHILD_DEPTH:
            raise _TooDeep(
                f"sub-workflows nest deeper than {MAX_CHILD_DEPTH} levels "
                "(does the workflow import itself?)"
            )
        imports: dict[str, Any] = dict(self._request.get("imports") or {})
        if node.workflow_ref:
            text, hashed, child_imports = child_document(imports, node)
        else:
            text, hashed, child_imports = spawned_document(self._workflow, node, imports)
        child_wf = workflow_from_dict(load_document(text.encode("utf-8"), "workflow.osop").data)
        child_wf = with_workflow_id(child_wf)
        mode = str(self._request["mode"])
        checked = check_inputs(child_wf, dict(inputs), rehearsal=mode != "live")
        refuse_blocked_commands(child_wf, mode)
        run_id = str(workflow.uuid4())
        seed = int(self._request["seed"])
        options = RunOptions(
            mode=mode,  # type: ignore[arg-type]
            inputs=dict(checked),
            seed=seed,
            auto_approve=bool(self._request.get("auto_approve")),
            trigger={"type": "api", "source": "parent-run", "actor": "osop"},
            simulation=dict(self._request.get("simulation") or {}),
        )
        meta = run_meta(
            child_wf,
            options,
            run_id,
            hashed,
            started=datetime.fromtimestamp(workflow.time(), UTC),
            parent=(self._run_id, node.id),
        )
        # The host that runs it is this one's (no process of its own to describe).
        meta["runtime"] = {**dict(self._state.meta.get("runtime") or {}), "seed": seed}
        return {
            "run_id": run_id,
            "workflow_id": child_wf.id,
            "source": text,
            "mode": mode,
            "seed": seed,
            "inputs": dict(checked),
            "answers": {},
            "events": [],
            "auto_approve": options.auto_approve,
            "simulation": dict(options.simulation),
            "meta": meta,
            "imports": child_imports,
            "depth": depth + 1,
        }

    @workflow.signal(name=CHILD_SIGNAL)
    def child_news(self, news: dict[str, Any]) -> None:
        """A child run paused (waits for someone) or went on again."""
        child = self._children.get(str(news.get("run_id")))
        if child is None or child.done:
            return
        child.paused = bool(news.get("paused"))
        if child.paused:
            child.waiting = list(news.get("waiting") or [])
            child.pauses += 1
            if child.parked:
                self._child_news = True  # it waits for something else now

    async def _tell_parent(self, paused: bool) -> None:
        parent = workflow.info().parent
        if parent is None:
            return
        news: dict[str, Any] = {"run_id": self._run_id, "paused": paused}
        if paused:
            news["waiting"] = self._waiting()
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(CHILD_SIGNAL, news)

    async def _abort_running(self, status: str) -> None:
        """Cancel every running attempt (each reports itself aborted), then tell the core."""
        self._abort = status
        running = list(self._attempts.values())
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        self._abort = None  # what runs from now on (compensations) is not aborted
        self._inbox.append(p.Abort(status=status, at=_now()))

    def _start_timer(self, timer_id: str, seconds: float) -> None:
        running = self._timers.pop(timer_id, None)
        if running is not None:
            running.cancel()
        self._timers[timer_id] = asyncio.ensure_future(self._timer(timer_id, seconds))
        self._due[timer_id] = workflow.time() + max(0.0, seconds)

    async def _timer(self, timer_id: str, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
        self._timers.pop(timer_id, None)
        self._due.pop(timer_id, None)
        if timer_id == DEADLINE:
            await self._abort_running("TIMED_OUT")
        else:
            self._inbox.append(p.TimerFired(timer_id=timer_id, at=_now()))

    # -- waiting for people and events ------------------------------------------------

    async def _pause(self) -> None:
        """Nothing moves until a delivery: journal the pause, wait (for days if need be).

        The workflow deadline counts active time only, as locally: its timer stops
        while the run waits for someone and starts again with what was left.  A
        child run the run waits on that ends or pauses anew takes the run up again
        as ``osop resume`` would locally (the waiting nodes start again).
        """
        waiting = self._waiting()
        self._note(Paused(at=_now(), waiting=waiting, active_ms=self._active_ms()))
        self._paused = True
        left: float | None = None
        deadline = self._timers.pop(DEADLINE, None)
        if deadline is not None:
            deadline.cancel()
            left = max(0.0, self._due.pop(DEADLINE, 0.0) - workflow.time())
        await self._tell_parent(paused=True)
        delivered = self._deliveries
        try:
            await workflow.wait_condition(lambda: self._deliveries > delivered or self._child_news)
        except asyncio.CancelledError:
            self._paused = False
            self._resumed()
            self._inbox.append(p.Abort(status="CANCELLED", at=_now()))
            return
        self._paused = False
        self._resumed()
        await self._tell_parent(paused=False)
        if self._child_news:
            # As a resumed session: the core re-seeds its frontier (and the deadline).
            self._child_news = False
            self._inbox.append(p.Begin(at=_now()))
            return
        # The same core goes on: what was delivered moves the waiting nodes on
        # (a new process would re-seed its frontier with Begin; this one has it).
        if left is not None:
            self._start_timer(DEADLINE, left)

    def _resumed(self) -> None:
        self._session_began = workflow.time()
        self._note(Resumed(at=_now()))

    def _waiting(self) -> list[dict[str, Any]]:
        return self._state.waiting(self._run_id)

    def _deliver(self, event: p.EngineEvent) -> None:
        # While paused the delivery is decided after `resumed` and before the new
        # session's frontier, as `osop resume` takes an inbox in.
        self._inbox.append(event)
        self._deliveries += 1

    @workflow.update(name="answer")
    def answer(self, delivery: dict[str, Any]) -> str:
        """A person's answer for a node (``osop approve``); checked first by the validator."""
        node = str(delivery["node"])
        self._deliver(p.AnswerArrived(node=node, answer=dict(delivery["answer"]), at=_now()))
        return node

    @answer.validator
    def _check_answer(self, delivery: dict[str, Any]) -> None:
        if self._state.finished is not None:
            raise ExecutionError(f"run {self._run_id} already ended {self._state.status}")
        assert self._workflow is not None
        node_id = str(delivery.get("node"))
        if not self._workflow.has_node(node_id):
            raise ExecutionError(f"run {self._run_id} has no node {node_id!r}")
        check_answer(
            _NoInbox(self._run_id),  # type: ignore[arg-type]
            self._state,
            self._workflow.node(node_id),
            dict(delivery.get("answer") or {}),
            replace=bool(delivery.get("replace")),
        )

    @workflow.update(name="event")
    def event(self, delivery: dict[str, Any]) -> str:
        """An event or signal (``osop signal``), buffered until something waits for it."""
        self._deliver(
            p.SignalDelivered(
                id=str(delivery["id"]),
                name=delivery.get("name"),
                data=delivery.get("data"),
                at=_now(),
            )
        )
        return str(delivery["id"])

    @event.validator
    def _check_event(self, delivery: dict[str, Any]) -> None:
        if self._state.finished is not None:
            raise ExecutionError(f"run {self._run_id} already ended {self._state.status}")
        if not delivery.get("name"):
            raise ExecutionError("an event needs a name")

    # -- what clients read ------------------------------------------------------------

    @workflow.query(name="record")
    def record(self) -> dict[str, Any]:
        """The run's ``.osoplog`` as it stands (the same document a local run writes)."""
        return build_record(self._state).to_dict()

    @workflow.query(name="source")
    def source(self) -> str:
        """The workflow document the run was started with."""
        return str(self._request.get("source") or "")

    @workflow.query(name="journal")
    def journal(self) -> list[dict[str, Any]]:
        return list(self._entries)

    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        finished = self._state.finished
        status = self._state.status if finished is not None else open_status(self._state)
        return {
            "run_id": self._run_id,
            "workflow_id": self._workflow.id if self._workflow is not None else None,
            "mode": self._request.get("mode"),
            "status": status,
            "paused": self._paused,
            "waiting": self._waiting() if self._paused else [],
            "interpreter": INTERPRETER_VERSION,
            "build": _build(),
            "secret_fingerprints": self._fingerprints,
        }


def _build() -> str | None:
    """The worker build (``deployment.build-id``) running this run now; None if unversioned."""
    version = workflow.info().get_current_deployment_version()
    return version.to_canonical_string() if version is not None else None


def _cause(exc: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 4:
        parts.append(str(seen) or type(seen).__name__)
        seen = seen.__cause__
    return ": ".join(parts)
