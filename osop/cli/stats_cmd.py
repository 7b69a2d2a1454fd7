"""``osop stats``: WorkflowStats (binding §7.1) over many records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from osop.analysis.selection import parse_modes, require_some, stream_records
from osop.analysis.sessions import format_session_stats, is_session, session_stats
from osop.analysis.stats import StatsAccumulator
from osop.analysis.stats_text import format_stats_text
from osop.cli.common import handle_errors, modes_option, print_json, store_option
from osop.record.model import RunRecord

__all__ = ["stats"]


@click.command("stats")
@click.argument("logs", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "yaml"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@modes_option
@store_option
@handle_errors
def stats(logs: tuple[str, ...], fmt: str, modes: tuple[str, ...], store_dir: Path | None) -> None:
    """Aggregate execution records: runs, success rate, durations, failures, cost.

    LOGS are .osoplog files, folders (searched recursively), globs or run ids
    (or unique prefixes) from the run store. Only live records are used unless
    --mode says otherwise; the output says which were used. Results are grouped
    by workflow id and version. Imported agent sessions (osop import) get their
    own section: tokens and cost per session, model and step kind, the tool mix,
    time to first edit, failures, retries and time spent waiting for the person.
    Unreadable files are reported on stderr and left out.
    """
    # Streamed: each record is added to the figures and let go (100,000 files fit).
    selection, stream = stream_records(logs, modes=parse_modes(modes), store_root=store_dir)
    figures = StatsAccumulator()
    agent_sessions: list[RunRecord] = []
    for _, plain in stream:
        if is_session(plain.head):
            agent_sessions.append(plain.record())
        else:
            figures.add_plain(plain)
    for failure in selection.failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    require_some(selection, logs)
    result = figures.finish()
    sessions = session_stats(agent_sessions) if agent_sessions else None
    data: dict[str, Any] = {
        "selection": selection.to_dict(),
        "workflows": [s.to_dict() for s in result],
    }
    if sessions is not None:
        data["agent_sessions"] = sessions.to_dict()
    if fmt == "json":
        print_json(data)
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        click.echo(selection.describe())
        if result:
            click.echo(format_stats_text(result), nl=False)
        if sessions is not None:
            if result:
                click.echo()
            click.echo(format_session_stats(sessions), nl=False)
