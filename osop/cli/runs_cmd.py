"""``osop runs``: list the runs in the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors, print_json
from osop.cli.run_support import open_store, store_option
from osop.cli.temporal_support import run_async, temporal_options
from osop.engine import describe_run

__all__ = ["runs"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="Include child runs (spawn, sub-workflows).")
@store_option
@temporal_options
@handle_errors
def runs(as_json: bool, show_all: bool, store_dir: Path | None, temporal: Any = None) -> None:
    """List runs, newest first, with their status (PAUSED and INTERRUPTED runs can be resumed)."""
    if temporal is not None:
        from osop.temporal.runs import list_temporal_runs

        rows = run_async(list_temporal_runs(temporal))
        where = f"on Temporal at {temporal.describe()}"
    else:
        store = open_store(store_dir)
        rows = [describe_run(h) for h in store.iter_runs()]
        where = f"in {store.runs}"
    if not show_all:
        rows = [r for r in rows if not r.get("parent_run_id")]
    rows.sort(key=lambda r: str(r.get("started_at") or ""), reverse=True)  # newest first
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo(f"no runs {where}")
        return
    click.echo(f"{'RUN':<8}  {'STATUS':<11} {'MODE':<9} {'STARTED':<24} WORKFLOW")
    for row in rows:
        what = row.get("error") or row["workflow_id"] or "-"
        click.echo(
            f"{row['run_id'][:8]}  {row['status']:<11} {row['mode'] or '-'!s:<9} "
            f"{row['started_at'] or '-'!s:<24} {what}"
        )
