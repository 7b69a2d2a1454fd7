"""``osop validate``: check documents against the spec."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from osop.cli.common import handle_errors, print_json
from osop.cli.paths import NoSuchPath
from osop.cli.validate_core import NoDocuments, collect_reports, print_text
from osop.format.api import load_workflow
from osop.format.loader import DEFAULT_MAX_BYTES, DocumentKind
from osop.format.workflow import Workflow

__all__ = ["validate"]


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json prints one array with one object per file.",
)
@click.option("--strict", is_flag=True, help="Warnings count as failures too.")
@click.option(
    "--workflow",
    "workflow_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check .osoplog files against this workflow (node ids and types).",
)
@click.option(
    "--kind",
    type=click.Choice(["workflow", "log", "sop"]),
    help="Document kind when the file name does not tell (e.g. stdin).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Refuse documents larger than this.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, no summaries.")
@handle_errors
def validate(
    paths: tuple[str, ...],
    fmt: str,
    strict: bool,
    workflow_path: Path | None,
    kind: DocumentKind | None,
    max_bytes: int,
    quiet: bool,
) -> None:
    """Check .osop, .osoplog and .sop documents against the spec.

    PATHS are files, folders (searched for OSOP documents) or globs; `-` reads
    stdin.  Prints `file:line:col: severity rule-id: message` per issue.

    \b
    Exit status: 0 every file valid (warnings allowed unless --strict),
                 1 some file invalid, 2 usage error.
    """
    if paths.count("-") > 1:
        raise click.UsageError("`-` (stdin) can be given only once")
    workflow: Workflow | None = (
        load_workflow(workflow_path, max_bytes=max_bytes) if workflow_path else None
    )
    try:
        reports = collect_reports(
            paths,
            workflow=workflow,
            max_bytes=max_bytes,
            kind=kind,
            read_stdin=sys.stdin.buffer.read,
        )
    except (NoSuchPath, NoDocuments) as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "json":
        print_json([r.to_dict() for r in reports])
    else:
        print_text(
            reports, color=sys.stdout.isatty(), quiet=quiet, echo=click.echo, style=click.style
        )
    sys.exit(0 if all(r.ok(strict=strict) for r in reports) else 1)
