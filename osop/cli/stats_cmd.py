"""``osop stats``: WorkflowStats (binding §7.1) over many records."""

from __future__ import annotations

import click
import yaml

from osop.analysis.records import ReadFailure, no_records_message, read_records
from osop.analysis.stats import compute_stats
from osop.analysis.stats_text import format_stats_text
from osop.cli.common import expand_paths, handle_errors, print_json
from osop.errors import OsopError

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
    grouped by workflow id and version. Unreadable files are reported on stderr
    and left out.
    """
    failures: list[ReadFailure] = []
    paths = list(expand_paths(logs, LOG_SUFFIXES))
    result = compute_stats(record for _, record in read_records(paths, failures))
    for failure in failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    if not result:
        raise OsopError(no_records_message(logs, len(paths)))
    if fmt == "json":
        print_json({"workflows": [s.to_dict() for s in result]})
    elif fmt == "yaml":
        click.echo(
            yaml.safe_dump(
                {"workflows": [s.to_dict() for s in result]}, sort_keys=False, allow_unicode=True
            ),
            nl=False,
        )
    else:
        click.echo(format_stats_text(result), nl=False)
