"""``osop approve``: answer a node waiting for a human (an approval gate, a review ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import open_store, parse_json_option, store_option
from osop.cli.temporal_support import follow_temporal_run, run_async, temporal_options
from osop.engine.answers import approve as approve_node

__all__ = ["approve"]


@click.command()
@click.argument("run_id")
@click.argument("node")
@click.option(
    "--decision",
    default="approved",
    show_default=True,
    help="approved or rejected, or one of the node's own options (anything else is refused).",
)
@click.option("--notes", default=None, help="Free text kept in the record's human_metadata.")
@click.option("--actor", default=None, help="Who answers (default: the current user).")
@click.option("--data", default=None, metavar="JSON", help="More answer fields, as a JSON object.")
@click.option(
    "--replace", is_flag=True, help="Replace a different answer already given to this question."
)
@click.option("--resume", "then_resume", is_flag=True, help="Resume the run right away.")
@store_option
@temporal_options
@handle_errors
def approve(
    run_id: str,
    node: str,
    decision: str,
    notes: str | None,
    actor: str | None,
    data: str | None,
    replace: bool,
    then_resume: bool,
    store_dir: Path | None,
    temporal: Any = None,
) -> None:
    """Record the answer for NODE of RUN_ID; `osop resume` (or --resume) continues the run.

    Refused, saying why, when NODE does not wait for a person, the decision is not
    one NODE allows, or a different answer was already given (see --replace).
    """
    extra = parse_json_option(data, "--data")
    if extra is not None and not isinstance(extra, dict):
        raise click.UsageError("--data must be a JSON object")
    if temporal is not None:
        from osop.temporal.runs import approve_run

        run_async(
            approve_run(
                temporal, run_id, node, decision, notes=notes, actor=actor, data=extra,
                replace=replace,
            )
        )  # fmt: skip
        click.echo(f"answer delivered to {node} of run {run_id} on Temporal: {decision}")
        if then_resume:
            follow_temporal_run(temporal, run_id)
        return
    store = open_store(store_dir)
    handle = store.get(run_id)
    approve_node(
        handle.run_id,
        node,
        decision,
        notes=notes,
        actor=actor,
        data=extra,
        replace=replace,
        store=store,
    )
    click.echo(f"answer recorded for {node} in run {handle.run_id}: {decision}")
    if then_resume:
        from osop.cli.resume_cmd import resume

        click.get_current_context().invoke(resume, run_id=handle.run_id, store_dir=store_dir)
    else:
        click.echo(f"continue with: osop resume {handle.run_id[:8]}")
