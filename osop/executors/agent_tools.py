"""The tools an ``agent`` node gives its model (``runtime.tools``).

Each entry of ``runtime.tools`` is one of:

* ``read_file``, ``list_files``, ``run_command`` (or ``{name: read_file}``,
  ``osop.read_file``): the built-ins.  Paths are relative to the run's working
  directory and may not leave it.  ``run_command`` runs through the same
  classification and gates as a ``cli`` node: a *blocked* command is refused
  and the model is told so; a *dangerous* one needs an approval — the attempt
  pauses for it exactly as a ``cli`` node does (``NEEDS_APPROVAL``), and a
  rejection fails the node with ``REJECTED``.
* ``{mcp: <server>}`` — every tool of that MCP server (``ctx.services
  ["mcp_servers"]`` maps names to commands, as for ``mcp`` nodes), or
  ``{mcp: <server>, tool: <name>}`` for one; ``server_command`` works too.
* ``{node: <id>}`` — another node of the workflow, run through its own
  executor with the model's arguments as its inputs (``runtime.arguments``
  merged over its runtime); its outputs are the tool's result.

Names a model cannot call (anything else) fail the node with ``UNKNOWN_TOOL``
before the model is asked anything.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from osop.executors.approval import enforce
from osop.executors.base import NodeContext, NodeFailure
from osop.executors.cli import child_env, failure_line
from osop.executors.process import run_process
from osop.llm import ToolHandler, ToolOutcome, ToolSpec
from osop.security import Redactor, classify_command

__all__ = ["BUILTIN_TOOLS", "Toolbox", "open_toolbox"]

_READ_LIMIT: Final = 256 * 1024
_RESULT_LIMIT: Final = 32 * 1024

BUILTIN_TOOLS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "read_file": (
        "Read a text file inside the working directory.",
        {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "relative path"}},
            "required": ["path"],
        },
    ),
    "list_files": (
        "List the entries of a directory inside the working directory.",
        {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "relative path, default ."}},
        },
    ),
    "run_command": (
        "Run a shell command in the working directory; returns exit code, stdout and stderr. "
        "Dangerous commands need a human's approval; blocked ones are refused.",
        {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    ),
}


@dataclass(slots=True)
class Toolbox:
    specs: list[ToolSpec] = field(default_factory=list)
    handlers: dict[str, ToolHandler] = field(default_factory=dict)
    #: Tool name → where it comes from (``osop``, ``mcp:<server>``, ``node:<id>``).
    kinds: dict[str, str] = field(default_factory=dict)

    def add(self, spec: ToolSpec, handler: ToolHandler, kind: str) -> None:
        if spec.name in self.handlers:
            raise NodeFailure("BAD_RUNTIME", f"two tools are called {spec.name!r}", retryable=False)
        self.specs.append(spec)
        self.handlers[spec.name] = handler
        self.kinds[spec.name] = kind


def _clip(text: str) -> str:
    return text if len(text) <= _RESULT_LIMIT else text[:_RESULT_LIMIT] + "\n… (truncated)"


def _inside(ctx: NodeContext, raw: Any) -> Path | None:
    root = ctx.workdir.resolve()
    path = (root / str(raw or ".")).resolve()
    return path if path == root or root in path.parents else None


def _builtin(ctx: NodeContext, name: str) -> ToolHandler:
    redact = Redactor(ctx.secret_values)

    async def read_file(args: Mapping[str, Any]) -> ToolOutcome:
        path = _inside(ctx, args.get("path"))
        if path is None:
            return ToolOutcome("refused: the path leaves the working directory", True, "blocked")
        try:
            data = path.read_bytes()[: _READ_LIMIT + 1]
        except OSError as exc:
            return ToolOutcome(f"cannot read {args.get('path')}: {exc.strerror}", True, "error")
        text = data[:_READ_LIMIT].decode("utf-8", errors="replace")
        if len(data) > _READ_LIMIT:
            text += "\n… (truncated)"
        return ToolOutcome(redact.text(text))

    async def list_files(args: Mapping[str, Any]) -> ToolOutcome:
        path = _inside(ctx, args.get("path"))
        if path is None:
            return ToolOutcome("refused: the path leaves the working directory", True, "blocked")
        try:
            names = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
        except OSError as exc:
            return ToolOutcome(f"cannot list {args.get('path')}: {exc.strerror}", True, "error")
        return ToolOutcome("\n".join(names[:1000]))

    async def run_command(args: Mapping[str, Any]) -> ToolOutcome:
        command = str(args.get("command") or "").strip()
        if not command:
            return ToolOutcome("no command given", True, "error")
        try:
            enforce(ctx, classify_command(command), "command")
        except NodeFailure as failure:
            if failure.code != "BLOCKED":
                raise  # NEEDS_APPROVAL / REJECTED: the engine pauses or fails, as for cli
            return ToolOutcome(
                f"refused: {failure.message}. Blocked commands are never run; do not retry it.",
                True,
                "blocked",
            )
        result = await run_process(
            ["/bin/sh", "-c", command], cwd=ctx.workdir, env=child_env(ctx, None)
        )
        body = {
            "exit_code": result.exit_code,
            "stdout": _clip(redact.text(result.stdout)),
            "stderr": _clip(redact.text(result.stderr)),
        }
        failed = result.exit_code != 0
        if failed and (line := failure_line(result.stderr)):
            body["error"] = redact.text(line)
        return ToolOutcome(json.dumps(body), failed, "error" if failed else "ok")

    return {"read_file": read_file, "list_files": list_files, "run_command": run_command}[name]


def _mcp_argv(ctx: NodeContext, entry: Mapping[str, Any]) -> tuple[str, list[str], dict[str, str]]:
    command: Any = entry.get("server_command")
    name = str(entry.get("mcp") or entry.get("server") or "")
    env: dict[str, str] = {}
    if command is None:
        servers = ctx.services.get("mcp_servers")
        found = servers.get(name) if isinstance(servers, Mapping) else None
        if isinstance(found, Mapping):
            command = found.get("command")
            env = {str(k): str(v) for k, v in (found.get("env") or {}).items()}
        else:
            command = found
    if command is None:
        raise NodeFailure(
            "NO_SERVER",
            f"MCP server {name!r} (runtime.tools) is not configured: give server_command or "
            "map the name to a command in the run's mcp_servers",
            retryable=False,
        )
    argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    return name or argv[0], argv, env


async def _add_mcp(
    ctx: NodeContext, box: Toolbox, entry: Mapping[str, Any], stack: contextlib.AsyncExitStack
) -> None:
    from osop.executors.mcp import open_session

    server, argv, env = _mcp_argv(ctx, entry)
    enforce(ctx, classify_command(argv), "MCP server command")
    session = await stack.enter_async_context(open_session(ctx, argv, env))
    wanted = entry.get("tool")
    listed = await session.list_tools()
    for tool in listed:
        name = str(tool["name"])
        if wanted and name != wanted:
            continue

        async def call(args: Mapping[str, Any], _name: str = name) -> ToolOutcome:
            result = await session.call_tool(_name, args)
            content = result.get("content") if isinstance(result, Mapping) else None
            text = "\n".join(
                str(p.get("text", ""))
                for p in content or []
                if isinstance(p, Mapping) and p.get("type") == "text"
            )
            failed = bool(isinstance(result, Mapping) and result.get("isError"))
            return ToolOutcome(_clip(text), failed, "error" if failed else "ok")

        schema = tool.get("inputSchema")
        box.add(
            ToolSpec(
                name,
                str(tool.get("description") or f"MCP tool {name} of {server}"),
                schema if isinstance(schema, Mapping) else {"type": "object"},
            ),
            call,
            f"mcp:{server}",
        )
    if wanted and wanted not in box.handlers:
        raise NodeFailure(
            "UNKNOWN_TOOL", f"MCP server {server!r} has no tool {wanted!r}", retryable=False
        )


def _add_node(ctx: NodeContext, box: Toolbox, node_id: str) -> None:
    from osop.executors.registry import get_executor

    if not ctx.workflow.has_node(node_id) or node_id == ctx.node.id:
        raise NodeFailure(
            "UNKNOWN_TOOL",
            f"runtime.tools names node {node_id!r}, which is not in the workflow",
            retryable=False,
        )
    target = ctx.workflow.node(node_id)
    inputs = {
        str(i.get("name")): {"type": "string"}
        for i in (target.inputs if isinstance(target.inputs, list) else [])
        if isinstance(i, Mapping) and i.get("name")
    }

    async def call(args: Mapping[str, Any]) -> ToolOutcome:
        runtime = {**dict(target.runtime), **{k: v for k, v in args.items() if k in target.runtime}}
        sub = replace(ctx, node=target, runtime=runtime, inputs=dict(args), attempt=1)
        try:
            result = await get_executor(target.type, ctx.mode).execute(sub)
        except NodeFailure as failure:
            if failure.code in ("NEEDS_APPROVAL", "REJECTED"):
                raise
            return ToolOutcome(f"{failure.code}: {failure.message}", True, "error")
        return ToolOutcome(_clip(json.dumps(result.outputs, default=str)))

    box.add(
        ToolSpec(
            node_id,
            str(target.purpose or target.description or target.label),
            {"type": "object", "properties": inputs},
        ),
        call,
        f"node:{node_id}",
    )


async def open_toolbox(ctx: NodeContext, stack: contextlib.AsyncExitStack) -> Toolbox:
    """The tools of ``runtime.tools``; MCP servers stay up until ``stack`` closes."""
    box = Toolbox()
    entries = ctx.runtime.get("tools") or []
    if not isinstance(entries, list):
        raise NodeFailure("BAD_RUNTIME", "runtime.tools must be a list", retryable=False)
    for entry in entries:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, Mapping):
            raise NodeFailure(
                "BAD_RUNTIME", f"runtime.tools: {entry!r} is not a tool", retryable=False
            )
        if entry.get("mcp") or entry.get("server") or entry.get("server_command"):
            await _add_mcp(ctx, box, entry, stack)
            continue
        if entry.get("node"):
            _add_node(ctx, box, str(entry["node"]))
            continue
        name = str(entry.get("name") or "").removeprefix("osop.")
        if name not in BUILTIN_TOOLS:
            raise NodeFailure(
                "UNKNOWN_TOOL",
                f"runtime.tools: no tool {entry.get('name')!r}; built-ins are "
                f"{', '.join(BUILTIN_TOOLS)}, or use {{mcp: <server>}} / {{node: <id>}}",
                retryable=False,
            )
        description, parameters = BUILTIN_TOOLS[name]
        box.add(ToolSpec(name, description, parameters), _builtin(ctx, name), "osop")
    return box
