"""``osop approve``: answer a node waiting for a human (an approval gate, a review ...)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import open_store, parse_json_option, store_option
from osop.engine import deliver_answer

__all__ = ["approve"]


@click.command()
@click.argument("run_id")
@click.argument("node")
@click.option(
    "--decision",
    default="approved",
    show_default=True,
    help="The answer, e.g. approved, rejected, or one of the node's options.",
)
@click.option("--notes", default=None, help="Free text kept in the record's human_metadata.")
@click.option("--actor", default=None, help="Who answers (default: the current user).")
@click.option("--data", default=None, metavar="JSON", help="More answer fields, as a JSON object.")
@click.option("--resume", "then_resume", is_flag=True, help="Resume the run right away.")
@store_option
@handle_errors
def approve(
    run_id: str,
    node: str,
    decision: str,
    notes: str | None,
    actor: str | None,
    data: str | None,
    then_resume: bool,
    store_dir: Path | None,
) -> None:
    """Record the answer for NODE of RUN_ID; `osop resume` (or --resume) continues the run."""
    answer: dict[str, Any] = {}
    extra = parse_json_option(data, "--data")
    if extra is not None and not isinstance(extra, dict):
        raise click.UsageError("--data must be a JSON object")
    answer.update(extra or {})
    answer["decision"] = decision
    if notes is not None:
        answer["notes"] = notes
    answer["actor"] = actor or _user()
    store = open_store(store_dir)
    deliver_answer(store, run_id, node, answer)
    handle = store.get(run_id)
    click.echo(f"answer recorded for {node} in run {handle.run_id}: {decision}")
    if then_resume:
        from osop.cli.resume_cmd import resume

        click.get_current_context().invoke(resume, run_id=handle.run_id, store_dir=store_dir)
    else:
        click.echo(f"continue with: osop resume {handle.run_id[:8]}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
