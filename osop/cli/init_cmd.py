"""``osop init``: scaffold a workflow from a template."""

from __future__ import annotations

import json
from pathlib import Path

import click

from osop.cli.common import handle_errors
from osop.format.loader import load_document
from osop.templates import DEFAULT_TEMPLATE, list_templates, scaffold

__all__ = ["init"]


@click.command()
@click.argument("name", required=False)
@click.option(
    "-t",
    "--template",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="Template to start from (see --list).",
)
@click.option("--list", "show_list", is_flag=True, help="List the templates and exit.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: NAME.osop.yaml in the current folder).",
)
@click.option("--title", help="Display name of the workflow (default: from NAME).")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@handle_errors
def init(
    name: str | None,
    template: str,
    show_list: bool,
    output: Path | None,
    title: str | None,
    force: bool,
) -> None:
    """Create NAME.osop.yaml from a template; NAME becomes the workflow id.

    NAME must be kebab-case (e.g. release-train). Without NAME the template's own
    id is kept. The new file validates and runs in simulated mode as it is.

    \b
    Examples:
      osop init --list
      osop init release-train --template deployment
      osop init triage -t incident-response -o ops/triage.osop.yaml
    """
    if show_list:
        infos = list_templates()
        width = max(len(i.name) for i in infos)
        for info in infos:
            default = " (default)" if info.name == DEFAULT_TEMPLATE else ""
            click.echo(f"{info.name:<{width}}  {info.summary}{default}")
        return
    text = scaffold(template, name, title)
    target = output or Path(f"{name or template}.osop.yaml")
    if target.name.lower().endswith(".json"):
        # The templates are YAML; a .json target gets the same document as JSON.
        data = load_document(text, "template.osop.yaml").data
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists (use --force to overwrite it)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        parents = [str(p) for p in target.parents]
        culprit = f" ({exc.filename})" if exc.filename and str(exc.filename) in parents else ""
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot write {target}: {reason}{culprit}") from None
    click.echo(f"Created {target} from the {template!r} template.")
    stem = target.name.split(".")[0]
    click.echo(f"Next: osop validate {target}  ·  osop render {target} -o {stem}.html")
