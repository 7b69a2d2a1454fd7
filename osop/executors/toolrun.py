"""Shared by the git, docker, cicd and infra executors: run a real CLI tool.

A node either gives ``runtime.command`` (run like a ``cli`` node), or
``runtime.args`` (a list, appended to the tool's name), or an ``action``
the executor knows how to turn into arguments.  Before running, the tool
is looked up on the run's ``PATH``: a missing tool fails with ``NO_TOOL``
and says what to install.  Commands are classified like any shell command
(``git push --force``, ``terraform destroy`` need an approval).
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.cli import child_env, run_command

__all__ = ["require_tool", "run_tool", "string_list"]


def string_list(value: Any) -> list[str]:
    """A list of strings from a list or a single scalar (empty for None)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def require_tool(ctx: NodeContext, tool: str, install: str) -> None:
    env = child_env(ctx, ctx.runtime.get("environment", ctx.runtime.get("env")))
    if shutil.which(tool, path=env.get("PATH")) is None:
        raise NodeFailure(
            "NO_TOOL",
            f"{tool!r} was not found on PATH: install {install}",
            retryable=False,
        )


def _first_word(command: Any) -> str | None:
    if isinstance(command, list) and command:
        return str(command[0])
    if isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError:
            return None
        return words[0] if words else None
    return None


async def run_tool(
    ctx: NodeContext,
    tool: str,
    install: str,
    args: Sequence[str] | None,
    *,
    what: str,
) -> NodeResult:
    """Run ``runtime.command`` if given, else ``tool args``; ``args=None`` means nothing to run."""
    rt: Mapping[str, Any] = ctx.runtime
    command: Any = rt.get("command")
    if command is None and args is None:
        raise NodeFailure(
            "NO_OPERATION",
            f"{ctx.node.type} node {ctx.node.id!r}: nothing to run — give runtime.command, "
            f"runtime.args, or a supported runtime.action",
            retryable=False,
        )
    if command is None:
        command = [tool, *(args or [])]
    if _first_word(command) == tool:
        require_tool(ctx, tool, install)
    return await run_command(
        ctx,
        command if isinstance(command, list) else str(command),
        shell=rt.get("shell"),
        working_dir=rt.get("working_dir", rt.get("cwd")),
        env=rt.get("environment", rt.get("env")),
        success_codes=rt.get("success_codes"),
        max_output_kb=rt.get("max_output_kb"),
        what=what,
    )
