"""``osop export``: records to process-mining formats (XES, OCEL 2.0) or to OTLP traces."""

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
@handle_errors
def export(logs: tuple[str, ...], target: str, output: str | None) -> None:
    """Export execution records as an XES event log, an OCEL 2.0 JSON log, or OTLP traces.

    LOGS are .osoplog files, folders or globs (imported agent sessions too).
    Open XES/OCEL with PM4Py (pm4py.read_xes / pm4py.read_ocel2_json), ProM or
    Celonis. `--to otlp` sends one trace per record, with the records' own
    timestamps, to the endpoint the standard OTEL_* variables name (extra
    `otel`).
    """
    if target != "otlp" and output is None:
        raise click.UsageError(f"--to {target} needs -o/--output FILE")
    failures: list[ReadFailure] = []
    paths = list(expand_paths(logs, LOG_SUFFIXES))
    runs = [record for _, record in read_records(paths, failures)]
    for failure in failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    if not runs:
        raise OsopError(no_records_message(logs, len(paths)))
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
        click.echo(f"sent {count} trace(s) over OTLP", err=True)
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
    click.echo(f"wrote {output}: {count} {what} from {len(runs)} record(s)", err=True)
