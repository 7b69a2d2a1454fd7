"""``osop diff``: workflow vs workflow, run vs run, or workflow vs runs (should vs did)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from osop.analysis.compare import compare_paths
from osop.analysis.conformance import ConformanceSummary
from osop.analysis.diff_format import format_diff
from osop.cli.common import max_bytes_option, print_json
from osop.cli.run_support import open_store, store_option
from osop.engine import materialise_record
from osop.errors import OsopError

__all__ = ["diff"]


def _record_path(item: str, store_dir: Path | None) -> str:
    """A path as given; a run id (or unique prefix) from the run store stands for its record."""
    if Path(item).exists() or any(ch in item for ch in "/\\*?["):
        return item
    try:
        handle = open_store(store_dir).get(item)
    except OsopError:
        return item  # not a run either: compare_paths says the file is missing
    materialise_record(handle)  # current, also for a run that was interrupted
    return str(handle.record_path)


@click.command("diff")
@click.argument("first")
@click.argument("second")
@click.argument("rest", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@store_option
@max_bytes_option
def diff(first: str, second: str, rest: tuple[str, ...], fmt: str, store_dir: Path | None) -> None:
    """Compare two workflows, two runs, or a workflow with what runs did.

    \b
    A.osop B.osop             nodes, edges and metadata added/removed/changed
    A.osoplog B.osoplog       per node: status, attempts, duration, cost
    RUN_A RUN_B               two runs of the run store (ids or unique prefixes)
    SESSION_A SESSION_B       two imported agent sessions: figures, files, commands
    WF.osop LOG... (folders)  should vs did: deviations and token-replay fitness

    Exit status: 0 identical/conformant, 1 different, 2 error.
    """
    try:
        first, second, *more = (_record_path(p, store_dir) for p in (first, second, *rest))
        result = compare_paths(first, second, *more)
    except OsopError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if isinstance(result, ConformanceSummary):
        for message in result.skipped:
            click.echo(f"warning: skipped {message}", err=True)
    if fmt == "json":
        print_json(result.to_dict())
    else:
        click.echo(format_diff(result, "markdown" if fmt == "markdown" else "text"), nl=False)
    same = result.conformant if isinstance(result, ConformanceSummary) else result.identical
    sys.exit(0 if same else 1)
