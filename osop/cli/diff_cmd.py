"""``osop diff``: workflow vs workflow, run vs run, or workflow vs runs (should vs did)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from osop.analysis.compare import compare_paths
from osop.analysis.conformance import ConformanceSummary
from osop.analysis.diff_format import diff_json_chunks, diff_lines
from osop.analysis.selection import parse_modes
from osop.cli.common import max_bytes_option, modes_option, store_option
from osop.errors import OsopError

__all__ = ["diff"]


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
@modes_option
@store_option
@max_bytes_option
def diff(
    first: str,
    second: str,
    rest: tuple[str, ...],
    fmt: str,
    modes: tuple[str, ...],
    store_dir: Path | None,
) -> None:
    """Compare two workflows, two runs, or a workflow with what runs did.

    \b
    A.osop B.osop             nodes, edges and metadata added/removed/changed
    A.osoplog B.osoplog       per node: status, attempts, duration, cost
    RUN_A RUN_B               two runs of the run store (ids or unique prefixes)
    SESSION_A SESSION_B       two imported agent sessions: figures, files, commands
    WF.osop LOG... (folders)  should vs did: deviations and token-replay fitness

    A run id (or unique prefix) from the run store stands for its record. Against
    a workflow, only the records of that workflow are replayed, live ones unless
    --mode says otherwise; the output says which were used.

    Exit status: 0 identical/conformant, 1 different, 2 error.
    """
    try:
        result = compare_paths(first, second, *rest, modes=parse_modes(modes), store_root=store_dir)
    except OsopError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if isinstance(result, ConformanceSummary):
        for message in result.skipped:
            click.echo(f"warning: skipped {message}", err=True)
    if fmt == "json":
        # in pieces too: the JSON of 100,000 records is never built whole
        for piece in diff_json_chunks(result):
            click.echo(piece, nl=False)
        click.echo()
    else:
        # in pieces: a diff of 100,000 records is 200,000 lines, not held all at once
        chunk: list[str] = []
        for line in diff_lines(result, "markdown" if fmt == "markdown" else "text"):
            chunk.append(line)
            if len(chunk) == 1000:
                click.echo("\n".join(chunk))
                chunk = []
        if chunk:
            click.echo("\n".join(chunk))
    same = result.conformant if isinstance(result, ConformanceSummary) else result.identical
    sys.exit(0 if same else 1)
