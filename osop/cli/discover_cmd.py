"""``osop discover URL``: list (and fetch) the processes a site publishes at its root."""

from __future__ import annotations

from pathlib import Path

import click

from osop.cli.common import handle_errors, print_json

__all__ = ["discover"]


@click.command()
@click.argument("url")
@click.option("--fetch", "which", help="Download this operation (id, title, file name or number).")
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="Folder to write a fetched workflow into.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite a fetched file that exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
@handle_errors
def discover(url: str, which: str | None, output: Path, force: bool, as_json: bool) -> None:
    """List the operations a site publishes, or fetch one with --fetch.

    \b
    Looks for URL/.well-known/sop first, then URL/.sop; validates it; lists each
    workflow with its purpose and entry inputs.  HTTPS is required (plain HTTP
    only to localhost); refs to other hosts or file:// are refused.
    Example:
      osop discover https://example.com
      osop discover https://example.com --fetch deploy-service -o flows/
    """
    from osop.discovery import discover as discover_site
    from osop.discovery import fetch_operation

    if which is not None:
        op, path = fetch_operation(url, which, output, force=force)
        click.echo(f"Fetched {op.label} from {op.url or 'the .sop (inline)'} into {path}.")
        return
    found = discover_site(url)
    if as_json:
        print_json(found.to_dict())
        return
    click.echo(f"{found.name} ({found.document_url}): {len(found.operations)} operation(s)")
    if found.description:
        click.echo(f"  {found.description}")
    for number, op in enumerate(found.operations, start=1):
        click.echo(f"{number}. {op.label}  [{op.workflow_id or '?'}]  ({op.section})")
        if op.description:
            click.echo(f"     purpose: {op.description}")
        if op.error:
            click.echo(f"     unavailable: {op.error}")
        else:
            click.echo(f"     inputs: {', '.join(op.inputs) or '-'}; url: {op.url or 'inline'}")
    for note in found.notes:
        click.echo(f"Note: {note}", err=True)
