"""One node attempt as a Temporal activity: the executor runs on a worker, once.

The interpreter (a Temporal workflow) decides *that* an attempt runs and what it
is given; this activity carries it out with the same executors a local run uses
and reports how it went as plain data.  Temporal's own retries are off: OSOP's
retry policy decides every further attempt, so the record shows one entry per
attempt exactly as a local run's does.

Requests and reports are plain JSON-able mappings (they travel through
Temporal's history), built and read by :func:`attempt_request` and
:func:`run_attempt`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osop.engine.clock import SystemClock, within
from osop.engine.values import Redactor
from osop.errors import MissingReferenceError, OsopError
from osop.executors.approval import APPROVED_SUBJECT
from osop.executors.base import Executor, NodeContext, NodeFailure, NodeResult
from osop.expr.scope import make_scope
from osop.format.workflow import Workflow, workflow_from_dict
from osop.security import SecretStore
from osop.temporal.references import ENV_ACTIVITY_NAME, read_environment, unmark

__all__ = [
    "ACTIVITY_NAME",
    "HEARTBEAT_SEC",
    "AttemptHost",
    "activities_for",
    "attempt_request",
    "node_workflow",
    "run_attempt",
]

#: The activity type name every worker registers (part of the wire contract).
ACTIVITY_NAME = "osop.attempt"
#: How often a running attempt tells Temporal its worker is alive.
HEARTBEAT_SEC = 2.0
_AUTO_APPROVAL = {"decision": "approved", "actor": "--yes"}
#: Node types whose executors evaluate CEL over other nodes' outputs at run time.
_EVALUATING_TYPES = frozenset({"data", "gateway"})


def node_workflow(raw: Mapping[str, Any], node_id: str) -> dict[str, Any]:
    """The workflow as one attempt needs it: its top-level fields and this node only.

    Sending the whole document with every attempt would make a 1,000-node run
    carry a megabyte per step through the cluster's history.
    """
    out = {k: v for k, v in raw.items() if k not in ("nodes", "edges")}
    nodes = raw.get("nodes")
    out["nodes"] = [
        n
        for n in (nodes if isinstance(nodes, list) else [])
        if isinstance(n, Mapping) and n.get("id") == node_id
    ]
    out["edges"] = []
    return out


def attempt_request(
    *,
    run_id: str,
    workflow: Mapping[str, Any],
    node_id: str,
    attempt: int,
    iteration: int | None,
    mode: str,
    runtime: Mapping[str, Any],
    inputs: Mapping[str, Any],
    answer: Mapping[str, Any] | None,
    delivered: Mapping[str, Any] | None,
    timeout_sec: float | None,
    approval: str,
    rehearsal_approves: bool,
    references: Mapping[str, Any],
    scope: Mapping[str, Any],
    simulation: Any = None,
) -> dict[str, Any]:
    """What the workflow hands the activity (everything already resolved)."""
    return {
        "run_id": run_id,
        "workflow": dict(workflow),
        "node": node_id,
        "attempt": attempt,
        "iteration": iteration,
        "mode": mode,
        "runtime": dict(runtime),
        "inputs": dict(inputs),
        "answer": dict(answer) if answer is not None else None,
        "delivered": dict(delivered) if delivered is not None else None,
        "timeout_sec": timeout_sec,
        "approval": approval,
        "rehearsal_approves": rehearsal_approves,
        "references": dict(references),
        "scope": dict(scope),
        "simulation": simulation,
    }


@dataclass
class AttemptHost:
    """What a worker gives every attempt it runs: where, with which environment and services."""

    workdir: Path = field(default_factory=Path.cwd)
    env: Mapping[str, str] | None = None
    #: Where ``${secrets.X}`` comes from on this worker (default: its environment).
    secrets: SecretStore = field(default_factory=SecretStore)
    services: dict[str, Any] = field(default_factory=dict)
    _executors: dict[tuple[str, str], Executor] = field(default_factory=dict)
    _workflows: dict[str, Workflow] = field(default_factory=dict)

    def executor(self, node_type: str, mode: str) -> Executor:
        key = (node_type, mode)
        found = self._executors.get(key)
        if found is None:
            from osop.executors.registry import get_executor

            found = self._executors[key] = get_executor(node_type, mode)  # type: ignore[arg-type]
        return found

    def workflow(self, raw: Mapping[str, Any]) -> Workflow:
        # Parsed once per distinct (workflow, node): a worker runs the same steps often.
        key = json.dumps(raw, sort_keys=True, default=str)
        found = self._workflows.get(key)
        if found is None:
            if len(self._workflows) >= 4096:
                self._workflows.clear()
            found = self._workflows[key] = workflow_from_dict(raw)
        return found


def _context(host: AttemptHost, request: Mapping[str, Any]) -> NodeContext:
    """The executor's context; the secrets the request names are put in here, on the worker."""
    workflow = host.workflow(request["workflow"])
    node = workflow.node(str(request["node"]))
    rehearsal = request["mode"] != "live"
    secrets = host.secrets
    references: Mapping[str, Any] = unmark(
        request.get("references") or {}, secrets, rehearsal=rehearsal
    )
    scope_values: Mapping[str, Any] = request.get("scope") or {}
    inputs = dict(unmark(request.get("inputs") or {}, secrets, rehearsal=rehearsal))
    runtime = dict(unmark(request.get("runtime") or {}, secrets, rehearsal=rehearsal))
    run_inputs = scope_values.get("inputs") or {}
    scope = make_scope(
        own=inputs,
        inputs={**run_inputs, **inputs},
        outputs=scope_values.get("outputs") or {},
        variables=workflow.variables,
        loop=scope_values.get("loop") or None,
        metadata=scope_values.get("metadata") or None,
        rehearsal=rehearsal,
    )

    def resolve(reference: str) -> Any:
        if reference not in references:
            raise MissingReferenceError(reference, "it was not resolved for this attempt")
        return references[reference]

    mode = request["mode"]
    env = dict(os.environ if host.env is None else host.env)
    if mode == "live":
        iteration = request.get("iteration")
        env["OSOP_ATTEMPT"] = f"{request['run_id']}:{node.id}:{request['attempt']}:{iteration or 0}"
    return NodeContext(
        run_id=str(request["run_id"]),
        workflow=workflow,
        node=node,
        attempt=int(request["attempt"]),
        mode=mode,
        runtime=runtime,
        inputs=inputs,
        workdir=host.workdir,
        env=env,
        secret_values=frozenset(secrets.all_values()),
        answer=request.get("answer"),
        delivered=request.get("delivered"),
        iteration=request.get("iteration"),
        timeout_sec=request.get("timeout_sec"),
        interactive=False,
        services={
            "sleep": asyncio.sleep,
            "simulation": request.get("simulation") or {},
            **host.services,
        },
        scope=scope,
        resolve=resolve if references else None,
    )


