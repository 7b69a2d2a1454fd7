"""Guided runs: the engine decides, the caller acts (binding §2, §5).

A guided run is an ordinary run whose steps are carried out by its caller (an
AI agent, a script, a person at a terminal) instead of by executors.  Each
step the run reaches is *handed out*: the node's attempt pauses with a wait of
kind ``caller`` (durable in the journal, like a wait for a person), and
:func:`ready_steps` describes it — purpose, explain, resolved inputs and
runtime (secrets as references), declared outputs, criteria, approvals,
handoff, attempt and time left.  The caller reports what it did
(:func:`report_step`, ``osop log``); the report is checked, journaled, and the
attempt resumes in-process with it, so it takes the executor's path: retries,
timeouts, contracts, success criteria, edges, the record.

What stays with the engine: ``gateway`` and ``data`` nodes (pure: routing and
transforms; :data:`ENGINE_TYPES`), sub-workflow and spawned nodes (child runs,
executed), approvals (``osop approve``) and events (``osop signal``).  A caller
may also have the engine execute a handed-out step with its executor
(:func:`execute_step`, ``osop step RUN NODE --execute``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from osop.engine.clock import Clock, SystemClock, iso
from osop.engine.contracts import DataChecks
from osop.engine.options import ExecutorFactory, RunOptions, RunResult
from osop.engine.scheduler import CALLER_WAIT
from osop.engine.state import FINAL_STATUSES, RunState
from osop.engine.store import RunHandle, RunStore
from osop.errors import ExecutionError, OsopError
from osop.executors.base import Executor, NodeContext, NodeFailure, NodeResult, RunMode, WaitRequest
from osop.format.ports import ports_of
from osop.format.workflow import Node, Workflow
from osop.record.model import parse_timestamp

__all__ = [
    "ENGINE_TYPES",
    "REPORT_STATUSES",
    "CallerExecutor",
    "GuidedView",
    "caller_executors",
    "check_report",
    "execute_step",
    "guided_steps",
    "ready_steps",
    "report_step",
    "start_guided",
]

#: Node types the engine evaluates itself in a guided run (pure: no side effects).
ENGINE_TYPES: Final = frozenset({"gateway", "data"})
#: What a caller may report a step ended with (a timeout is the engine's to decide).
REPORT_STATUSES: Final = ("COMPLETED", "FAILED")
#: Node types whose ``runtime.command`` a caller runs in a shell (classified first).
_COMMAND_TYPES: Final = frozenset({"cli", "cicd", "git", "docker", "infra", "system"})
#: Fields a report may carry.
_REPORT_KEYS: Final = frozenset(
    {
        "status",
        "outputs",
        "error",
        "tool_calls",
        "tools_used",
        "ai_metadata",
        "human_metadata",
        "attempt",
        "execute",
        "reported_at",
    }
)


class _SecretReferences:
    """What ``${secrets.X}`` resolves to in a step shown to a caller: the reference."""

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(())

    def get(self, name: str) -> str:
        return "${secrets." + name + "}"


# -- the executor side: a step handed to the caller ---------------------------------------


class CallerExecutor:
    """Hands a node's attempt to the caller and turns the caller's report into its result."""

    def __init__(self, node_type: str, mode: RunMode, base: ExecutorFactory) -> None:
        self.node_type = node_type
        self.mode = mode
        self._base = base

    async def execute(self, ctx: NodeContext) -> NodeResult:
        clock: Clock = ctx.services.get("clock") or SystemClock()
        handed_out = _handed_out_at(ctx, clock)
        report = ctx.delivered
        _check_deadline(ctx, handed_out, report, clock)
        if ctx.mode == "live":  # a rehearsal runs nothing: its simulator classifies nothing
            _enforce_security(ctx)  # a dangerous step is handed out only once approved
        if ctx.services.get("compensating"):
            # The run failed: its saga undo is the engine's, not a step to hand out.
            return await self._base(self.node_type, self.mode).execute(ctx)
        if report is not None and report.get("execute"):
            ctx.delivered = None
            return await self._base(self.node_type, self.mode).execute(ctx)
        if report is None:
            return NodeResult(
                wait=WaitRequest(
                    kind=CALLER_WAIT,
                    name=ctx.node.id,
                    prompt=ctx.node.purpose or ctx.node.label,
                    details=_handout(ctx, handed_out),
                )
            )
        return _result_of(ctx.node, report)


def caller_executors(base: ExecutorFactory | None = None) -> ExecutorFactory:
    """An executor factory for a guided run: the caller carries out every node type
    but :data:`ENGINE_TYPES`, which ``base`` (default: the registry) executes."""
    if base is None:
        from osop.executors.registry import get_executor

        base = get_executor
    real: ExecutorFactory = base

    def factory(node_type: str, mode: RunMode) -> Executor:
        if node_type in ENGINE_TYPES:
            return real(node_type, mode)
        return CallerExecutor(node_type, mode, real)

    return factory


def _handed_out_at(ctx: NodeContext, clock: Clock) -> datetime:
    """When this attempt was first handed out (its time limit counts from then)."""
    pending = ctx.services.get("waiting")
    if (
        isinstance(pending, Mapping)
        and pending.get("kind") == CALLER_WAIT
        and pending.get("attempt") == ctx.attempt
    ):
        details = pending.get("details")
        if isinstance(details, Mapping):
            when = parse_timestamp(details.get("handed_out_at"))
            if when is not None:
                return when
    return clock.now()


def _check_deadline(
    ctx: NodeContext, handed_out: datetime, report: Mapping[str, Any] | None, clock: Clock
) -> None:
    """A step not reported within the node's ``timeout_sec`` of being handed out timed out."""
    if ctx.timeout_sec is None:
        return
    at = parse_timestamp((report or {}).get("reported_at")) if report else None
    now = at or clock.now()
    if (now - handed_out).total_seconds() > ctx.timeout_sec:
        raise TimeoutError


