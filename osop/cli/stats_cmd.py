"""``osop stats``: WorkflowStats (binding §7.1) over many records."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from osop.analysis.selection import parse_modes, select_records
from osop.analysis.stats import compute_stats
from osop.analysis.stats_text import format_stats_text
from osop.cli.common import handle_errors, modes_option, print_json
from osop.cli.run_support import store_option

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
    by workflow id and version. Unreadable files are reported on stderr and left
    out.
    """
    selection = select_records(logs, modes=parse_modes(modes), store_root=store_dir)
    for failure in selection.failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    result = compute_stats(selection.runs)
    if fmt in ("json", "yaml"):
        data = {"selection": selection.to_dict(), "workflows": [s.to_dict() for s in result]}
        if fmt == "json":
            print_json(data)
        else:
            click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        click.echo(selection.describe())
        click.echo(format_stats_text(result), nl=False)
