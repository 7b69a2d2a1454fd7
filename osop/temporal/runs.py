"""Runs on Temporal: start, wait, list, describe, answer, signal, cancel, read the record.

The verbs the CLI's ``--temporal`` options call.  A run is a Temporal workflow of
type :data:`~osop.temporal.interpreter.WORKFLOW_NAME` whose workflow id is the
OSOP run id; its record is read with a query (workers answer it by replaying the
history), its waits are ended with an update (``answer``, checked before it is
accepted) or a signal (``event``), and it is cancelled by a Temporal
cancellation, which the interpreter turns into a CANCELLED record.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osop.engine.clock import iso
from osop.engine.options import RunOptions, RunResult
from osop.engine.values import Redactor
from osop.errors import ExecutionError, OsopError, RunRefusedError, RunStoreError
from osop.format.workflow import Workflow
from osop.record.model import RunRecord, record_from_dict
from osop.temporal.connection import TemporalTarget, connect

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

__all__ = [
    "answer_run",
    "approve_run",
    "cancel_temporal_run",
    "describe_temporal_run",
    "list_temporal_runs",
    "read_temporal_record",
    "read_temporal_run",
    "signal_run",
    "start_temporal_run",
    "wait_for_run",
]

#: How often a waiting client asks whether the run paused (it learns of the end at once).
_POLL_SEC = 0.25


def _meta(workflow: Workflow, options: RunOptions, run_id: str, source: bytes) -> dict[str, Any]:
    """The ``run`` entry, as a local run journals it, made where the run is started."""
    from osop.engine.runner import run_meta

    meta = run_meta(workflow, options, run_id, source, started=datetime.now(UTC))
    meta["runtime"] = {**meta["runtime"], "host": "temporal"}
    return meta


async def start_temporal_run(
    target: TemporalTarget,
    workflow: Workflow,
    *,
    source: bytes,
    options: RunOptions,
    workflow_path: Path | None = None,
    run_id: str | None = None,
    client: Client | None = None,
) -> str:
    """Start ``workflow`` on Temporal; returns the run id (the Temporal workflow id).

    Refused before anything is started, as locally: invalid inputs, a blocked
    command, an answer given up front that its node does not allow.  The
    workflows its ``workflow_ref`` nodes call are read here, beside
    ``workflow_path`` (the interpreter reads no files), and travel with the run.
    """
    from osop.engine.answers import check_preset_answers
    from osop.engine.inputs import check_inputs
    from osop.engine.runner import refuse_blocked_commands, with_workflow_id
    from osop.temporal.children import bundle_imports
    from osop.temporal.interpreter import INTERPRETER_VERSION, WORKFLOW_NAME

    workflow = with_workflow_id(workflow)
    if options.secrets.all_values():
        raise RunRefusedError(
            "a run on Temporal takes its secrets from the workers that run its steps",
            [
                "start the workers with `osop worker --temporal ... --secrets-file FILE` (or give "
                "them NAME / OSOP_SECRET_NAME in their environment) instead of --secrets-file "
                "here: nothing secret is sent to the cluster"
            ],
        )
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    inputs = check_inputs(workflow, options.inputs, rehearsal=options.mode != "live")
    refuse_blocked_commands(workflow, options.mode)
    check_preset_answers(workflow, options.answers)
    options = replace(options, seed=seed, inputs=inputs)
    rid = run_id or str(uuid.uuid4())
    request = {
        "run_id": rid,
        "workflow_id": workflow.id,
        "source": source.decode("utf-8"),
        "mode": options.mode,
        "seed": seed,
        "inputs": dict(inputs),
        "answers": {node: dict(answer) for node, answer in options.answers.items()},
        "events": [dict(event) for event in options.events],
        "auto_approve": options.auto_approve,
        "simulation": dict(options.simulation),
        "meta": _meta(workflow, options, rid, source),
        "imports": bundle_imports(workflow, workflow_path),
        "depth": 0,
    }
    client = client or await connect(target)
    from temporalio.common import WorkflowIDReusePolicy

    await client.start_workflow(
        WORKFLOW_NAME,
        request,
        id=rid,
        task_queue=target.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        memo={
            "workflow_id": workflow.id,
            "mode": options.mode,
            "interpreter": INTERPRETER_VERSION,
        },
        static_summary=f"{workflow.id} ({options.mode})",
    )
    return rid


_FULL_ID = 36


async def _handle(client: Client, run_id: str) -> WorkflowHandle[Any, Any]:
    """The run's workflow handle; a unique prefix of its id will do, as locally."""
    from osop.temporal.interpreter import WORKFLOW_NAME

    run_id = run_id.strip()
    if len(run_id) >= _FULL_ID or not run_id:
        return client.get_workflow_handle(run_id)
    if not all(c in "0123456789abcdef-" for c in run_id.lower()):
        raise RunStoreError(f"{run_id!r} is not a run id or the start of one")
    query = f"WorkflowType = '{WORKFLOW_NAME}' AND WorkflowId STARTS_WITH '{run_id.lower()}'"
    from temporalio.service import RPCError

    found: list[str] = []
    try:
        async for execution in client.list_workflows(query, limit=3):
            found.append(execution.id)
    except RPCError as exc:
        raise RunStoreError(
            f"cannot look up run id prefix {run_id!r} on this cluster ({exc}): give the whole id"
        ) from exc
    if not found:
        raise RunStoreError(f"no run {run_id} on Temporal")
    if len(set(found)) > 1:
        raise RunStoreError(
            f"run id prefix {run_id!r} is ambiguous: {', '.join(sorted(set(found)))}"
        )
    return client.get_workflow_handle(found[0])


