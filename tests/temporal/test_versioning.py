"""Worker versioning: a run stays on the build that started it; new runs go to the new one.

Two builds of the worker (``osop worker --build-id A`` / ``B``) in one Temporal
worker deployment, against a real dev server: a run started while A is the
current build keeps running on A's worker after B becomes current, while a run
started after that runs on B.  Which worker carried out each step is read from
the runs' histories (every workflow and activity task names its worker).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from osop.engine import RunOptions
from osop.format.workflow import workflow_from_dict
from osop.temporal.connection import TemporalTarget, connect
from osop.temporal.worker import WorkerSettings, build_worker, health_line

pytestmark = pytest.mark.slow

GATE = {
    "osop_version": "1.1",
    "id": "gate",
    "name": "gate",
    "nodes": [
        {"id": "build", "type": "cli", "name": "Build", "runtime": {"command": "true"}},
        {
            "id": "ship",
            "type": "cli",
            "name": "Ship",
            "approval_gate": {"required": True},
            "runtime": {"command": "true"},
        },
    ],
    "edges": [{"from": "build", "to": "ship"}],
}


async def _make_current(client: Any, namespace: str, deployment: str, build_id: str) -> None:
    """What `temporal worker deployment set-current-version` does (the build must have
    polled first: retried until the server knows it)."""
    from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
    from temporalio.service import RPCError

    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=namespace, deployment_name=deployment, build_id=build_id, identity="osop-tests"
    )
    for _ in range(100):
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"build {build_id} never became current")


async def _workers(history: Any) -> set[str]:
    """The identities of the workers that completed the run's workflow and activity tasks."""
    found: set[str] = set()
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            found.add(event.workflow_task_completed_event_attributes.identity)
        if event.HasField("activity_task_started_event_attributes"):
            found.add(event.activity_task_started_event_attributes.identity)
    return found


async def _scenario(target: TemporalTarget, workdir: Path) -> dict[str, Any]:
    from osop.temporal.runs import (
        answer_run,
        describe_temporal_run,
        start_temporal_run,
        wait_for_run,
    )

    deployment = f"osop-{uuid.uuid4().hex[:8]}"
    client = await connect(target)
    env = {"PATH": "/usr/bin:/bin"}

    def settings(build: str) -> WorkerSettings:
        return WorkerSettings(
            workdir=workdir, env=env, grace=5.0, build_id=build, deployment=deployment
        )

    async def start() -> str:
        return await start_temporal_run(
            target,
            workflow_from_dict(GATE),
            source=repr(GATE).encode(),
            options=RunOptions(),
            client=client,
        )

    out: dict[str, Any] = {"health": health_line(target, settings("A"))}
    async with build_worker(client, target, settings("A")):
        await _make_current(client, target.namespace, deployment, "A")
        first = await start()
        out["first_paused"] = (await wait_for_run(target, first, client=client)).paused
        async with build_worker(client, target, settings("B")):
            await _make_current(client, target.namespace, deployment, "B")
            second = await start()
            out["second_paused"] = (await wait_for_run(target, second, client=client)).paused
            for name, run_id in (("first", first), ("second", second)):
                described = await describe_temporal_run(target, run_id, client=client)
                out[f"{name}_build"] = described["build"]
            # The run started on A is answered after B became current: A carries it on.
            await answer_run(target, first, "ship", {"decision": "approved"}, client=client)
            out["first"] = (await wait_for_run(target, first, client=client)).status
            await answer_run(target, second, "ship", {"decision": "approved"}, client=client)
            out["second"] = (await wait_for_run(target, second, client=client)).status
            for name, run_id in (("first", first), ("second", second)):
                handle = client.get_workflow_handle(run_id)
                out[f"{name}_workers"] = await _workers(await handle.fetch_history())
                description = await handle.describe()
                versioning = description.raw_description.workflow_execution_info.versioning_info
                out[f"{name}_pinned_to"] = versioning.deployment_version.build_id
    return out


def test_a_run_stays_on_its_build_while_new_runs_go_to_the_new_one(
    tmp_path: Path, target: TemporalTarget
) -> None:
    seen = asyncio.run(_scenario(target, tmp_path))
    assert "build-id=A versioning=pinned" in seen["health"]
    assert seen["first_paused"] and seen["second_paused"]
    assert seen["first"] == seen["second"] == "COMPLETED"
    assert seen["first_pinned_to"] == "A"
    assert seen["first_build"].endswith(".A") and seen["second_build"].endswith(".B")
    assert seen["second_pinned_to"] == "B"
    # Every step of each run, before and after the switch, ran on its own build.
    assert seen["first_workers"] and all(".A@" in w for w in seen["first_workers"])
    assert seen["second_workers"] and all(".B@" in w for w in seen["second_workers"])


def test_versioning_settings_are_checked() -> None:
    from osop.errors import OsopError
    from osop.temporal.worker import _deployment

    with pytest.raises(OsopError, match=r"no '\.'"):
        _deployment(WorkerSettings(build_id="A", deployment="a.b"))
    assert _deployment(WorkerSettings()) is None
