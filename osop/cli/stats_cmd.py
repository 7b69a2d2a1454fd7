"""``osop stats``: WorkflowStats (binding §7.1) over many records."""

from __future__ import annotations

from typing import Any

import click
import yaml

from osop.analysis.records import ReadFailure, no_records_message, read_records
from osop.analysis.sessions import format_session_stats, is_session, session_stats
from osop.analysis.stats import compute_stats
from osop.analysis.stats_text import format_stats_text
from osop.cli.common import expand_paths, handle_errors, print_json
from osop.errors import OsopError
from osop.record.model import RunRecord

__all__ = ["stats"]

LOG_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")


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
@handle_errors
def stats(logs: tuple[str, ...], fmt: str) -> None:
    """Aggregate execution records: runs, success rate, durations, failures, cost.

    LOGS are .osoplog files, folders (searched recursively) or globs. Results are
    grouped by workflow id and version. Imported agent sessions (osop import) get
    their own section: tokens and cost per session, model and step kind, the tool
    mix, time to first edit, failures, retries and time spent waiting for the person. Unreadable files are reported on stderr
    and left out.
    """
    failures: list[ReadFailure] = []
    paths = list(expand_paths(logs, LOG_SUFFIXES))
    runs: list[RunRecord] = []
    agent_sessions: list[RunRecord] = []
    for _, record in read_records(paths, failures):
        (agent_sessions if is_session(record) else runs).append(record)
    result = compute_stats(runs)
    sessions = session_stats(agent_sessions) if agent_sessions else None
    for failure in failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    if not result and sessions is None:
        raise OsopError(no_records_message(logs, len(paths)))
    data: dict[str, Any] = {"workflows": [s.to_dict() for s in result]}
    if sessions is not None:
        data["agent_sessions"] = sessions.to_dict()
    if fmt == "json":
        print_json(data)
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        if result:
            click.echo(format_stats_text(result), nl=False)
        if sessions is not None:
            if result:
                click.echo()
            click.echo(format_session_stats(sessions), nl=False)
