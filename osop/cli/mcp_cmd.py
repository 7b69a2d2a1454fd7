"""``osop mcp``: serve OSOP's tools to AI agents over MCP (stdio)."""

from __future__ import annotations

from pathlib import Path

import click

from osop.cli.common import handle_errors

__all__ = ["mcp"]


@click.command()
@click.option(
    "--home",
    "--store",
    "home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the server keeps its runs (default: $OSOP_HOME, else the user's data "
    "folder, e.g. ~/.local/share/osop; never the client's working directory).",
)
@click.option(
    "--root",
    "roots",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Offer every .osop/.sop file under this folder as a resource (repeatable).",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder that workflows given as text run in (default: HOME/work).",
)
@handle_errors
def mcp(home: Path | None, roots: tuple[Path, ...], workdir: Path | None) -> None:
    """Serve OSOP to AI agents over the Model Context Protocol (stdio).

    \b
    Tools: osop_validate, osop_render, osop_run, osop_step, osop_log,
    osop_runs, osop_status, osop_approve, osop_signal, osop_resume,
    osop_cancel, osop_report, osop_diff, osop_stats, osop_synthesize,
    osop_export, osop_hub_search, osop_hub_pull, osop_discover.
    Resources: the .osop/.sop files under each --root.  Prompt: follow_sop
    (starts a guided run).  Needs: pip install 'osop-toolkit[mcp]'.

    \b
    Register it with an MCP client, e.g.:
      {"mcpServers": {"osop": {"command": "osop",
        "args": ["mcp", "--root", "/home/me/sops"]}}}
    """
    from osop.mcp import build_server

    build_server(home, workdir, list(roots)).run("stdio")
