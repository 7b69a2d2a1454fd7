"""The ``mcp`` executor: call one tool on a Model Context Protocol server over stdio.

The server is started for the call and stopped after it (its process group
is terminated, as for ``cli`` nodes).  Which server:

* ``runtime.server_command`` (string or argv list) — started directly;
* else ``runtime.server`` names an entry of ``ctx.services["mcp_servers"]``
  (name → argv list, or ``{command: [...], env: {...}}``), which is how a
  run's configuration maps server names to programs.

``runtime.tool`` (required) and ``runtime.arguments`` (mapping) make the
``tools/call`` request, after the ``initialize`` handshake.  Outputs:
``text`` (the text parts joined), ``content`` (the raw content list) and,
when the server returns ``structuredContent``, its keys.  Failures:
``NO_SERVER``, ``NO_TOOL`` (server program missing), ``MCP_TOOL_ERROR``
(``isError``), ``MCP_ERROR`` (a JSON-RPC error), ``MCP_PROTOCOL`` (the server
broke the protocol or exited).  Only the stdio transport is built in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from osop.executors.approval import enforce
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.cli import child_env, resolve_workdir
from osop.executors.process import KILL_GRACE_SEC, terminate_group
from osop.security import classify_command

__all__ = ["PROTOCOL_VERSION", "McpExecutor", "open_session", "server_command"]

PROTOCOL_VERSION: Final = "2025-03-26"
_MAX_LINE: Final = 16 * 1024 * 1024


def server_command(ctx: NodeContext) -> tuple[list[str], dict[str, str]]:
    rt = ctx.runtime
    command: Any = rt.get("server_command")
    extra_env: dict[str, str] = {}
    if command is None and rt.get("server") is not None:
        servers = ctx.services.get("mcp_servers")
        entry = servers.get(str(rt["server"])) if isinstance(servers, Mapping) else None
        if isinstance(entry, Mapping):
            command = entry.get("command")
            if isinstance(entry.get("env"), Mapping):
                extra_env = {str(k): str(v) for k, v in entry["env"].items()}
        else:
            command = entry
        if command is None:
            raise NodeFailure(
                "NO_SERVER",
                f"MCP server {rt['server']!r} is not configured: give runtime.server_command "
                "or map the name to a command in the run's mcp_servers",
                retryable=False,
            )
    if command is None:
        raise NodeFailure(
            "NO_SERVER", "mcp node needs runtime.server_command or runtime.server", retryable=False
        )
    argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    if not argv:
        raise NodeFailure("NO_SERVER", "the MCP server command is empty", retryable=False)
    return argv, extra_env


class _Session:
    """One initialised connection to a server (see :func:`open_session`)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        request_id = self.next_id
        await self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                raise NodeFailure("MCP_PROTOCOL", f"the MCP server exited during {method}")
            try:
                message = json.loads(line)
            except ValueError:
                continue  # servers sometimes print banners; only JSON lines are messages
            if not isinstance(message, dict):
                continue
            if "method" in message and "id" in message:
                # A request from the server (ping, sampling ...): answer, do not hang.
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
                if message["method"] == "ping":
                    reply["result"] = {}
                else:
                    reply["error"] = {"code": -32601, "message": "not supported by this client"}
                await self.send(reply)
                continue
            if message.get("id") != request_id:
                continue
            if "error" in message:
                error = message["error"] if isinstance(message["error"], Mapping) else {}
                raise NodeFailure(
                    "MCP_ERROR",
                    f"{method}: {error.get('message', 'error')} (code {error.get('code')})",
                )
            return message.get("result")

    async def list_tools(self) -> list[dict[str, Any]]:
        result = await self.request("tools/list", {})
        tools = result.get("tools") if isinstance(result, Mapping) else None
        return [dict(t) for t in tools or [] if isinstance(t, Mapping) and t.get("name")]

    async def call_tool(self, tool: str, arguments: Any) -> Any:
        return await self.request(
            "tools/call",
            {"name": tool, "arguments": dict(arguments) if isinstance(arguments, Mapping) else {}},
        )


@contextlib.asynccontextmanager
async def open_session(
    ctx: NodeContext, argv: list[str], extra_env: Mapping[str, str]
) -> AsyncIterator[_Session]:
    """Start the server, do the ``initialize`` handshake, stop it on the way out."""
    rt = ctx.runtime
    env = child_env(ctx, {**extra_env, **dict(rt.get("env") or {})})
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(resolve_workdir(ctx, rt.get("working_dir"))),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            limit=_MAX_LINE,
        )
    except FileNotFoundError as exc:
        raise NodeFailure(
            "NO_TOOL", f"MCP server program {argv[0]!r} was not found", retryable=False
        ) from exc
    session = _Session(proc)
    try:
        try:
            await session.request(
                "initialize",
                {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "osop", "version": "0.1"},
                },
            )
            await session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            yield session
        except (ConnectionError, BrokenPipeError) as exc:
            raise NodeFailure("MCP_PROTOCOL", f"lost the MCP server: {exc}") from exc
    finally:
        await asyncio.shield(_stop(proc))


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(Exception):
            proc.stdin.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(proc.wait(), timeout=KILL_GRACE_SEC)
    # Whatever is left of the server (or anything it started) goes too.
    await terminate_group(proc, KILL_GRACE_SEC)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()


class McpExecutor:
    node_type = "mcp"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        tool = rt.get("tool")
        if not isinstance(tool, str) or not tool:
            raise NodeFailure("BAD_RUNTIME", "runtime.tool is required", retryable=False)
        arguments = rt.get("arguments", rt.get("args", {}))
        argv, extra_env = server_command(ctx)
        log = enforce(ctx, classify_command(argv), "MCP server command")
        async with open_session(ctx, argv, extra_env) as session:
            result = await session.call_tool(tool, arguments)
        return NodeResult(
            outputs=self._outputs(tool, result), log=[*log, f"called MCP tool {tool}"]
        )

    def _outputs(self, tool: str, result: Any) -> dict[str, Any]:
        if not isinstance(result, Mapping):
            raise NodeFailure("MCP_PROTOCOL", f"tools/call {tool}: the result is not an object")
        raw_content = result.get("content")
        content: list[Any] = raw_content if isinstance(raw_content, list) else []
        text = "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
        )
        if result.get("isError"):
            raise NodeFailure("MCP_TOOL_ERROR", f"MCP tool {tool} failed: {text[:500]}")
        outputs: dict[str, Any] = {"text": text, "content": content}
        structured = result.get("structuredContent")
        if isinstance(structured, Mapping):
            outputs.update(structured)
        return outputs
