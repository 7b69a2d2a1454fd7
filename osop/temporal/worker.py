"""``osop worker --temporal``: a Temporal worker hosting the interpreter and the node executors.

One process polls one task queue for both: workflow tasks (the interpreter,
replayed deterministically from each run's history) and activity tasks (node
attempts, run with the same executors as a local run).  It prints one health line
when it is polling, and on SIGTERM/SIGINT stops taking work, lets running
attempts finish (up to ``grace`` seconds, then cancels them: an executor kills
what it started) and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from osop import __version__
from osop.errors import OsopError
from osop.security import SecretStore
from osop.temporal._sdk import require_sdk
from osop.temporal.connection import TemporalTarget, connect

__all__ = [
    "DEFAULT_DEPLOYMENT",
    "VERSIONING_BEHAVIOURS",
    "WorkerSettings",
    "build_worker",
    "health_line",
    "run_worker",
    "sandbox_runner",
]

#: The Temporal worker deployment OSOP workers belong to unless told otherwise.
DEFAULT_DEPLOYMENT = "osop"
VERSIONING_BEHAVIOURS = ("pinned", "auto-upgrade")


@dataclass(frozen=True)
class WorkerSettings:
    """How much one worker takes on at once, and where its attempts run."""

    #: Node attempts running at the same time in this worker.
    max_attempts: int = 100
    #: Workflow (interpreter) tasks at the same time.
    max_workflow_tasks: int = 100
    #: Seconds running attempts get to finish on shutdown before they are cancelled.
    grace: float = 30.0
    workdir: Path = field(default_factory=Path.cwd)
    #: Environment of the attempts' child processes (default: the worker's own).
    env: Mapping[str, str] | None = None
    #: Where the attempts' ``${secrets.X}`` come from (default: the worker's environment,
    #: ``NAME`` or ``OSOP_SECRET_NAME``, as a local run reads them).
    secrets: SecretStore | None = None
    #: Worker versioning: the build of OSOP this worker runs (``--build-id``), in a
    #: Temporal worker deployment; None = an unversioned worker (patching only).
    build_id: str | None = None
    deployment: str = DEFAULT_DEPLOYMENT
    #: ``pinned``: a run stays on the build that started it until it ends;
    #: ``auto-upgrade``: it moves to the deployment's current build at its next step.
    versioning: str = "pinned"
    services: dict[str, Any] = field(default_factory=dict)


def sandbox_runner() -> Any:
    """Temporal's sandbox, with OSOP's own modules passed through: they are
    deterministic where the interpreter uses them and importing them once per
    worker (not once per run) keeps replays fast."""
    from temporalio.worker.workflow_sandbox import (
        SandboxedWorkflowRunner,
        SandboxRestrictions,
    )

    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "osop", "yaml", "ruamel", "jsonschema", "jsonschema_rs", "cel", "referencing", "rpds"
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(client: Any, target: TemporalTarget, settings: WorkerSettings) -> Any:
    """The Temporal worker for ``target``'s task queue (not yet running)."""
    from temporalio.worker import Worker

    from osop.temporal.attempts import AttemptHost, activities_for
    from osop.temporal.interpreter import RunWorkflow

    host = AttemptHost(
        workdir=settings.workdir,
        env=settings.env,
        secrets=settings.secrets if settings.secrets is not None else SecretStore(),
        services=dict(settings.services),
    )
    return Worker(
        client,
        task_queue=target.task_queue,
        deployment_config=_deployment(settings),
        workflows=[RunWorkflow],
        activities=activities_for(host),
        max_concurrent_activities=settings.max_attempts,
        max_concurrent_workflow_tasks=settings.max_workflow_tasks,
        graceful_shutdown_timeout=timedelta(seconds=settings.grace),
        workflow_runner=sandbox_runner(),
        identity=f"osop-{__version__}{_build(settings)}@{os.uname().nodename}:{os.getpid()}",
    )


def _build(settings: WorkerSettings) -> str:
    return f"+{settings.deployment}.{settings.build_id}" if settings.build_id else ""


def _deployment(settings: WorkerSettings) -> Any:
    """Temporal's worker versioning for this worker's build (None: unversioned)."""
    if not settings.build_id:
        return None
    from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
    from temporalio.worker import WorkerDeploymentConfig

    if "." in settings.deployment or not settings.deployment:
        raise OsopError(f"deployment name {settings.deployment!r}: not empty, and no '.' in it")
    if settings.versioning not in VERSIONING_BEHAVIOURS:
        raise OsopError(
            f"versioning {settings.versioning!r}: one of {', '.join(VERSIONING_BEHAVIOURS)}"
        )
    behaviour = (
        VersioningBehavior.PINNED
        if settings.versioning == "pinned"
        else VersioningBehavior.AUTO_UPGRADE
    )
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.deployment, settings.build_id),
        use_worker_versioning=True,
        default_versioning_behavior=behaviour,
    )


def health_line(target: TemporalTarget, settings: WorkerSettings) -> str:
    from osop.temporal.interpreter import INTERPRETER_VERSION

    versioned = ""
    if settings.build_id:
        versioned = (
            f" deployment={settings.deployment} build-id={settings.build_id} "
            f"versioning={settings.versioning}"
        )
    return (
        f"osop worker ready: {target.describe()} interpreter=v{INTERPRETER_VERSION} "
        f"osop={__version__} attempts={settings.max_attempts} "
        f"workflow-tasks={settings.max_workflow_tasks}{versioned} pid={os.getpid()}"
    )


async def run_worker(
    target: TemporalTarget,
    settings: WorkerSettings,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Poll until SIGTERM/SIGINT (or ``stop`` is set), then shut down gracefully."""
    require_sdk()
    client = await connect(target)
    worker = build_worker(client, target, settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    try:
        async with worker:
            if on_ready is not None:
                on_ready(health_line(target, settings))
            await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
