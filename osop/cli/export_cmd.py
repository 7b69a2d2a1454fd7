"""``osop export``: records to process-mining formats (XES, OCEL 2.0)."""

from __future__ import annotations

from pathlib import Path

import click

from osop.analysis.export_ocel import write_ocel
from osop.analysis.export_xes import write_xes
from osop.analysis.selection import parse_modes, select_records
from osop.cli.common import handle_errors, modes_option
from osop.cli.run_support import store_option
from osop.errors import OsopError

__all__ = ["export"]


@click.command("export")
@click.argument("logs", nargs=-1, required=True)
@click.option(
    "--to", "target", type=click.Choice(["xes", "ocel"]), required=True, help="Output format."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="File to write."
)
@modes_option
@store_option
@handle_errors
def export(
    logs: tuple[str, ...],
    target: str,
    output: str,
    modes: tuple[str, ...],
    store_dir: Path | None,
) -> None:
    """Export execution records as an XES event log or an OCEL 2.0 JSON log.

    LOGS are .osoplog files, folders, globs or run ids from the run store (live
    records unless --mode says otherwise). Open the result with PM4Py
    (pm4py.read_xes / pm4py.read_ocel2_json), ProM or Celonis.
    """
    selection = select_records(logs, modes=parse_modes(modes), store_root=store_dir)
    for failure in selection.failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    runs = selection.runs
    try:
        with open(output, "w", encoding="utf-8") as stream:
            if target == "xes":
                count = write_xes(runs, stream)
                what = "traces"
            else:
                count = write_ocel(runs, stream)
                what = "events"
    except OSError as exc:
        raise OsopError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}: {count} {what}, {selection.describe()}", err=True)
