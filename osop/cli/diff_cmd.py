"""``osop diff``: workflow vs workflow, run vs run, or workflow vs runs (should vs did)."""

from __future__ import annotations

import sys

import click

from osop.analysis.conformance import ConformanceSummary, replay, summarise
from osop.analysis.diff_format import AnyDiff, format_diff
from osop.analysis.diff_records import diff_records
from osop.analysis.diff_workflows import diff_workflows
from osop.analysis.documents import document_kind, read_run, read_workflow
from osop.cli.common import expand_paths, print_json
from osop.errors import OsopError

__all__ = ["diff"]

LOG_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")


def _compare(first: str, second: str, rest: tuple[str, ...]) -> AnyDiff:
    kind_a = document_kind(first)
    if kind_a == "workflow":
        others = [str(p) for p in expand_paths((second, *rest), LOG_SUFFIXES)]
        kinds = {document_kind(p) for p in others}
        if kinds == {"workflow"} and len(others) == 1:
            return diff_workflows(read_workflow(first), read_workflow(others[0]), first, others[0])
        if kinds != {"log"}:
            raise click.UsageError(
                "compare a workflow with one workflow, or with one or more records"
            )
        workflow = read_workflow(first)
        return summarise(first, (replay(workflow, read_run(p), p) for p in others))
    if kind_a == "log":
        if rest or document_kind(second) != "log":
            raise click.UsageError("a record is compared with exactly one other record")
        return diff_records(read_run(first), read_run(second), first, second)
    raise click.UsageError(f"{first}: diff compares workflows and records, not {kind_a} files")


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
def diff(first: str, second: str, rest: tuple[str, ...], fmt: str) -> None:
    """Compare two workflows, two runs, or a workflow with what runs did.

    \b
    A.osop B.osop             nodes, edges and metadata added/removed/changed
    A.osoplog B.osoplog       per node: status, attempts, duration, cost
    WF.osop LOG... (folders)  should vs did: deviations and token-replay fitness

    Exit status: 0 identical/conformant, 1 different, 2 error.
    """
    try:
        result = _compare(first, second, rest)
    except OsopError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if fmt == "json":
        print_json(result.to_dict())
    else:
        click.echo(format_diff(result, "markdown" if fmt == "markdown" else "text"), nl=False)
    same = result.conformant if isinstance(result, ConformanceSummary) else result.identical
    sys.exit(0 if same else 1)
