"""``osop mcp``: serve OSOP's tools to AI agents over MCP (stdio)."""

from __future__ import annotations

from pathlib import Path

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import store_option

__all__ = ["mcp"]


@click.command()
@store_option
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder that workflows given as text run in (default: the current folder).",
)
@handle_errors
def mcp(store_dir: Path | None, workdir: Path | None) -> None:
    """Serve OSOP to AI agents over the Model Context Protocol (stdio).

    \b
    Tools: osop_validate, osop_render, osop_run, osop_runs, osop_status,
    osop_approve, osop_signal, osop_resume, osop_cancel, osop_report,
    osop_diff, osop_stats, osop_hub_search, osop_hub_pull,
    osop_discover.  Needs: pip install 'osop-toolkit[mcp]'.

    \b
    Register it with an MCP client, e.g.:
      {"mcpServers": {"osop": {"command": "osop", "args": ["mcp"]}}}
    """
    from osop.mcp import build_server

    build_server(store_dir, workdir).run("stdio")
