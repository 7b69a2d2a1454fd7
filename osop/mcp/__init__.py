"""OSOP as an MCP server for AI agents (``osop mcp``; needs the ``mcp`` extra)."""

from osop.mcp.server import INSTALL_HINT, OsopTools, build_server, default_home

__all__ = ["INSTALL_HINT", "OsopTools", "build_server", "default_home"]
