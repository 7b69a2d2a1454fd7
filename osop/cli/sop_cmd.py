"""``osop sop``: work with ``.sop`` collections (``osop sop build``)."""

from __future__ import annotations

from pathlib import Path

import click

from osop.cli.common import handle_errors, max_bytes_option
from osop.record.writer import atomic_write_text
from osop.render.sop_build import build_sop, sop_yaml

__all__ = ["sop"]


@click.group()
def sop() -> None:
    """Build and maintain .sop collections of workflows."""


@sop.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The .sop file to write (refs are written relative to it).",
)
@click.option("--name", help="Title of the collection (default: from the folder name).")
@click.option("--description", help="Description of the collection.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@max_bytes_option
@handle_errors
def build(
    folder: Path, output: Path, name: str | None, description: str | None, force: bool
) -> None:
    """Build a .sop from FOLDER's workflows; each subfolder becomes a section.

    \b
    Example:
      osop sop build processes/ -o handbook.sop && osop render handbook.sop -o handbook.html
    """
    if not output.name.lower().endswith(".sop"):
        raise click.UsageError(
            f"the output is a .sop collection: name it *.sop (then `osop render` it to HTML), "
            f"not {output.name}"
        )
    if output.exists() and not force:
        raise click.ClickException(f"{output} already exists (use --force to overwrite it)")
    result = build_sop(folder, output, name=name, description=description)
    for note in result.skipped:
        click.echo(f"Warning: skipped {note}", err=True)
    # The collection's refs are written relative to OUTPUT: naming a new folder
    # for it is asking for that folder, so it is made (unlike other outputs).
    atomic_write_text(output, sop_yaml(result), create_parents=True)
    sections = len(result.data["sections"])
    count = result.workflow_count
    click.echo(
        f"Wrote {output}: {count} workflow{'s' if count != 1 else ''} "
        f"in {sections} section{'s' if sections != 1 else ''}."
    )


@sop.command("publish-site")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The site's root folder (the files are written into it).",
)
@max_bytes_option
@handle_errors
def publish_site(source: Path, output: Path) -> None:
    """Write what a web site serves so agents find its processes (`osop discover`).

    \b
    SOURCE is a .sop (its referenced workflows come along) or a folder of workflows.
    Writes OUTPUT/.well-known/sop, OUTPUT/.sop and the workflows under OUTPUT/sop/.
    """
    from osop.discovery import write_site

    written = write_site(source, output)
    click.echo(
        f"Wrote {len(written)} file(s) under {output}; serve it and run `osop discover URL`."
    )