def _enforce_security(ctx: NodeContext) -> None:
    """Binding §9.2 for a step the caller runs: classify its command (or SQL) first."""
    from osop.executors.approval import enforce, subject_of
    from osop.security import classify_command, classify_sql

    rt = ctx.runtime
    if ctx.node.type in _COMMAND_TYPES:
        command = rt.get("command", rt.get("script", rt.get("cmd")))
        if isinstance(command, str | list) and command:
            text = command if isinstance(command, str) else [str(w) for w in command]
            enforce(ctx, classify_command(text), "command", subject_of("command", text))
    elif ctx.node.type == "db":
        sql = rt.get("query", rt.get("sql", rt.get("script")))
        if isinstance(sql, str) and sql.strip():
            enforce(ctx, classify_sql(sql), "SQL", subject_of("SQL", sql))


def _handout(ctx: NodeContext, handed_out: datetime) -> dict[str, Any]:
    """What the wait journals about the step: the parts only the run can resolve."""
    from osop.security import Redactor

    runtime: Any = ctx.runtime
    if ctx.scope is not None:
        try:
            runtime = ctx.scope.with_secrets(_SecretReferences()).interpolate(ctx.node.runtime)
        except OsopError:
            runtime = ctx.runtime
    redact = Redactor(ctx.secret_values)
    details: dict[str, Any] = {"handed_out_at": iso(handed_out), "runtime": redact(runtime)}
    if ctx.inputs:
        details["inputs"] = redact(dict(ctx.inputs))
    return details


