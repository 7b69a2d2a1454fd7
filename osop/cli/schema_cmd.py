"""``osop schema``: print a shipped JSON Schema."""

from __future__ import annotations

import click

from osop.cli.common import handle_errors
from osop.format.schemas import SCHEMA_NAMES, SchemaName, schema_text

__all__ = ["schema"]


@click.command()
@click.argument("name", type=click.Choice(SCHEMA_NAMES))
@handle_errors
def schema(name: SchemaName) -> None:
    """Print the JSON Schema (draft 2020-12) for NAME: osop, osoplog or sop.

    Save it and point your editor at it, e.g. with the YAML language server:
    `# yaml-language-server: $schema=./osop.schema.json` as a file's first line.
    """
    click.echo(schema_text(name), nl=False)
