"""``osop signal``: deliver an event or a signal to a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import open_store, parse_json_option, store_option
from osop.cli.temporal_support import follow_temporal_run, run_async, temporal_options
from osop.engine import deliver_event

__all__ = ["signal"]


@click.command()
@click.argument("run_id")
@click.argument("name")
@click.option("--data", default=None, metavar="JSON", help="The event's payload (JSON).")
@click.option("--resume", "then_resume", is_flag=True, help="Resume the run right away.")
@store_option
@temporal_options
@handle_errors
def signal(
    run_id: str,
    name: str,
    data: str | None,
    then_resume: bool,
    store_dir: Path | None,
    temporal: Any = None,
) -> None:
    """Deliver event/signal NAME to RUN_ID (kept until something waits for it)."""
    if temporal is not None:
        from osop.temporal.runs import signal_run

        run_async(signal_run(temporal, run_id, name, parse_json_option(data, "--data")))
        click.echo(f"{name} delivered to run {run_id} on Temporal")
        if then_resume:
            follow_temporal_run(temporal, run_id)
        return
    store = open_store(store_dir)
    deliver_event(store, run_id, name, parse_json_option(data, "--data"))
    handle = store.get(run_id)
    click.echo(f"{name} delivered to run {handle.run_id}")
    if then_resume:
        from osop.cli.resume_cmd import resume

        click.get_current_context().invoke(resume, run_id=handle.run_id, store_dir=store_dir)
    else:
        click.echo(f"continue with: osop resume {handle.run_id[:8]}")