def _result_of(node: Node, report: Mapping[str, Any]) -> NodeResult:
    """The caller's report as an executor's result (a FAILED report raises, like one)."""
    outputs = dict(report.get("outputs") or {})
    if report.get("status") == "FAILED":
        error = report.get("error") or {}
        raise NodeFailure(
            str(error.get("code") or "CALLER_FAILED"),
            str(error.get("message") or f"the caller reported step {node.id!r} failed"),
            details=error.get("details"),
            outputs=outputs or None,
        )
    ai = dict(report.get("ai_metadata") or {}) or None
    cost = None
    if ai is not None:
        cost = ai.get("cost_usd")
        if cost is None and ai.get("model"):
            from osop.llm.prices import cost_usd

            cost = cost_usd(
                str(ai["model"]),
                int(ai.get("prompt_tokens") or 0),
                int(ai.get("completion_tokens") or 0),
            )
            if cost is not None:
                ai["cost_usd"] = cost
    return NodeResult(
        outputs=outputs,
        ai_metadata=ai,
        human_metadata=dict(report.get("human_metadata") or {}) or None,
        tools_used=[dict(t) for t in report.get("tools_used") or ()],
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
    )


# -- what the caller is told ----------------------------------------------------------------


@dataclass
class GuidedView:
    """Where a guided run stands, for its caller: what to do next."""

    run_id: str
    status: str
    paused: bool
    #: Steps handed out to the caller, described (see :func:`describe_step`).
    ready: list[dict[str, Any]] = field(default_factory=list)
    #: What else the run waits for (approvals, people, events), with how to deliver it.
    waiting: list[dict[str, Any]] = field(default_factory=list)
    record_path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        from osop.engine.options import EXIT_FAILED, EXIT_OK, EXIT_PAUSED

        if self.paused:
            return EXIT_PAUSED
        return EXIT_OK if self.status == "COMPLETED" else EXIT_FAILED

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "status": "PAUSED" if self.paused else self.status,
            "ready": self.ready,
            "waiting": self.waiting,
        }
        if self.record_path:
            out["record"] = self.record_path
        if self.notes:
            out["notes"] = self.notes
        return out


def ready_steps(
    workflow: Workflow, state: RunState, *, clock: Clock | None = None
) -> list[dict[str, Any]]:
    """Every step of the run handed out to its caller and not yet reported, described."""
    now = (clock or SystemClock()).now()
    steps = []
    for nid, wait in state.waits.items():
        if wait.get("kind") == CALLER_WAIT and workflow.has_node(nid):
            steps.append(describe_step(workflow, state, workflow.node(nid), wait, now))
    return steps