def _failure(failure: NodeFailure) -> dict[str, Any]:
    out: dict[str, Any] = {"code": failure.code, "message": failure.message}
    if failure.details is not None:
        out["details"] = failure.details
    return out


def _finished(
    status: str,
    started: float,
    ctx: NodeContext,
    *,
    result: NodeResult | None = None,
    error: Mapping[str, Any] | None = None,
    retryable: bool = True,
    outputs: Mapping[str, Any] | None = None,
    rejected: bool = False,
) -> dict[str, Any]:
    """An ``attempt_finished`` event (:class:`osop.engine.protocol.AttemptFinished`) without ``at``."""
    report: dict[str, Any] = {
        "type": "attempt_finished",
        "node": ctx.node.id,
        "attempt": ctx.attempt,
        "iteration": ctx.iteration,
        "status": status,
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
        "outputs": dict(result.outputs if result is not None else (outputs or {})) or None,
        "error": None,
        "returned": result is not None,
        "rejected": rejected,
        "approved_subject": ctx.approved_subject,
    }
    if error is not None:
        report["error"] = {**error, "_retryable": retryable}
    if result is not None:
        report.update(
            outputs=dict(result.outputs),
            ai_metadata=result.ai_metadata,
            human_metadata=result.human_metadata,
            tools_used=list(result.tools_used),
            cost_usd=result.cost_usd,
            children=list(result.children),
        )
    return report


def _wait(ctx: NodeContext, kind: str, name: str, prompt: str | None) -> dict[str, Any]:
    """A ``wait_requested`` event (:class:`osop.engine.protocol.WaitRequested`) without ``at``."""
    return {
        "type": "wait_requested",
        "node": ctx.node.id,
        "attempt": ctx.attempt,
        "iteration": ctx.iteration,
        "kind": kind,
        "name": name,
        "prompt": prompt,
        "approved_subject": ctx.approved_subject,
    }


