"""``osop validate``: check documents against the spec."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import click

from osop.cli.common import expand_paths, handle_errors, print_json
from osop.diagnostics import Issue
from osop.format.api import load_workflow
from osop.format.loader import DEFAULT_MAX_BYTES, DocumentKind
from osop.format.validate import ValidationReport, validate_path, validate_text
from osop.format.workflow import Workflow

__all__ = ["validate"]

_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


def _excerpt(report: ValidationReport, issue: Issue) -> str | None:
    doc = report.document
    if doc is None or issue.line is None:
        return None
    text = doc.line_text(issue.line)
    if not text.strip():
        return None
    column = max(1, issue.column or 1)
    shown = text.expandtabs(1)
    if len(shown) > 100:  # keep the caret visible on long lines
        start = max(0, column - 60)
        shown = ("…" if start else "") + shown[start : start + 100]
        column = column - start + (1 if start else 0)
    return f"    {shown}\n    {' ' * _cells(shown[: column - 1])}^"


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _print_text(reports: list[ValidationReport], *, color: bool, quiet: bool) -> None:
    for report in reports:
        for issue in report.issues:
            if quiet and issue.severity != "error":
                continue
            line = issue.format(report.file)
            click.echo(click.style(line, fg=_COLOURS.get(issue.severity)) if color else line)
            excerpt = _excerpt(report, issue)
            if excerpt and issue.severity == "error":
                click.echo(excerpt)
        if quiet:
            continue
        status = "valid" if report.valid else "invalid"
        level = f", conformance level {report.level}" if report.level is not None else ""
        counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        summary = f"{report.file}: {status} {report.kind or 'document'}{level} — {counts}"
        click.echo(click.style(summary, bold=True) if color else summary)
    if len(reports) > 1 and not quiet:
        bad = sum(1 for r in reports if not r.valid)
        click.echo(f"{len(reports)} file(s) checked, {bad} invalid")


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
    reports: list[ValidationReport] = []
    for item in expand_paths(paths):
        if item == "-":
            data = sys.stdin.buffer.read()
            reports.append(
                validate_text(data, "<stdin>", workflow=workflow, max_bytes=max_bytes, kind=kind)
            )
        else:
            reports.append(validate_path(item, workflow=workflow, max_bytes=max_bytes, kind=kind))
    if not reports:
        raise click.UsageError("no OSOP documents found in the given paths")
    if fmt == "json":
        print_json([r.to_dict() for r in reports])
    else:
        _print_text(reports, color=sys.stdout.isatty(), quiet=quiet)
    sys.exit(0 if all(r.ok(strict=strict) for r in reports) else 1)