def describe_step(
    workflow: Workflow, state: RunState, node: Node, wait: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Everything an agent needs to carry out one handed-out step, and nothing it doesn't."""
    details = wait.get("details") if isinstance(wait.get("details"), Mapping) else {}
    assert isinstance(details, Mapping)
    attempt = int(wait.get("attempt") or 1)
    step: dict[str, Any] = {"node_id": node.id, "type": node.type, "name": node.label}
    if node.purpose:
        step["purpose"] = node.purpose
    if node.description:
        step["description"] = node.description
    if node.explain:
        step["explain"] = node.explain
    if node.role:
        step["role"] = node.role
    inputs = {**_declared_inputs(workflow, state, node), **(details.get("inputs") or {})}
    if inputs:
        step["inputs"] = inputs
    if details.get("runtime"):
        step["runtime"] = details["runtime"]
    outputs = _declared_outputs(node)
    if outputs:
        step["outputs"] = outputs
    if node.success_criteria:
        step["success_criteria"] = list(node.success_criteria)
    security = _security_notes(node, state)
    if security:
        step["security"] = security
    handoff = _handoff_to(workflow, state, node)
    if handoff:
        step["handoff"] = handoff
    policy = node.retry or workflow.retry
    step["attempt"] = attempt
    step["max_attempts"] = policy.max_attempts if policy is not None else 1
    if wait.get("iteration") is not None:
        step["iteration"] = wait["iteration"]
    handed = parse_timestamp(details.get("handed_out_at"))
    if handed is not None:
        step["handed_out_at"] = iso(handed)
    if node.timeout_sec is not None:
        step["timeout_sec"] = node.timeout_sec
        if handed is not None:
            left = node.timeout_sec - (now - handed).total_seconds()
            step["time_left_sec"] = round(max(0.0, left), 3)
    step["report"] = _how_to_report(node, outputs)
    return step


def _declared_inputs(workflow: Workflow, state: RunState, node: Node) -> dict[str, Any]:
    """Binding §8.1: a declared input takes the output of the same name of the latest
    completed step (not of a step classified above this one), else the run's input."""
    from osop.engine.values import classification_level

    found: dict[str, Any] = {}
    names = [p.name for p in ports_of(node.inputs, node.pointer, required_by_default=False)]
    if not names:
        return found
    level = classification_level(node.classification)
    run_inputs = state.meta.get("inputs") or {}
    for name in names:
        for source in reversed(state.completion_order):
            if not workflow.has_node(source):
                continue
            if classification_level(workflow.node(source).classification) > level:
                continue
            outputs = state.node(source).outputs
            if name in outputs:
                found[name] = outputs[name]
                break
        else:
            if name in run_inputs:
                found[name] = run_inputs[name]
    return found


def _declared_outputs(node: Node) -> list[dict[str, Any]]:
    """The outputs the caller must report: name, type/schema, whether required."""
    out = []
    for port in ports_of(node.outputs, node.pointer, required_by_default=True):
        item: dict[str, Any] = {"name": port.name, "required": port.required}
        if isinstance(port.schema, Mapping) and port.schema:
            item["schema"] = dict(port.schema)
        described = _port_description(node.outputs, port.name)
        if described:
            item["description"] = described
        out.append(item)
    return out


def _port_description(spec: Any, name: str) -> str | None:
    items: list[Any] = []
    if isinstance(spec, list):
        items = [i for i in spec if isinstance(i, Mapping) and i.get("name") == name]
    elif isinstance(spec, Mapping) and isinstance(spec.get(name), Mapping):
        items = [spec[name]]
    for item in items:
        text = item.get("description")
        if isinstance(text, str):
            return text
    return None


def _security_notes(node: Node, state: RunState) -> dict[str, Any]:
    notes: dict[str, Any] = {}
    if node.requires_approval:
        notes["approval_gate"] = dict(node.approval_gate)
    answer = state.answers.get(node.id)
    if answer is not None:
        notes["approved_by"] = {
            k: answer[k] for k in ("actor", "decision", "answered_at") if k in answer
        }
    if node.security:
        notes.update({k: v for k, v in node.security.items() if k != "pre_approved"})
    if node.classification:
        notes["classification"] = node.classification
    return notes


def _handoff_to(workflow: Workflow, state: RunState, node: Node) -> list[dict[str, Any]]:
    """Binding §8.2: what the nearest completed steps before this one hand to it
    (through steps without a ``handoff``, such as a gateway the engine evaluated)."""
    incoming: dict[str, list[str]] = {}
    for edge in workflow.edges:
        incoming.setdefault(edge.target, []).append(edge.source)
    out = []
    seen = {node.id}
    frontier = list(incoming.get(node.id, ()))
    while frontier:
        nid = frontier.pop(0)
        if nid in seen or not workflow.has_node(nid):
            continue
        seen.add(nid)
        if state.node(nid).status != "COMPLETED":
            continue
        source = workflow.node(nid)
        if not source.handoff:
            frontier.extend(incoming.get(nid, ()))
            continue
        item: dict[str, Any] = {"from": nid, **source.handoff}
        if state.node(nid).outputs:
            item["outputs"] = state.node(nid).outputs
        out.append(item)
    return out


def _how_to_report(node: Node, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": list(REPORT_STATUSES),
        "outputs": [o["name"] for o in outputs if o["required"]],
        "optional_outputs": [o["name"] for o in outputs if not o["required"]],
    }


def _waiting_others(state: RunState, run_id: str) -> list[dict[str, Any]]:
    """What the run waits for besides its caller's steps, and how to deliver it."""
    out: list[dict[str, Any]] = []
    short = run_id[:8]
    for nid, wait in state.waits.items():
        kind = wait.get("kind")
        if kind == CALLER_WAIT:
            continue
        item = {"node_id": nid, "kind": kind, "name": wait.get("name")}
        if wait.get("prompt"):
            item["prompt"] = wait["prompt"]
        if kind in ("human", "approval"):
            item["deliver"] = f"osop approve {short} {nid} --decision approved|rejected"
        elif kind in ("event", "signal"):
            item["deliver"] = f"osop signal {short} {wait.get('name')}"
        out.append(item)
    for slot, wait in state.edge_waits.items():
        out.append(
            {
                "node_id": slot[1],
                "kind": "event",
                "name": wait.get("name"),
                "deliver": f"osop signal {short} {wait.get('name')}",
            }
        )
    return out


def _view(handle: RunHandle, clock: Clock | None, notes: list[str] | None = None) -> GuidedView:
    from osop.engine.runner import load_run_state, run_workflow

    state = load_run_state(handle)
    workflow = run_workflow(handle)
    paused = state.finished is None and state.paused is not None
    status = state.status if state.finished is not None else "RUNNING"
    return GuidedView(
        run_id=handle.run_id,
        status=status,
        paused=paused,
        ready=ready_steps(workflow, state, clock=clock) if state.finished is None else [],
        waiting=_waiting_others(state, handle.run_id) if state.finished is None else [],
        record_path=str(handle.record_path),
        notes=list(notes or []),
    )


# -- checking a report -------------------------------------------------------------------


def check_report(
    workflow: Workflow, state: RunState, run_id: str, node_id: str, report: Mapping[str, Any]
) -> dict[str, Any]:
    """The report, normalised; :class:`ExecutionError` saying what is wrong when refused.

    Refused: a node the workflow lacks or that was not handed out (not ready,
    waiting for something else, already ended), an attempt other than the one
    handed out (a second report for the same attempt), a status other than
    COMPLETED/FAILED, outputs missing a declared output or of the wrong type
    (node ``outputs`` and edge contracts), malformed tool calls or metadata.
    """
    run = run_id[:8]
    if state.finished is not None:
        raise ExecutionError(f"run {run_id} already ended {state.status}")
    if not workflow.has_node(node_id):
        known = ", ".join(n.id for n in workflow.nodes)
        raise ExecutionError(f"run {run} has no node {node_id!r} (nodes: {known})")
    unknown = sorted(set(report) - _REPORT_KEYS)
    if unknown:
        raise ExecutionError(
            f"report for {node_id!r}: unknown field(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(_REPORT_KEYS - {'reported_at'}))})"
        )
    wait = state.waits.get(node_id)
    handed = [nid for nid, w in state.waits.items() if w.get("kind") == CALLER_WAIT]
    ready_list = ", ".join(sorted(handed)) or "none"
    node_state = state.nodes.get(node_id)
    if wait is None or wait.get("kind") != CALLER_WAIT:
        if wait is not None:
            raise ExecutionError(
                f"step {node_id!r} of run {run} is not handed out: it waits for "
                f"{wait.get('kind')} {wait.get('name')!r} first (ready steps: {ready_list})"
            )
        if node_state is not None and node_state.status in FINAL_STATUSES:
            raise ExecutionError(
                f"step {node_id!r} of run {run} already ended {node_state.status}; "
                f"nothing was changed (ready steps: {ready_list})"
            )
        raise ExecutionError(
            f"step {node_id!r} of run {run} is not ready (ready steps: {ready_list})"
        )
    handed_attempt = int(wait.get("attempt") or 1)
    attempt = report.get("attempt")
    if attempt is not None:
        if not isinstance(attempt, int) or isinstance(attempt, bool):
            raise ExecutionError(f"report for {node_id!r}: attempt must be an integer")
        if attempt < handed_attempt:
            raise ExecutionError(
                f"attempt {attempt} of step {node_id!r} was already reported; "
                f"attempt {handed_attempt} is handed out now"
            )
        if attempt != handed_attempt:
            raise ExecutionError(
                f"attempt {attempt} of step {node_id!r} was not handed out "
                f"(attempt {handed_attempt} is)"
            )
    if node_id in state.reports:
        raise ExecutionError(
            f"attempt {handed_attempt} of step {node_id!r} was already reported; "
            "`osop resume` takes that report in"
        )
    out: dict[str, Any] = {"attempt": handed_attempt}
    if report.get("execute"):
        out["execute"] = True
        return out
    status = report.get("status")
    if status not in REPORT_STATUSES:
        raise ExecutionError(
            f"report for {node_id!r}: status {status!r} does not exist for a report "
            f"(use {' or '.join(REPORT_STATUSES)}; a timeout is decided by the engine)"
        )
    out["status"] = status
    outputs = report.get("outputs")
    if outputs is None:
        outputs = {}
    if not isinstance(outputs, Mapping):
        raise ExecutionError(f"report for {node_id!r}: outputs must be an object (name → value)")
    out["outputs"] = {str(k): v for k, v in outputs.items()}
    node = workflow.node(node_id)
    if status == "COMPLETED":
        _check_outputs(workflow, node, out["outputs"])
    error = report.get("error")
    if error is not None:
        if isinstance(error, str):
            error = {"message": error}
        if not isinstance(error, Mapping):
            raise ExecutionError(
                f"report for {node_id!r}: error must be an object {{code, message}}"
            )
        out["error"] = {k: error[k] for k in ("code", "message", "details") if k in error}
    tools = report.get("tools_used", report.get("tool_calls"))
    if tools is not None:
        out["tools_used"] = _tools(node_id, tools)
    for key in ("ai_metadata", "human_metadata"):
        value = report.get(key)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise ExecutionError(f"report for {node_id!r}: {key} must be an object")
        out[key] = dict(value)
    ai = out.get("ai_metadata") or {}
    for key in ("prompt_tokens", "completion_tokens"):
        if key in ai and (not isinstance(ai[key], int) or isinstance(ai[key], bool) or ai[key] < 0):
            raise ExecutionError(
                f"report for {node_id!r}: ai_metadata.{key} must be a whole number >= 0"
            )
    return out


def _check_outputs(workflow: Workflow, node: Node, outputs: Mapping[str, Any]) -> None:
    missing = [
        p.name
        for p in ports_of(node.outputs, node.pointer, required_by_default=True)
        if p.required and p.name not in outputs
    ]
    if missing:
        raise ExecutionError(
            f"report for {node.id!r}: declared output(s) missing: {', '.join(missing)} "
            "(report them, or declare them required: false)"
        )
    problem = DataChecks(workflow).violation(node.id, outputs)
    if problem is not None:
        raise ExecutionError(f"report for {node.id!r}: {problem}")


def _tools(node_id: str, tools: Any) -> list[dict[str, Any]]:
    """``{name: calls}`` or ``[{tool, calls}]`` → ``tools_used`` entries."""
    items: list[tuple[Any, Any]]
    if isinstance(tools, Mapping):
        items = list(tools.items())
    elif isinstance(tools, list):
        items = []
        for entry in tools:
            if not isinstance(entry, Mapping) or not entry.get("tool", entry.get("name")):
                raise ExecutionError(
                    f"report for {node_id!r}: each tool call needs a tool name ({{tool, calls}})"
                )
            items.append((entry.get("tool", entry.get("name")), entry.get("calls", 1)))
    else:
        raise ExecutionError(
            f"report for {node_id!r}: tool_calls must be {{name: calls}} or [{{tool, calls}}]"
        )
    out = []
    for name, calls in items:
        if not isinstance(calls, int) or isinstance(calls, bool) or calls < 0:
            raise ExecutionError(
                f"report for {node_id!r}: calls of tool {name!r} must be a whole number >= 0"
            )
        out.append({"tool": str(name), "calls": calls})
    return out


# -- the verbs ----------------------------------------------------------------------------


async def start_guided(
    workflow: Workflow,
    *,
    source: bytes | None = None,
    workflow_path: Path | None = None,
    store: RunStore,
    options: RunOptions | None = None,
    run_id: str | None = None,
) -> GuidedView:
    """Start a guided run; returns the steps handed out first (the run pauses for them)."""
    from osop.engine.runner import start_run

    options = replace(options or RunOptions(), guided=True)
    if options.mode == "dry_run":
        raise ExecutionError("a guided run is live or simulated: a dry run carries out nothing")
    result = await start_run(
        workflow,
        source=source,
        workflow_path=workflow_path,
        store=store,
        options=options,
        run_id=run_id,
    )
    return _result_view(result, store, options.clock)


def _result_view(result: RunResult, store: RunStore, clock: Clock | None) -> GuidedView:
    handle = result.handle or store.get(result.run_id)
    return _view(handle, clock, result.notes)


def _guided_handle(store: RunStore, run_id: str) -> tuple[RunHandle, RunState]:
    from osop.engine.runner import load_run_state

    handle = store.get(run_id)
    state = load_run_state(handle)
    if not state.meta.get("guided"):
        raise ExecutionError(
            f"run {handle.run_id} is not a guided run (start one with `osop run WF --guided`)"
        )
    return handle, state


def _needs_session(handle: RunHandle, state: RunState, workflow: Workflow, clock: Clock) -> bool:
    """Whether asking must first move the run: a deadline passed, something was
    delivered (an approval, an event), or the process running it died."""
    if state.finished is not None:
        return False
    if state.paused is None:
        return handle.owner_pid() is None  # interrupted: resume continues it
    if any(item["id"] not in state.inbox_seen for item in handle.read_inbox()):
        return True
    now = clock.now()
    for step in ready_steps(workflow, state, clock=clock):
        if step.get("timeout_sec") is not None and step.get("time_left_sec") == 0:
            handed = parse_timestamp(step.get("handed_out_at"))
            if handed is not None and (now - handed).total_seconds() > step["timeout_sec"]:
                return True
    return False


async def guided_steps(
    run_id: str, *, store: RunStore, options: RunOptions | None = None
) -> GuidedView:
    """The steps a guided run hands out now (``osop step RUN``).

    Asking moves the run first when it must: a step past its time limit times
    out (journaled, then retried or routed like any timeout), approvals and
    events delivered since are taken in, an interrupted run is resumed.
    """
    from osop.engine.runner import resume_run, run_workflow

    options = options or RunOptions()
    handle, state = _guided_handle(store, run_id)
    if _needs_session(handle, state, run_workflow(handle), options.clock):
        result = await resume_run(handle.run_id, store=store, options=options)
        return _result_view(result, store, options.clock)
    return _view(handle, options.clock)


async def report_step(
    run_id: str,
    node_id: str,
    report: Mapping[str, Any],
    *,
    store: RunStore,
    options: RunOptions | None = None,
) -> GuidedView:
    """Record what the caller did for a handed-out step (``osop log``); returns what is next.

    The report is checked (:func:`check_report`) under the run's lock, journaled
    durably, and the attempt resumes in-process with it: a FAILED report is
    retried per the node's policy (the step is handed out again, attempt + 1) or
    takes the fallback/error edges; a late report times the step out.
    """
    from osop.engine.runner import deliver_in_session

    options = options or RunOptions()
    handle, _ = _guided_handle(store, run_id)
    stamped = dict(report)
    stamped["reported_at"] = iso(options.clock.now())

    def entries(workflow: Workflow, state: RunState) -> list[dict[str, Any]]:
        checked = check_report(workflow, state, handle.run_id, node_id, report)
        checked["reported_at"] = stamped["reported_at"]
        return [{"t": "report", "node": node_id, "report": checked, "at": stamped["reported_at"]}]

    result = await deliver_in_session(handle.run_id, entries, store=store, options=options)
    return _result_view(result, store, options.clock)


async def execute_step(
    run_id: str, node_id: str, *, store: RunStore, options: RunOptions | None = None
) -> GuidedView:
    """Have the engine execute a handed-out step with its executor (``--execute``)."""
    return await report_step(run_id, node_id, {"execute": True}, store=store, options=options)


def run_guided(coro: Any) -> GuidedView:
    """Run one of the verbs above from synchronous code."""
    result: GuidedView = asyncio.run(coro)
    return result