async def _query(handle: WorkflowHandle[Any, Any], name: str) -> Any:
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return await handle.query(name)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise RunStoreError(f"no run {handle.id} on Temporal") from exc
        raise OsopError(f"run {handle.id}: {exc}") from exc
    except WorkflowQueryFailedError as exc:
        raise OsopError(f"run {handle.id}: the worker could not read the run: {exc}") from exc


async def read_temporal_record(
    target: TemporalTarget, run_id: str, *, client: Client | None = None
) -> RunRecord:
    """The run's ``.osoplog`` (materialised from its history by a worker)."""
    client = client or await connect(target)
    data = await _query(await _handle(client, run_id), "record")
    return record_from_dict(data)


async def read_temporal_run(
    target: TemporalTarget, run_id: str, *, client: Client | None = None
) -> tuple[Workflow, RunRecord]:
    """The workflow the run runs (as it was started) and its record."""
    from osop.format.loader import load_document
    from osop.format.workflow import workflow_from_dict

    client = client or await connect(target)
    handle = await _handle(client, run_id)
    source = await _query(handle, "source")
    workflow = workflow_from_dict(load_document(str(source).encode("utf-8"), "workflow.osop").data)
    return workflow, record_from_dict(await _query(handle, "record"))


async def wait_for_run(
    target: TemporalTarget, run_id: str, *, client: Client | None = None
) -> RunResult:
    """Wait until the run ends or pauses (waits for a person or an event); its result."""
    client = client or await connect(target)
    handle = await _handle(client, run_id)
    run_id = handle.id
    ended = asyncio.ensure_future(handle.result())
    try:
        while True:
            done, _ = await asyncio.wait({ended}, timeout=_POLL_SEC)
            if done:
                break
            status = await _query(handle, "status")
            if status.get("paused") and not await _children_moving(client, status):
                record = record_from_dict(await _query(handle, "record"))
                return RunResult(
                    run_id=run_id,
                    status=record.status,
                    record=record,
                    paused=True,
                    waiting=list(status.get("waiting") or []),
                )
    finally:
        if not ended.done():
            ended.cancel()
    try:
        ended.result()
    except Exception as exc:
        from temporalio.client import WorkflowFailureError

        if isinstance(exc, WorkflowFailureError):
            raise OsopError(f"run {run_id} failed on Temporal: {exc.cause or exc}") from exc
        raise
    record = record_from_dict(await _query(handle, "record"))
    return RunResult(run_id=run_id, status=record.status, record=record)


async def _children_moving(client: Client, status: Mapping[str, Any]) -> bool:
    """Whether a child run the paused run waits on has gone on since (an answer was
    routed to it): the run takes it up shortly, so it is not paused for its caller."""
    listed: dict[str, set[Any]] = {}
    for wait in status.get("waiting") or ():
        if wait.get("via") and wait.get("run_id"):
            listed.setdefault(str(wait["run_id"]), set()).add(wait.get("node"))
    for run_id, nodes in listed.items():
        child = await _query(client.get_workflow_handle(run_id), "status")
        if not child.get("paused") or {w.get("node") for w in child.get("waiting") or ()} != nodes:
            return True
    return False


async def describe_temporal_run(
    target: TemporalTarget, run_id: str, *, client: Client | None = None
) -> dict[str, Any]:
    """Id, workflow, mode, status and what the run waits for (a query to a worker)."""
    client = client or await connect(target)
    status: dict[str, Any] = await _query(await _handle(client, run_id), "status")
    return status


