"""``osop cancel``: stop a running run, or close a paused one, leaving a CANCELLED record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import open_store, store_option
from osop.cli.temporal_support import run_async, temporal_options
from osop.engine import cancel_run

__all__ = ["cancel"]


@click.command()
@click.argument("run_id")
@store_option
@temporal_options
@handle_errors
def cancel(run_id: str, store_dir: Path | None, temporal: Any = None) -> None:
    """Cancel RUN_ID: a running process is interrupted (as by Ctrl-C); a paused run is closed."""
    if temporal is not None:
        from osop.temporal.runs import cancel_temporal_run

        run_async(cancel_temporal_run(temporal, run_id))
        click.echo(f"run {run_id}: cancellation requested on Temporal; the run writes its record")
        return
    store = open_store(store_dir)
    handle = store.get(run_id)
    how = cancel_run(store, handle.run_id)
    if how == "signalled":
        click.echo(f"run {handle.run_id}: asked its process to stop; it writes the record")
    else:
        click.echo(f"run {handle.run_id} CANCELLED (record: {handle.record_path})")
