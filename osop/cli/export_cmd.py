"""``osop export``: records to process-mining formats (XES, OCEL 2.0)."""

from __future__ import annotations

import io

import click

from osop.analysis.export_ocel import write_ocel
from osop.analysis.export_xes import write_xes
from osop.analysis.records import ReadFailure, no_records_message, read_records
from osop.cli.common import expand_paths, handle_errors
from osop.errors import OsopError
from osop.record.writer import atomic_write_text

__all__ = ["export"]

LOG_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")


@click.command("export")
@click.argument("logs", nargs=-1, required=True)
@click.option(
    "--to", "target", type=click.Choice(["xes", "ocel"]), required=True, help="Output format."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="File to write."
)
@handle_errors
def export(logs: tuple[str, ...], target: str, output: str) -> None:
    """Export execution records as an XES event log or an OCEL 2.0 JSON log.

    LOGS are .osoplog files, folders or globs. Open the result with PM4Py
    (pm4py.read_xes / pm4py.read_ocel2_json), ProM or Celonis.
    """
    failures: list[ReadFailure] = []
    paths = list(expand_paths(logs, LOG_SUFFIXES))
    runs = [record for _, record in read_records(paths, failures)]
    for failure in failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    if not runs:
        raise OsopError(no_records_message(logs, len(paths)))
    stream = io.StringIO()
    if target == "xes":
        count = write_xes(runs, stream)
        what = "traces"
    else:
        count = write_ocel(runs, stream)
        what = "events"
    atomic_write_text(output, stream.getvalue())
    click.echo(f"wrote {output}: {count} {what} from {len(runs)} record(s)", err=True)