async def list_temporal_runs(
    target: TemporalTarget, *, limit: int = 50, client: Client | None = None
) -> list[dict[str, Any]]:
    """The newest OSOP runs in the namespace (Temporal visibility: no worker needed)."""
    from osop.temporal.interpreter import WORKFLOW_NAME

    client = client or await connect(target)
    out: list[dict[str, Any]] = []
    async for execution in client.list_workflows(f"WorkflowType = '{WORKFLOW_NAME}'", limit=limit):
        memo = await execution.memo()
        out.append(
            {
                "run_id": execution.id,
                "workflow_id": memo.get("workflow_id"),
                "mode": memo.get("mode"),
                "started_at": iso(execution.start_time) if execution.start_time else None,
                "status": execution.status.name if execution.status else "UNKNOWN",
                "ended_at": iso(execution.close_time) if execution.close_time else None,
                # A child run (sub-workflow, spawn): `osop runs` lists it with --all only.
                "parent_run_id": memo.get("parent_run_id"),
            }
        )
    return out


async def answer_run(
    target: TemporalTarget,
    run_id: str,
    node_id: str,
    answer: Mapping[str, Any],
    *,
    replace: bool = False,
    client: Client | None = None,
) -> None:
    """Deliver a person's answer; refused, saying why, as :func:`osop.engine.deliver_answer`."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError

    from osop.engine.answers import stamp_answer

    client = client or await connect(target)
    delivery = {"node": node_id, "answer": Redactor()(stamp_answer(answer)), "replace": replace}
    handle = await _handle(client, run_id)
    handle = await _routed(client, handle, lambda w: w.get("node") == node_id)
    try:
        await handle.execute_update("answer", delivery)
    except WorkflowUpdateFailedError as exc:
        raise ExecutionError(_update_refusal(exc)) from exc
    except RPCError as exc:
        raise ExecutionError(f"run {run_id}: {exc}") from exc


async def approve_run(
    target: TemporalTarget,
    run_id: str,
    node_id: str,
    decision: str = "approved",
    *,
    notes: str | None = None,
    actor: str | None = None,
    data: Mapping[str, Any] | None = None,
    replace: bool = False,
    client: Client | None = None,
) -> dict[str, Any]:
    """:func:`osop.engine.approve` for a run on Temporal; returns the answer delivered."""
    from osop.engine.answers import answer_of

    answer = answer_of(decision, notes=notes, actor=actor, data=data)
    await answer_run(target, run_id, node_id, answer, replace=replace, client=client)
    return answer


async def signal_run(
    target: TemporalTarget,
    run_id: str,
    name: str,
    data: Any = None,
    *,
    client: Client | None = None,
) -> str:
    """Deliver an event or signal named ``name``; returns the delivery's id."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError

    client = client or await connect(target)
    delivery_id = str(uuid.uuid4())
    delivery = {"id": delivery_id, "name": name, "data": Redactor()(data)}
    handle = await _handle(client, run_id)
    handle = await _routed(
        client,
        handle,
        lambda w: w.get("name") == name and w.get("kind") in ("event", "signal"),
    )
    try:
        await handle.execute_update("event", delivery)
    except WorkflowUpdateFailedError as exc:
        raise ExecutionError(_update_refusal(exc)) from exc
    except RPCError as exc:
        raise ExecutionError(f"run {run_id}: {exc}") from exc
    return delivery_id


async def _routed(
    client: Client, handle: WorkflowHandle[Any, Any], wanted: Callable[[dict[str, Any]], bool]
) -> WorkflowHandle[Any, Any]:
    """The run a delivery is for: a child run the run waits on, when that child is
    what waits for it (as :func:`osop.engine.deliver_answer` routes it locally)."""
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError

    try:
        status = await handle.query("status")
    except (RPCError, WorkflowQueryFailedError):
        return handle  # the update itself says what is wrong
    for wait in status.get("waiting") or ():
        child = wait.get("run_id")
        if wait.get("via") and child and child != handle.id and wanted(wait):
            return client.get_workflow_handle(str(child))
    return handle


def _update_refusal(exc: Exception) -> str:
    cause = getattr(exc, "cause", None)
    return str(getattr(cause, "message", None) or cause or exc)


async def cancel_temporal_run(
    target: TemporalTarget, run_id: str, *, client: Client | None = None
) -> str:
    """Ask the run to stop; its interpreter closes the record as CANCELLED."""
    from temporalio.service import RPCError

    client = client or await connect(target)
    try:
        await (await _handle(client, run_id)).cancel()
    except RPCError as exc:
        raise ExecutionError(f"run {run_id}: {exc}") from exc
    return "signalled"