async def run_attempt(host: AttemptHost, request: Mapping[str, Any]) -> dict[str, Any]:
    """Invoke the node's executor for one attempt (until it ends or must wait); a report.

    Mirrors the local host: a ``NEEDS_APPROVAL`` failure waits, proceeds or is
    rejected as ``request["approval"]`` says; the node's ``timeout_sec`` cancels
    the executor (which kills what it started) and the attempt is TIMED_OUT.
    """
    started = time.monotonic()
    try:
        ctx = _context(host, request)
    except MissingReferenceError as exc:
        return _unresolved(request, started, exc)
    report = await _carry_out(host, ctx, request, started)
    # Whatever the step saw of a secret is masked before it enters the history.
    redact = Redactor(ctx.secret_values)
    for key in _REPORTED_VALUES:
        if report.get(key) is not None:
            report[key] = redact(report[key])
    return report


#: Report fields that may hold what a step printed or returned.
_REPORTED_VALUES = (
    "outputs", "error", "ai_metadata", "human_metadata", "tools_used", "children", "prompt",
    "approved_subject",
)  # fmt: skip


def _unresolved(
    request: Mapping[str, Any], started: float, exc: MissingReferenceError
) -> dict[str, Any]:
    """A secret this worker does not have: the attempt fails, as an unresolved reference."""
    return {
        "type": "attempt_finished",
        "node": str(request["node"]),
        "attempt": int(request["attempt"]),
        "iteration": request.get("iteration"),
        "status": "FAILED",
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
        "outputs": None,
        "error": {"code": "MISSING_REFERENCE", "message": str(exc), "_retryable": False},
        "returned": False,
        "rejected": False,
        "approved_subject": None,
    }


async def _carry_out(
    host: AttemptHost, ctx: NodeContext, request: Mapping[str, Any], started: float
) -> dict[str, Any]:
    node = ctx.node
    executor = host.executor(node.type, ctx.mode)
    approval = str(request.get("approval") or "ok")
    rehearsal_approves = bool(request.get("rehearsal_approves"))
    answer = dict(ctx.answer) if ctx.answer is not None else None
    while True:
        try:
            work = executor.execute(ctx)
            if ctx.timeout_sec is None:
                result = await work
            else:
                result = await within(SystemClock(), ctx.timeout_sec, work)
        except NodeFailure as failure:
            if failure.code == "NEEDS_APPROVAL" and ctx.answer and APPROVED_SUBJECT in ctx.answer:
                # The answer approved another command: this one needs its own approval.
                if rehearsal_approves:
                    ctx.answer = dict(_AUTO_APPROVAL)
                    continue
                return _wait(ctx, "approval", node.id, failure.message)
            if failure.code == "NEEDS_APPROVAL" and not (ctx.answer or {}).get("approved"):
                if approval == "wait":
                    return _wait(ctx, "approval", node.id, failure.message)
                if approval == "rejected":
                    return _finished("FAILED", started, ctx, rejected=True)
                ctx.answer = {"approved": True, **(answer or _AUTO_APPROVAL)}
                continue
            return _finished(
                "FAILED",
                started,
                ctx,
                error=_failure(failure),
                retryable=failure.retryable,
                outputs=failure.outputs or None,
            )
        except TimeoutError:
            return _finished(
                "TIMED_OUT",
                started,
                ctx,
                error={
                    "code": "TIMEOUT",
                    "message": f"node did not finish within {ctx.timeout_sec:g}s",
                },
            )
        except OsopError as exc:
            return _finished(
                "FAILED",
                started,
                ctx,
                error={"code": "EXECUTION_ERROR", "message": str(exc)},
                retryable=False,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken executor: recorded, the run goes on
            return _finished(
                "FAILED",
                started,
                ctx,
                error={"code": "EXECUTOR_ERROR", "message": f"{type(exc).__name__}: {exc}"},
                retryable=False,
            )
        if result.wait is not None:
            wait = result.wait
            return _wait(ctx, wait.kind, wait.name, wait.prompt)
        return _finished("COMPLETED", started, ctx, result=result)


def activities_for(host: AttemptHost) -> list[Any]:
    """The Temporal activities of a worker: one node attempt (heartbeating, so a dead
    worker is noticed within seconds), and the environment a starting run reads."""
    from temporalio import activity

    @activity.defn(name=ACTIVITY_NAME)
    async def attempt(request: dict[str, Any]) -> dict[str, Any]:
        beat = asyncio.ensure_future(_heartbeat())
        try:
            return await run_attempt(host, request)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    @activity.defn(name=ENV_ACTIVITY_NAME)
    async def environment(names: list[str]) -> dict[str, str]:
        return read_environment(names, os.environ if host.env is None else host.env)

    return [attempt, environment]


async def _heartbeat() -> None:
    from temporalio import activity

    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_SEC)
