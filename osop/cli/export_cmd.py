"""``osop export``: records to process-mining formats (XES, OCEL 2.0) or to OTLP traces."""

from __future__ import annotations

import io
from pathlib import Path

import click

from osop.analysis.export_ocel import write_ocel
from osop.analysis.export_xes import write_xes
from osop.analysis.selection import parse_modes, select_records
from osop.cli.common import handle_errors, modes_option, store_option
from osop.errors import OsopError
from osop.record.writer import atomic_write_text

__all__ = ["export"]


@click.command("export")
@click.argument("logs", nargs=-1, required=True)
@click.option(
    "--to",
    "target",
    type=click.Choice(["xes", "ocel", "otlp"]),
    required=True,
    help="Output format (otlp: send traces to the OTEL_EXPORTER_OTLP_* endpoint).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write (xes, ocel).",
)
@modes_option
@store_option
@handle_errors
def export(
    logs: tuple[str, ...],
    target: str,
    output: str | None,
    modes: tuple[str, ...],
    store_dir: Path | None,
) -> None:
    """Export execution records as an XES event log, an OCEL 2.0 JSON log, or OTLP traces.

    LOGS are .osoplog files, folders, globs or run ids from the run store (live
    records unless --mode says otherwise; imported agent sessions too). Open
    XES/OCEL with PM4Py (pm4py.read_xes / pm4py.read_ocel2_json), ProM or
    Celonis. `--to otlp` sends one trace per record, with the records' own
    timestamps, to the endpoint the standard OTEL_* variables name (extra
    `otel`).
    """
    if target != "otlp" and output is None:
        raise click.UsageError(f"--to {target} needs -o/--output FILE")
    selection = select_records(logs, modes=parse_modes(modes), store_root=store_dir)
    for failure in selection.failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    runs = selection.runs
    if target == "otlp":
        from osop.telemetry import export_records, setup_telemetry

        telemetry = setup_telemetry(metrics=False)
        try:
            count = export_records(runs, telemetry)
        finally:
            telemetry.shutdown()
        if telemetry.failed_spans:
            raise OsopError(
                f"{telemetry.failed_spans} span(s) could not be exported: is the OTLP "
                "endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) up?"
            )
        click.echo(f"sent {count} trace(s) over OTLP, {selection.describe()}", err=True)
        return
    assert output is not None
    stream = io.StringIO()
    if target == "xes":
        count = write_xes(runs, stream)
        what = "traces"
    else:
        count = write_ocel(runs, stream)
        what = "events"
    atomic_write_text(output, stream.getvalue())
    click.echo(f"wrote {output}: {count} {what}, {selection.describe()}", err=True)
