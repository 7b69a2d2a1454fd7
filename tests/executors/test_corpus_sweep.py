"""Every node of every corpus workflow, run live by its executor: a result or a NodeFailure, never a crash.

Nothing can reach the outside: HTTP goes to a mock transport, the LLM is the
offline provider, PATH is an empty folder (commands fail with "not found")
and the workdir is a temporary folder.  Dangerous commands stop at
NEEDS_APPROVAL before running.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from corpus_dir import CORPUS

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.registry import get_executor
from osop.format.workflow import workflow_from_dict


def _workflows() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if ".osop" in p.name and not p.name.endswith("log"))


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None


@pytest.mark.slow
@pytest.mark.skipif(not _workflows(), reason="corpus not available")
def test_corpus_nodes_never_crash_an_executor(tmp_path: Path) -> None:
    empty_path = tmp_path / "empty-bin"
    empty_path.mkdir()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    env = {"PATH": str(empty_path), "OSOP_LLM_PROVIDER": "offline", "HOME": str(tmp_path)}
    checked = 0

    async def sweep() -> None:
        nonlocal checked
        for path in _workflows():
            data = _load(path)
            if not isinstance(data, dict):
                continue
            workflow = workflow_from_dict(data)
            for node in workflow.nodes:
                workdir = tmp_path / f"w{checked}"
                workdir.mkdir()
                ctx = NodeContext(
                    run_id="00000000-0000-4000-8000-000000000000",
                    workflow=workflow,
                    node=node,
                    attempt=1,
                    mode="live",
                    runtime=dict(node.runtime),
                    inputs={},
                    workdir=workdir,
                    env=env,
                    services={"http_transport": transport},
                )
                try:
                    result = await asyncio.wait_for(
                        get_executor(node.type, "live").execute(ctx), timeout=20
                    )
                except NodeFailure as failure:
                    assert failure.code and failure.message, (path.name, node.id)
                else:
                    assert isinstance(result, NodeResult), (path.name, node.id)
                checked += 1

    asyncio.run(sweep())
    assert checked > 500
