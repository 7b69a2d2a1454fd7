"""``osop render``: a ``.sop`` as an HTML document, a workflow as SVG/HTML/Mermaid/story."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, cast

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import open_store, store_option
from osop.format.loader import detect_kind
from osop.render.document import render_sop_file, render_workflow_page
from osop.render.layout import Direction
from osop.render.mermaid import render_mermaid
from osop.render.source import load_for_render
from osop.render.story import render_story
from osop.render.svg import auto_layout, render_svg, workflow_layout

__all__ = ["render", "write_atomic"]

Format = Literal["svg", "html", "mermaid", "story", "agent"]

_BY_SUFFIX: dict[str, Format] = {
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "mermaid",
    ".txt": "story",
}


def _file_mode(path: Path) -> int:
    """Keep an existing file's mode; a new file gets what ``open()`` would give it."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _cannot_write(path: Path, exc: OSError) -> str:
    # Name the culprit when it is not the output itself (a parent that is a file).
    parents = [str(p) for p in path.parents]
    culprit = f" ({exc.filename})" if exc.filename and str(exc.filename) in parents else ""
    return f"cannot write {path}: {exc.strerror or exc}{culprit}"


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: never a half-written output, never a
    special file replaced, no folder created (the one helper in osop.record.writer)."""
    from osop.record.writer import atomic_write_text

    atomic_write_text(path, text)


def _choose_format(requested: str | None, output: Path | None, is_sop: bool) -> Format:
    if requested:
        return cast(Format, requested)
    if output is not None and output.suffix.lower() in _BY_SUFFIX:
        return _BY_SUFFIX[output.suffix.lower()]
    return "html" if is_sop else "mermaid"


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["svg", "html", "mermaid", "story", "agent"]),
    help="Output format (default: from the -o suffix; else html for .sop, mermaid for .osop).",
)
@click.option(
    "--direction",
    type=click.Choice(["auto", "LR", "TB"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Layers left-to-right, top-to-bottom, or auto: LR unless that gives a long strip.",
)
@click.option(
    "--allow-outside-refs",
    is_flag=True,
    help="A .sop may include workflows outside its own folder (refused by default).",
)
@store_option
@handle_errors
def render(
    file: Path,
    output: Path | None,
    fmt: str | None,
    direction: str,
    allow_outside_refs: bool,
    store_dir: Path | None,
) -> None:
    """Render FILE: a .sop as one self-contained HTML document, or one .osop workflow.

    \b
    Workflow formats:
      svg      the graph, laid out in layers (standalone SVG)
      html     a page with Visual, YAML, Story, Roles (and Runs) tabs; Runs lists
               the records beside the workflow and its runs in the run store
      mermaid  a Mermaid flowchart for Markdown (GitHub renders it)
      story    the process told step by step in plain text
      agent    the SOP written for an AI agent: the plan step by step (read, do,
               verify, report) and how to drive it as a guided run (Markdown)

    \b
    Examples:
      osop render handbook.sop -o handbook.html
      osop render deploy.osop -f svg -o deploy.svg
      osop render deploy.osop -f mermaid >> README.md
    """
    if str(file) == "-":
        raise click.UsageError("render reads a file; stdin is not supported")
    is_sop = detect_kind(file.name) == "sop"
    chosen = _choose_format(fmt, output, is_sop)
    warnings: list[str] = []
    if is_sop:
        if chosen != "html":
            raise click.UsageError(f"a .sop renders to html only, not {chosen}")
        page = render_sop_file(
            file, allow_outside_refs=allow_outside_refs, store_root=open_store(store_dir).root
        )
        text, warnings = page.html, page.warnings
    else:
        src = load_for_render(file)
        if direction.lower() == "auto":
            layout = auto_layout(src.graph)
        else:
            layout = workflow_layout(src.graph, cast(Direction, direction.upper()))
        way = layout.direction
        if chosen == "svg":
            text = render_svg(src.graph, layout=layout) + "\n"
        elif chosen == "mermaid":
            text = render_mermaid(src.graph, direction=way)
            if output is not None and output.suffix.lower() == ".md":
                text = f"```mermaid\n{text}```\n"
        elif chosen == "story":
            text = render_story(src.graph)
        elif chosen == "agent":
            from osop.render.agent import render_agent

            text = render_agent(src.graph)
        else:
            page = render_workflow_page(src, store_root=open_store(store_dir).root)
            text, warnings = page.html, page.warnings
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        click.echo(f"Wrote {output}", err=True)
