"""``osop migrate``: rewrite legacy documents to the current form."""

from __future__ import annotations

import sys

import click

from osop.cli.common import expand_paths, handle_errors, max_bytes_option
from osop.errors import LoadError
from osop.format.migrate import migrate_path

__all__ = ["migrate"]


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="Only report what would change; write nothing.")
@max_bytes_option
@handle_errors
def migrate(paths: tuple[str, ...], check: bool) -> None:
    """Rewrite legacy forms in PATHS (files, folders, globs) to the current spec.

    \b
    Workflows: `osop:` → `osop_version:`, unsupported versions → 1.1, a missing
    `id` from the name, node `name` from `purpose`, `condition:` → `when:`,
    word operators in conditions (AND, or, not) → &&, ||, !.
    Records: legacy statuses (TIMEOUT → TIMED_OUT), missing `attempt`, string errors.
    Comments and key order are kept; files are replaced atomically.

    \b
    Exit status: 0 nothing (left) to change; with --check, 1 when some file would
    change; 1 when a file cannot be read.
    """
    pending = 0
    failed = 0
    seen = 0
    for item in expand_paths(paths):
        seen += 1
        if item == "-":
            raise click.UsageError("migrate works on files; stdin is not supported")
        try:
            result = migrate_path(item, write=not check)
        except LoadError as exc:
            click.echo(f"Error: {exc}", err=True)
            failed += 1
            continue
        if not result.changed:
            continue
        pending += 1
        verb = "would change" if check else "migrated"
        click.echo(f"{result.file}: {verb} ({len(result.changes)} change(s))")
        for change in result.changes:
            click.echo(f"  {change}")
    if not seen:
        raise click.UsageError("no OSOP documents found in the given paths")
    if failed or (check and pending):
        sys.exit(1)
