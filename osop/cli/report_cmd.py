"""``osop report``: an execution report from a workflow, a record, or both."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from osop.analysis.documents import document_kind, read_run, read_workflow
from osop.cli.common import handle_errors, max_bytes_option
from osop.cli.run_support import open_store, store_option
from osop.cli.temporal_support import run_async, temporal_options
from osop.engine import load_run
from osop.format.workflow import Workflow
from osop.record.model import RunRecord
from osop.record.writer import atomic_write_text
from osop.render.report import render_report

__all__ = ["report"]


@click.command("report")
@click.argument("documents", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "ansi", "text"]),
    default=None,
    help="html (one self-contained page), ansi (coloured terminal) or text (80 columns). "
    "Default: html when -o ends in .html, ansi on a terminal, text otherwise.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option(
    "--color",
    "--colour",
    "color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="ANSI colours: always (even when piped), never, or auto: on a terminal, or "
    "whenever --format ansi is asked for.",
)
@store_option
@max_bytes_option
@temporal_options
@handle_errors
def report(
    documents: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    color: str,
    store_dir: Path | None,
    temporal: Any = None,
) -> None:
    """Render an execution report.

    DOCUMENTS is a workflow (.osop), a record (.osoplog), or one of each: the
    plan alone, what happened alone, or what happened named by the plan.  A run
    id (or a unique prefix) from the run store stands for both: `osop report 3f2a`.
    """
    workflow: Workflow | None = None
    record: RunRecord | None = None
    if len(documents) > 2:
        raise click.UsageError("give at most one workflow and one record")
    if len(documents) == 1 and not Path(documents[0]).exists() and temporal is not None:
        from osop.temporal.runs import read_temporal_run

        workflow, record = run_async(read_temporal_run(temporal, documents[0]))
        documents = ()
    elif len(documents) == 1 and not Path(documents[0]).exists():
        workflow, record = load_run(open_store(store_dir), documents[0])
        documents = ()
    for path in documents:
        kind = document_kind(path)
        if kind == "workflow" and workflow is None:
            workflow = read_workflow(path)
        elif kind == "log" and record is None:
            record = read_run(path)
        else:
            raise click.UsageError(f"{path}: expected one workflow and/or one record")
    asked_for_ansi = fmt == "ansi"
    if fmt is None:
        if output is not None and output.lower().endswith((".html", ".htm")):
            fmt = "html"
        elif output is None and (sys.stdout.isatty() or color == "always"):
            fmt = "ansi"
        else:
            fmt = "text"
    text = render_report(workflow, record, fmt)
    if output is None:
        # click strips colour codes when stdout is not a terminal unless told otherwise
        keep = {"always": True, "never": False}.get(color, True if asked_for_ansi else None)
        click.echo(text, nl=False, color=keep)
        return
    if fmt == "ansi" and color == "never":
        text = click.unstyle(text)
    atomic_write_text(Path(output), text)
    click.echo(f"wrote {output}", err=True)
