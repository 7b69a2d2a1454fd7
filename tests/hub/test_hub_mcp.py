"""The MCP tools osop_hub_search and osop_hub_pull, through a real MCP client session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import workflow_text
from hub_servers import live_hub

pytest.importorskip("mcp")

from mcp import Client

from osop.hub.client import HubClient
from osop.mcp import build_server


def _call(server: Any, name: str, arguments: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with Client(server) as client:
            result = await client.call_tool(name, arguments)
            return result.is_error, result.content[0].text

    return asyncio.run(go())


def test_an_agent_searches_and_pulls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from osop.hub.store import HubStore

    monkeypatch.setenv("OSOP_HUB_CONFIG", str(tmp_path / "hub.json"))
    store = HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    token = store.create_token("acme")
    source = tmp_path / "deploy.osop.yaml"
    source.write_text(workflow_text())
    with live_hub(store) as url:
        with HubClient(url, token) as client:
            client.publish("acme/deploy", "1.0.0", source)
        server = build_server(tmp_path / "store", tmp_path / "work")
        error, text = _call(
            server, "osop_hub_search", {"query": "roll out a service", "hub_url": url}
        )
        assert not error, text
        results = json.loads(text)["results"]
        assert [r["package"] for r in results] == ["acme/deploy"]
        assert results[0]["level"] is not None
        error, text = _call(server, "osop_hub_pull", {"package": "acme/deploy", "hub_url": url})
        assert not error, text
        pulled = json.loads(text)
        assert Path(pulled["main"]).read_text() == source.read_text()
        error, text = _call(server, "osop_hub_pull", {"package": "acme/none", "hub_url": url})
        assert error and "no package acme/none" in text
    store.close()


def test_an_unreachable_hub_is_a_tool_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub_servers import free_port

    monkeypatch.setenv("OSOP_HUB_CONFIG", str(tmp_path / "hub.json"))
    server = build_server(tmp_path / "store", tmp_path / "work")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    error, text = _call(server, "osop_hub_search", {"query": "deploy", "hub_url": url})
    assert error and f"cannot reach the hub at {url}" in text
