from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure, NodeResult
from osop.executors.mcp import McpExecutor

from .helpers import make_ctx, run

SERVER = r"""
import json, sys

def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()

print("fake server starting")  # a banner that is not JSON
sys.stdout.flush()
for line in sys.stdin:
    msg = json.loads(line)
    method = msg.get("method")
    if method == "initialize":
        assert msg["params"]["protocolVersion"]
        send({"jsonrpc": "2.0", "id": msg["id"], "result": {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}}})
    elif method == "notifications/initialized":
        send({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
    elif method == "tools/call":
        name, args = msg["params"]["name"], msg["params"]["arguments"]
        if name == "add":
            total = args["a"] + args["b"]
            send({"jsonrpc": "2.0", "id": msg["id"], "result": {
                "content": [{"type": "text", "text": str(total)}],
                "structuredContent": {"sum": total}}})
        elif name == "fail":
            send({"jsonrpc": "2.0", "id": msg["id"], "result": {
                "content": [{"type": "text", "text": "bad input"}], "isError": True}})
        else:
            send({"jsonrpc": "2.0", "id": msg["id"],
                  "error": {"code": -32602, "message": "unknown tool " + name}})
    elif "id" in msg and "method" not in msg:
        pass  # our ping answered
"""


@pytest.fixture
def server(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_mcp.py"
    script.write_text(SERVER)
    return [sys.executable, str(script)]


def call(runtime: dict[str, Any], tmp_path: Path, **kw: Any) -> NodeResult:
    node = {"id": "m", "type": "mcp", "runtime": runtime}
    return run(McpExecutor().execute(make_ctx(node, tmp_path, **kw)))


def test_tool_call_with_structured_content(tmp_path: Path, server: list[str]) -> None:
    result = call(
        {"server_command": server, "tool": "add", "arguments": {"a": 2, "b": 3}}, tmp_path
    )
    assert result.outputs == {"text": "5", "content": [{"type": "text", "text": "5"}], "sum": 5}


def test_named_server_from_services(tmp_path: Path, server: list[str]) -> None:
    services = {"mcp_servers": {"math": {"command": server}}}
    result = call(
        {"server": "math", "tool": "add", "arguments": {"a": 1, "b": 1}},
        tmp_path,
        services=services,
    )
    assert result.outputs["sum"] == 2


def test_tool_error(tmp_path: Path, server: list[str]) -> None:
    with pytest.raises(NodeFailure) as info:
        call({"server_command": server, "tool": "fail"}, tmp_path)
    assert info.value.code == "MCP_TOOL_ERROR"
    assert "bad input" in info.value.message


def test_jsonrpc_error(tmp_path: Path, server: list[str]) -> None:
    with pytest.raises(NodeFailure) as info:
        call({"server_command": server, "tool": "nope"}, tmp_path)
    assert info.value.code == "MCP_ERROR"
    assert "unknown tool nope" in info.value.message


def test_server_that_exits(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        call({"server_command": [sys.executable, "-c", "pass"], "tool": "x"}, tmp_path)
    assert info.value.code == "MCP_PROTOCOL"


@pytest.mark.parametrize(
    ("runtime", "code"),
    [
        ({"server": "filesystem", "tool": "search"}, "NO_SERVER"),
        ({"tool": "search"}, "NO_SERVER"),
        ({"server_command": ["no-such-mcp-server-xyz"], "tool": "x"}, "NO_TOOL"),
        ({"server_command": "x"}, "BAD_RUNTIME"),
    ],
)
def test_configuration_errors(tmp_path: Path, runtime: dict[str, Any], code: str) -> None:
    with pytest.raises(NodeFailure) as info:
        call(runtime, tmp_path)
    assert info.value.code == code
    assert info.value.retryable is False
