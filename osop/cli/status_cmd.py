"""``osop status``: where a run stands, rebuilt from its journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors, print_json
from osop.cli.run_support import open_store, store_option
from osop.cli.temporal_support import run_async, temporal_options
from osop.engine import load_run_state, materialise_record
from osop.engine.recording import build_record
from osop.engine.store import RunHandle
from osop.errors import RunStoreError

__all__ = ["status"]


@click.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@store_option
@temporal_options
@handle_errors
def status(run_id: str, as_json: bool, store_dir: Path | None, temporal: Any = None) -> None:
    """Show RUN_ID: run status, each node's latest state, what it waits for."""
    if temporal is not None:
        _temporal_status(temporal, run_id, as_json)
        return
    store = open_store(store_dir)
    handle = store.get(run_id)
    if handle.imported:  # an agent session: its record is all there is
        record = materialise_record(handle)
        if as_json:
            print_json(record.to_dict())
            return
        runtime = record.runtime or {}
        click.echo(
            f"run {record.run_id}  {record.workflow_id}  {record.status}  "
            f"(imported {runtime.get('agent', '')} session {runtime.get('session_id', '')})"
        )
        if record.result_summary:
            click.echo(f"  {record.result_summary}")
        click.echo(f"  record: {handle.record_path}")
        return
    idle = claim_if_idle(handle)
    try:
        state = load_run_state(handle)
        # Idle: rewrite the record (repairs it after a crash); else its owner writes it.
        record = materialise_record(handle, state) if idle else build_record(state)
    finally:
        if idle:
            handle.release()
    if as_json:
        print_json(record.to_dict())
        return
    shown = record.status
    if shown == "RUNNING" and idle:
        shown = "PAUSED" if state.paused is not None else "INTERRUPTED"
    click.echo(f"run {record.run_id}  {record.workflow_id}  {shown}  ({record.mode})")
    _print_nodes(record)
    for wait in record.extra.get("x-waiting") or []:
        click.echo(f"  waiting: {wait.get('node')} ({wait.get('kind')}: {wait.get('name')})")
    if record.result_summary:
        click.echo(f"  {record.result_summary}")
    click.echo(f"  record: {handle.record_path}")


def claim_if_idle(handle: RunHandle) -> bool:
    """Take the run's lock if nobody runs it (only its holder may rewrite its files)."""
    try:
        handle.acquire(brief=True)
    except RunStoreError:
        return False
    return True


def _temporal_status(target: Any, run_id: str, as_json: bool) -> None:
    from osop.temporal.runs import describe_temporal_run, read_temporal_record

    async def read() -> tuple[dict[str, Any], Any]:
        return await describe_temporal_run(target, run_id), await read_temporal_record(
            target, run_id
        )

    described, record = run_async(read())
    if as_json:
        print_json(record.to_dict())
        return
    shown = "PAUSED" if described.get("paused") else record.status
    build = f", build {described['build']}" if described.get("build") else ""
    click.echo(
        f"run {record.run_id}  {record.workflow_id}  {shown}  ({record.mode}, on Temporal{build})"
    )
    _print_nodes(record)
    for wait in described.get("waiting") or []:
        via = f" in child run {wait.get('run_id')} via {wait['via']}" if wait.get("via") else ""
        click.echo(f"  waiting: {wait.get('node')} ({wait.get('kind')}: {wait.get('name')}){via}")
    if record.result_summary:
        click.echo(f"  {record.result_summary}")


def _print_nodes(record: Any) -> None:
    """Each node's latest state, one line each."""
    latest: dict[str, tuple[str, int]] = {}
    for node_record in record.node_records:
        latest[node_record.node_id] = (node_record.status, node_record.attempt)
    for node_id, (node_status, attempt) in latest.items():
        more = f"  attempt {attempt}" if attempt > 1 else ""
        click.echo(f"  {node_status:<10} {node_id}{more}")
