"""``osop worker --temporal HOST:PORT``: host OSOP runs on a Temporal cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors
from osop.cli.temporal_support import run_async, temporal_options

__all__ = ["worker"]


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Node attempts this worker runs at the same time.",
)
@click.option(
    "--workflow-tasks",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Interpreter (workflow) tasks this worker handles at the same time.",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="On SIGTERM/SIGINT, seconds running attempts get to finish before they are cancelled.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Working folder of the attempts this worker runs (default: the current one).",
)
@click.option(
    "--secrets-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="KEY=VALUE secrets for ${secrets.X} in the attempts this worker runs "
    "(default: the worker's environment, NAME or OSOP_SECRET_NAME).",
)
@click.option(
    "--build-id",
    envvar="OSOP_TEMPORAL_BUILD_ID",
    default=None,
    help="Worker versioning: the build this worker runs ($OSOP_TEMPORAL_BUILD_ID). Runs "
    "go to the deployment's current build (`temporal worker deployment set-current-version`).",
)
@click.option(
    "--deployment",
    envvar="OSOP_TEMPORAL_DEPLOYMENT",
    default="osop",
    show_default=True,
    help="Worker versioning: the Temporal worker deployment of --build-id.",
)
@click.option(
    "--versioning",
    type=click.Choice(["pinned", "auto-upgrade"]),
    default="pinned",
    show_default=True,
    help="With --build-id: a run stays on the build that started it (pinned), "
    "or moves to the current build at its next step (auto-upgrade).",
)
@temporal_options
@handle_errors
def worker(
    concurrency: int,
    workflow_tasks: int,
    grace: float,
    workdir: Path | None,
    secrets_file: Path | None,
    build_id: str | None,
    deployment: str,
    versioning: str,
    temporal: Any,
) -> None:
    """Run a Temporal worker: the OSOP interpreter (as a workflow) and node attempts
    (as activities) for runs started with `osop run WF --temporal HOST:PORT`.

    \b
    Prints one health line when it polls; SIGTERM or Ctrl-C stops it gracefully
    (exit 0). Needs the extra: pip install 'osop-toolkit[temporal]'.
    """
    from osop.temporal._sdk import require_sdk

    if temporal is None:
        raise click.UsageError("osop worker needs --temporal HOST:PORT (or $OSOP_TEMPORAL_ADDRESS)")
    require_sdk()
    from osop.security import SecretStore
    from osop.temporal.worker import WorkerSettings, run_worker

    settings = WorkerSettings(
        max_attempts=concurrency,
        max_workflow_tasks=workflow_tasks,
        grace=grace,
        workdir=(workdir or Path.cwd()).resolve(),
        secrets=SecretStore(env_file=secrets_file) if secrets_file is not None else None,
        build_id=build_id or None,
        deployment=deployment,
        versioning=versioning,
    )
    run_async(run_worker(temporal, settings, on_ready=lambda line: click.echo(line, err=True)))
    click.echo("osop worker stopped", err=True)
