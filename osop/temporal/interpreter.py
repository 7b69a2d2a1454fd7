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
from collections import deque
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from osop.engine import protocol as p
    from osop.engine.answers import check_answer
    from osop.engine.clock import iso
    from osop.engine.core import DEADLINE, Core, CoreSettings
    from osop.engine.entries import Entry, Finished, Paused, Resumed, Run
    from osop.engine.recording import build_record, open_status
    from osop.engine.state import RunState
    from osop.engine.values import Redactor
    from osop.errors import ExecutionError, OsopError
    from osop.expr.interpolate import find_references
    from osop.format.loader import load_document
    from osop.format.workflow import Workflow, workflow_from_dict
    from osop.security import SecretStore
    from osop.temporal.attempts import (
        ACTIVITY_NAME,
        HEARTBEAT_SEC,
        attempt_request,
        node_workflow,
    )
    from osop.temporal.references import ENV_ACTIVITY_NAME, SecretMarkers, env_names

__all__ = ["INTERPRETER_VERSION", "WORKFLOW_NAME", "RunWorkflow"]

#: The workflow type every worker registers (part of the wire contract).
WORKFLOW_NAME = "osop.run"
#: Shown in the worker's health line and in each run's memo; bump with the core.
INTERPRETER_VERSION = 2
#: Patches (``workflow.patched``): what runs started by an older interpreter did not do.
PATCH_SECRETS = "osop-2-secrets-on-workers"
PATCH_ENV = "osop-2-env-snapshot"
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
            env=await self._environment(wf),
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
        return {"run_id": self._run_id, "status": status}

    async def _environment(self, wf: Workflow) -> dict[str, str]:
        """The values of the variables the workflow names, read once by a worker.

        Locally ``${env.X}`` reads the environment of the process that runs the
        steps; here that is a worker, and an activity keeps what it read in the
        history, so that every replay of the run decides the same.
        """
        names = env_names(wf.raw)
        if not names or not workflow.patched(PATCH_ENV):
            return {}
        found: dict[str, str] = await workflow.execute_activity(
            ENV_ACTIVITY_NAME,
            names,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=WORKER_LOSSES),
            summary="environment",
        )
        return dict(found)

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
            self._inbox.append(
                p.AttemptFinished(
                    node=command.node,
                    attempt=command.attempt,
                    iteration=command.iteration,
                    at=_now(),
                    status="FAILED",
                    duration_ms=0.0,
                    error={
                        "code": "NO_CHILD_RUNS",
                        "message": "sub-workflows and spawned runs do not run on Temporal yet",
                        "_retryable": False,
                    },
                )
            )
            return
        request = self._attempt_request(command, answer, delivered)
        self._attempts[key] = asyncio.ensure_future(self._attempt(key, request, command))

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
            self._inbox.append(
                p.AttemptFinished(
                    node=command.node,
                    attempt=command.attempt,
                    iteration=command.iteration,
                    at=_now(),
                    status=status,
                    duration_ms=0.0,
                    error=error,
                    aborted=self._abort is not None,
                )
            )
            return
        self._attempts.pop(key, None)
        subject = report.pop("approved_subject", None)
        if subject:
            self._inbox.append(p.ApprovalUsed(node=command.node, subject=str(subject)))
        report["at"] = _now()
        self._inbox.append(p.event_from_dict(report))

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
        while the run waits for someone and starts again with what was left.
        """
        waiting = self._waiting()
        self._note(Paused(at=_now(), waiting=waiting, active_ms=self._active_ms()))
        self._paused = True
        left: float | None = None
        deadline = self._timers.pop(DEADLINE, None)
        if deadline is not None:
            deadline.cancel()
            left = max(0.0, self._due.pop(DEADLINE, 0.0) - workflow.time())
        delivered = self._deliveries
        try:
            await workflow.wait_condition(lambda: self._deliveries > delivered)
        except asyncio.CancelledError:
            self._paused = False
            self._resumed()
            self._inbox.append(p.Abort(status="CANCELLED", at=_now()))
            return
        # The same core goes on: what was delivered moves the waiting nodes on
        # (a new process would re-seed its frontier with Begin; this one has it).
        self._paused = False
        self._resumed()
        if left is not None:
            self._start_timer(DEADLINE, left)

    def _resumed(self) -> None:
        self._session_began = workflow.time()
        self._note(Resumed(at=_now()))

    def _waiting(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for nid, wait in self._state.waits.items():
            out.append(
                {
                    "node": nid,
                    "kind": wait.get("kind"),
                    "name": wait.get("name"),
                    "prompt": wait.get("prompt"),
                    "run_id": self._run_id,
                }
            )
        for slot, wait in self._state.edge_waits.items():
            out.append(
                {"node": slot[1], "kind": "event", "name": wait.get("name"), "run_id": self._run_id}
            )
        return out

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
        }


def _cause(exc: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 4:
        parts.append(str(seen) or type(seen).__name__)
        seen = seen.__cause__
    return ": ".join(parts)
